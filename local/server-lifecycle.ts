import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'

/** Starts listening on `host:port` (0 picks a free port) and answers the port it got. */
export async function listen(server: Server, host = '127.0.0.1', port = 0): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  return (server.address() as AddressInfo).port
}

/**
 * Stops a server at once: the AWS SDK and fetch keep connections alive, and without closing them
 * `close` would wait for them to idle out.
 */
export function closeServer(server: Server): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.close((error) => (error ? reject(error) : resolve()))
    server.closeAllConnections()
  })
}
