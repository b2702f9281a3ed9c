import { randomUUID } from 'node:crypto'
import http from 'node:http'
import type { Context } from 'aws-lambda'
import { DEFAULT_FUNCTION_TIMEOUT_MS, lambdaContext } from './lambda-context.ts'
import { closeServer, listen } from './server-lifecycle.ts'

/**
 * A small stand-in for Lambda's Invoke API (`POST /2015-03-31/functions/{name}/invocations`) for
 * the internal functions, so the public verify function reaches the internal verifier locally
 * through the same `@aws-sdk/client-lambda` adapter it uses on AWS (`AWS_ENDPOINT_URL_LAMBDA`).
 * RequestResponse answers the handler's result (an unhandled error as `X-Amz-Function-Error:
 * Unhandled`); Event answers 202 and runs the handler detached. It is replaced by the local
 * stack's full Invoke API on the gateway's port once that lands (issue 8).
 */

/** A running stand-in. */
export interface LambdaInvokeStandIn {
  /** `http://host:port`, for `AWS_ENDPOINT_URL_LAMBDA`. */
  endpoint: string
  close(): Promise<void>
}

type InternalHandler = (event: unknown, context: Context) => Promise<unknown>

const INVOKE_PATH = /^\/2015-03-31\/functions\/([A-Za-z0-9_-]{1,64})\/invocations$/
/** As on Lambda: the verifier and the resolve function's 10 s and 30 s, the health run's 10 min. */
const TIMEOUT_MS: Record<string, number> = {
  'credential-verifier': 10_000,
  'resolve-docker-registry': 30_000,
  'health-check': 600_000,
}

function readBody(request: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    request.on('error', reject)
  })
}

/** Starts the stand-in for the internal functions (`functions/<name>/handler.ts`). */
export async function startLambdaInvokeStandIn(
  options: { host?: string; port?: number } = {},
): Promise<LambdaInvokeStandIn> {
  const handlers = new Map<string, Promise<InternalHandler>>()
  const load = (name: string) => {
    let handler = handlers.get(name)
    if (!handler) {
      const url = new URL(`../functions/${name}/handler.ts`, import.meta.url)
      handler = import(url.href).then((module: { handler: InternalHandler }) => module.handler)
      handlers.set(name, handler)
    }
    return handler
  }
  const invoke = async (name: string, payload: string) => {
    const handler = await load(name)
    return handler(
      payload === '' ? {} : JSON.parse(payload),
      lambdaContext(name, randomUUID(), TIMEOUT_MS[name] ?? DEFAULT_FUNCTION_TIMEOUT_MS),
    )
  }

  const server = http.createServer(async (request, response) => {
    const name = INVOKE_PATH.exec(new URL(request.url ?? '/', 'http://local').pathname)?.[1]
    const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
      response.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body))
    if (request.method !== 'POST' || !name || !(name in TIMEOUT_MS)) {
      json(
        404,
        { Type: 'User', message: 'Function not found' },
        { 'x-amzn-errortype': 'ResourceNotFoundException' },
      )
      return
    }
    const payload = await readBody(request)
    if (request.headers['x-amz-invocation-type'] === 'Event') {
      response.writeHead(202).end()
      invoke(name, payload).catch((error: unknown) => {
        process.stderr.write(`local invoke of ${name} (Event) failed: ${(error as Error).name}\n`)
      })
      return
    }
    try {
      json(200, (await invoke(name, payload)) ?? null)
    } catch (error) {
      const { name: errorType = 'Error', message = '' } = error as Error
      json(200, { errorType, errorMessage: message }, { 'x-amz-function-error': 'Unhandled' })
    }
  })
  const port = await listen(server, options.host ?? '127.0.0.1', options.port ?? 0)
  return {
    endpoint: `http://${options.host ?? '127.0.0.1'}:${port}`,
    close: () => closeServer(server),
  }
}
