import { createServer, request as httpRequest } from 'node:http'
import { closeServer, listen } from '../../local/server-lifecycle.ts'

/** An AWS JSON-protocol error to answer with. */
export interface InjectedFault {
  status: number
  /** `__type` of the error, e.g. `ThrottlingException`. */
  type: string
  message?: string
}

/** A proxy in front of a local AWS-protocol server that can fail chosen operations. */
export interface FaultProxy {
  endpoint: string
  /** Every call of `operation` (the X-Amz-Target suffix, e.g. `PutItem`) fails with `fault`. */
  fail(operation: string, fault: InjectedFault): void
  /** Every call of `operation` has its connection dropped, as a network failure would. */
  drop(operation: string): void
  /** Stops failing anything. */
  heal(): void
  /** Calls of `operation` that reached the proxy. */
  attempts(operation: string): number
  /** The JSON bodies of the calls of `operation` that reached the proxy, oldest first. */
  requests(operation: string): Record<string, unknown>[]
  close(): Promise<void>
}

/**
 * Starts a pass-through proxy to `upstream`. The SDK sees real wire-format errors from it, so
 * its retry and error classification run exactly as against AWS.
 */
export async function startFaultProxy(upstream: string): Promise<FaultProxy> {
  const target = new URL(upstream)
  const faults = new Map<string, InjectedFault | 'drop'>()
  const attempts = new Map<string, number>()
  const bodies = new Map<string, Record<string, unknown>[]>()
  const server = createServer((request, response) => {
    const operation = String(request.headers['x-amz-target'] ?? '').split('.')[1] ?? ''
    attempts.set(operation, (attempts.get(operation) ?? 0) + 1)
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      try {
        bodies.set(operation, [
          ...(bodies.get(operation) ?? []),
          JSON.parse(Buffer.concat(chunks).toString('utf8')),
        ])
      } catch {
        // not JSON: nothing to record
      }
    })
    const fault = faults.get(operation)
    if (fault === 'drop') {
      request.socket.destroy()
      return
    }
    if (fault) {
      request.resume()
      response.writeHead(fault.status, { 'content-type': 'application/x-amz-json-1.0' })
      response.end(JSON.stringify({ __type: fault.type, message: fault.message ?? 'injected fault' }))
      return
    }
    const forwarded = httpRequest(
      {
        host: target.hostname,
        port: target.port,
        path: request.url,
        method: request.method,
        headers: request.headers,
      },
      (upstreamResponse) => {
        response.writeHead(upstreamResponse.statusCode ?? 502, upstreamResponse.headers)
        upstreamResponse.pipe(response)
      },
    )
    forwarded.on('error', () => response.destroy())
    request.pipe(forwarded)
  })
  const port = await listen(server)
  return {
    endpoint: `http://127.0.0.1:${port}`,
    fail: (operation, fault) => faults.set(operation, fault),
    drop: (operation) => faults.set(operation, 'drop'),
    heal: () => faults.clear(),
    attempts: (operation) => attempts.get(operation) ?? 0,
    requests: (operation) => bodies.get(operation) ?? [],
    close: () => closeServer(server),
  }
}
