import { createRequire } from 'node:module'
import { pathToFileURL } from 'node:url'
import { Worker } from 'node:worker_threads'
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb'
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams'
import { PUBLISHER_EVENT_SOURCE } from '../infra/publisher-event-source.ts'
import type { LocalFunctions } from './local-functions.ts'
import { fileCheckpoints, memoryCheckpoints } from './stream-checkpoints.ts'
import {
  type StreamFailure,
  type StreamPoller,
  type StreamPollerOptions,
  startStreamPoller,
} from './stream-poller.ts'
import { createStreamReader } from './stream-reader.ts'

/** Options of {@link startChangeEventStream}. */
export interface ChangeEventStreamOptions {
  /** DynamoDB's endpoint; DynamoDB Local serves the Streams API on the same one. */
  dynamoDbEndpoint: string
  region: string
  tableName: string
  functions: LocalFunctions
  /** Keeps the stream position in this file across restarts (under LOCAL_DATA_DIR); this run only when absent. */
  checkpointFile?: string
  /** Test seams of the poller (polling interval, retry delays, where it prints). */
  poller?: Pick<StreamPollerOptions, 'pollIntervalMs' | 'discoverIntervalMs' | 'retryDelayMs' | 'print'>
}

/** The running mapping of the table's stream to the publisher. */
export interface ChangeEventStream {
  streamArn: string
  poller: StreamPoller
  close(): Promise<void>
}

/**
 * Drives the real `publish-credential-events` function (sources or bundle) from the table's
 * stream, with the deployed event source mapping's settings (infra/publisher-event-source.ts).
 */
export async function startChangeEventStream(options: ChangeEventStreamOptions): Promise<ChangeEventStream> {
  const client = {
    endpoint: options.dynamoDbEndpoint,
    region: options.region,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  }
  const dynamo = new DynamoDBClient(client)
  let streamArn: string | undefined
  try {
    const { Table } = await dynamo.send(new DescribeTableCommand({ TableName: options.tableName }))
    streamArn = Table?.LatestStreamArn
  } finally {
    dynamo.destroy()
  }
  if (!streamArn) throw new Error(`table ${options.tableName} has no stream; it must be NEW_AND_OLD_IMAGES`)
  const streams = new DynamoDBStreamsClient(client)
  const { functionName } = PUBLISHER_EVENT_SOURCE
  const poller = startStreamPoller({
    reader: createStreamReader(streams),
    streamArn,
    functionName,
    loadHandler: () => options.functions.load(functionName),
    timeoutMs: options.functions.timeoutMs(functionName),
    settings: PUBLISHER_EVENT_SOURCE,
    checkpoints: options.checkpointFile ? fileCheckpoints(options.checkpointFile) : memoryCheckpoints(),
    ...options.poller,
  })
  return {
    streamArn,
    poller,
    async close() {
      await poller.close()
      streams.destroy()
    },
  }
}

/** The stream poller running in a worker thread of its own ({@link startChangeEventWorker}). */
export interface ChangeEventWorker {
  streamArn: string
  /** Whether every shard has been read to its current end and handed to the publisher. */
  caughtUp(): Promise<boolean>
  /** The local on-failure list so far. */
  failures(): Promise<StreamFailure[]>
  close(): Promise<void>
}

interface WorkerAnswer {
  caughtUp: boolean
  failures: StreamFailure[]
}

type WorkerMessage =
  | { type: 'ready'; streamArn: string }
  | { type: 'failed'; message: string }
  | ({ type?: undefined; id: number } & Partial<WorkerAnswer>)

const NO_ANSWER: WorkerAnswer = { caughtUp: false, failures: [] }

// tsx's loader, so the worker runs the TypeScript sources whatever started this process
const TSX_LOADER = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href

/**
 * Starts {@link startChangeEventStream} in a worker thread: on Lambda the publisher runs in a
 * container of its own, and in this process its module-scope logger would take on (and reset)
 * the Lambda context of whichever API function is running at the same time. The worker gets a
 * copy of the environment the functions were configured with.
 */
export async function startChangeEventWorker(
  options: Omit<ChangeEventStreamOptions, 'functions' | 'poller'> & { bundlesDir?: string },
): Promise<ChangeEventWorker> {
  const worker = new Worker(new URL('./change-event-worker.ts', import.meta.url), {
    workerData: options,
    execArgv: ['--import', TSX_LOADER],
  })
  let nextId = 0
  let exited = false
  const pending = new Map<number, (answer: WorkerAnswer) => void>()
  // a worker that died answers nothing more: whoever waits gets an empty answer, never a hang
  worker.once('exit', () => {
    exited = true
    for (const resolve of pending.values()) resolve(NO_ANSWER)
    pending.clear()
  })
  const ready = new Promise<string>((resolve, reject) => {
    worker.on('message', (message: WorkerMessage) => {
      if (message.type === 'ready') resolve(message.streamArn)
      else if (message.type === 'failed') reject(new Error(message.message))
      else {
        pending.get(message.id)?.({ ...NO_ANSWER, ...message })
        pending.delete(message.id)
      }
    })
    worker.once('error', reject)
    worker.once('exit', (code) => reject(new Error(`the change event worker exited with ${code}`)))
  })
  const ask = (type: 'state' | 'close') =>
    new Promise<WorkerAnswer>((resolve) => {
      if (exited) return resolve(NO_ANSWER)
      nextId += 1
      pending.set(nextId, resolve)
      worker.postMessage({ id: nextId, type })
    })
  let streamArn: string
  try {
    streamArn = await ready
  } catch (error) {
    await worker.terminate()
    throw error
  }
  return {
    streamArn,
    caughtUp: async () => (await ask('state')).caughtUp,
    failures: async () => (await ask('state')).failures,
    async close() {
      await ask('close')
      await worker.terminate()
    },
  }
}
