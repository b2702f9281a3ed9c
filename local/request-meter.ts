import { createServer, request as httpRequest } from 'node:http'
import { closeServer, listen } from './server-lifecycle.ts'

/** A pass-through in front of a local AWS-protocol server that counts the calls it forwards. */
export interface RequestMeter {
  endpoint: string
  /** Calls forwarded, by operation (`TransactWriteItems`, the X-Amz-Target suffix), or all of them. */
  requestCount(operation?: string): number
  close(): Promise<void>
}

/**
 * Starts a counting pass-through to `upstream` on loopback. The local stack puts one in front of
 * DynamoDB Local (a separate process, shared by every test file of a run) so that a stack can
 * count the calls its own functions make, every SDK attempt included.
 */
export async function startRequestMeter(upstream: string): Promise<RequestMeter> {
  const target = new URL(upstream)
  const counts = new Map<string, number>()
  const server = createServer((request, response) => {
    const operation = String(request.headers['x-amz-target'] ?? '').split('.')[1] ?? 'unknown'
    counts.set(operation, (counts.get(operation) ?? 0) + 1)
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
    // the caller sees a dropped connection, as it would if the engine itself had gone away
    forwarded.on('error', () => response.destroy())
    response.on('close', () => {
      if (!response.writableFinished) forwarded.destroy()
    })
    request.pipe(forwarded)
  })
  const port = await listen(server)
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requestCount: (operation) =>
      operation ? (counts.get(operation) ?? 0) : [...counts.values()].reduce((sum, count) => sum + count, 0),
    close: () => closeServer(server),
  }
}
