import { parentPort, workerData } from 'node:worker_threads'
import { bundleFunctions } from './bundle-functions.ts'
import { type ChangeEventStreamOptions, startChangeEventStream } from './change-event-stream.ts'
import { sourceFunctions } from './local-functions.ts'

/** What the worker is started with (structured-cloneable). */
export interface ChangeEventWorkerData extends Omit<ChangeEventStreamOptions, 'functions' | 'poller'> {
  /** The bundles to run the publisher from; the TypeScript sources when absent. */
  bundlesDir?: string
}

/** A request of the local stack to the worker. */
export type ChangeEventWorkerRequest = { id: number; type: 'state' | 'close' }

// the worker thread of the stream poller and the publisher: a container of its own, as on Lambda,
// so the publisher's module-scope logger and metrics never share state with the API's functions.
const port = parentPort
if (port) {
  const data = workerData as ChangeEventWorkerData
  const functions = data.bundlesDir ? bundleFunctions(data.bundlesDir) : sourceFunctions()
  try {
    const stream = await startChangeEventStream({ ...data, functions })
    port.on('message', async (request: ChangeEventWorkerRequest) => {
      if (request.type === 'state') {
        port.postMessage({
          id: request.id,
          caughtUp: stream.poller.caughtUp(),
          failures: stream.poller.failures,
        })
      } else {
        await stream.close()
        port.postMessage({ id: request.id, closed: true })
      }
    })
    port.postMessage({ type: 'ready', streamArn: stream.streamArn })
  } catch (error) {
    port.postMessage({ type: 'failed', message: (error as Error)?.message ?? String(error) })
  }
}
