import { randomUUID } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda'
import { GATEWAY_ERROR_BY_TYPE, gatewayErrorBody } from '../shared/http/gateway-errors.ts'
import { type RateLimit, rateLimitedBody } from '../shared/http/rate-limit.ts'
import type { Route } from '../shared/http/routes.ts'
import { lambdaContext } from './lambda-context.ts'
import { createRateLimiter, type RateLimiter } from './rate-limiter.ts'
import { closeServer, listen } from './server-lifecycle.ts'

/** A Lambda proxy handler as the functions export it. */
export type ProxyHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>

/** API Gateway's own payload limit: the gateway refuses larger bodies before any function runs. */
export const GATEWAY_MAX_BODY_BYTES = 10 * 1024 * 1024

/**
 * How long a request may take to arrive, headers and body: API Gateway's integration timeout
 * (29 s). Node's own default holds a slow client's connection for 300 s.
 */
export const GATEWAY_REQUEST_TIMEOUT_MS = 29_000

interface RouteMatch {
  route: Route
  pathParameters: Record<string, string> | null
}

function matchPath(template: string, path: string): Record<string, string> | null | false {
  const expected = template.split('/')
  const actual = path.split('/')
  if (expected.length !== actual.length) return false
  const parameters: Record<string, string> = Object.create(null)
  for (const [index, segment] of expected.entries()) {
    const value = actual[index] ?? ''
    const parameter = /^\{(\w+)\}$/.exec(segment)?.[1]
    if (parameter) {
      if (!value) return false
      parameters[parameter] = decodeURIComponent(value)
    } else if (segment !== value) {
      return false
    }
  }
  return Object.keys(parameters).length > 0 ? parameters : null
}

// answers as the deployed API's gateway responses do (shared/http/gateway-errors.ts): with API
// Gateway's x-amzn-requestid, never x-request-id (a gateway response cannot map the request id
// into a header, so only the functions' own responses carry it).
function gatewayError(
  response: ServerResponse,
  responseType: string,
  requestId: string,
  extraHeaders: Record<string, string> = {},
) {
  const error = GATEWAY_ERROR_BY_TYPE.get(responseType)
  if (!error) throw new Error(`no gateway response for ${responseType}`)
  response.writeHead(error.status, {
    'content-type': 'application/json',
    'x-amzn-requestid': requestId,
    ...error.headers,
    ...extraHeaders,
  })
  response.end(gatewayErrorBody(error, requestId))
}

async function readBody(request: IncomingMessage, maxBytes: number): Promise<Buffer | 'too large'> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of request) {
    size += (chunk as Buffer).length
    if (size > maxBytes) return 'too large'
    chunks.push(chunk as Buffer)
  }
  return Buffer.concat(chunks)
}

// maps without a prototype: a header or query parameter named `constructor`, `toString` or
// `__proto__` is just a name, never a member of Object.prototype (threat: a request that crashes
// the gateway, or rewrites an event map's prototype, before any authentication)
function emptyMap<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>
}

function toEvent(
  request: IncomingMessage,
  url: URL,
  match: RouteMatch,
  body: Buffer,
  requestId: string,
): APIGatewayProxyEvent {
  const headers = emptyMap<string>()
  const multiValueHeaders = emptyMap<string[]>()
  // header names are case-insensitive: every value of one header under the name it first came as
  const firstName = emptyMap<string>()
  for (let index = 0; index < request.rawHeaders.length; index += 2) {
    const sent = request.rawHeaders[index] as string
    const value = request.rawHeaders[index + 1] as string
    const lower = sent.toLowerCase()
    firstName[lower] ??= sent
    const name = firstName[lower] as string
    headers[name] = value
    multiValueHeaders[name] = [...(multiValueHeaders[name] ?? []), value]
  }
  const query = emptyMap<string>()
  const multiValueQuery = emptyMap<string[]>()
  for (const [name, value] of url.searchParams) {
    query[name] = value
    multiValueQuery[name] = [...(multiValueQuery[name] ?? []), value]
  }
  const hasQuery = Object.keys(query).length > 0
  return {
    resource: match.route.path,
    path: url.pathname,
    httpMethod: request.method ?? 'GET',
    headers,
    multiValueHeaders,
    queryStringParameters: hasQuery ? query : null,
    multiValueQueryStringParameters: hasQuery ? multiValueQuery : null,
    pathParameters: match.pathParameters,
    stageVariables: null,
    body: body.length > 0 ? body.toString('utf8') : null,
    isBase64Encoded: false,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      authorizer: null,
      protocol: `HTTP/${request.httpVersion}`,
      httpMethod: request.method ?? 'GET',
      identity: {
        sourceIp: request.socket.remoteAddress ?? '127.0.0.1',
      } as APIGatewayProxyEvent['requestContext']['identity'],
      path: url.pathname,
      stage: 'local',
      requestId,
      requestTimeEpoch: Date.now(),
      resourceId: 'local',
      resourcePath: match.route.path,
    },
  }
}

/** Another API served on the gateway's port (the Lambda Invoke API): it answers the paths it claims. */
export interface GatewayMount {
  claims(pathname: string): boolean
  serve(request: IncomingMessage, response: ServerResponse): Promise<void>
}

// answers as the deployed web ACL's rate rules do (infra/constructs/api-web-acl.ts)
function rateLimited(response: ServerResponse, retryAfterSeconds: number, requestId: string) {
  response.writeHead(429, {
    'content-type': 'application/json',
    'retry-after': String(retryAfterSeconds),
    'x-amzn-requestid': requestId,
  })
  response.end(JSON.stringify(rateLimitedBody()))
}

// like the web ACL's per-key rule: counted before routing, per Authorization header value;
// a request without one is not counted (the deployed per-IP rule has no local counterpart: every
// local client shares the loopback address).
function checkRateLimit(limiter: RateLimiter | undefined, request: IncomingMessage) {
  const authorization = request.headers.authorization
  if (limiter === undefined || authorization === undefined) return { allowed: true } as const
  // lower-cased, as the web ACL's rule counts it
  return limiter.take(authorization.toLowerCase(), Date.now())
}

// the path only: a query string is the client's, and could hold anything
function logWhenDone(
  request: IncomingMessage,
  response: ServerResponse,
  requestId: string,
  requestLog: (line: string) => void,
) {
  const started = performance.now()
  response.once('close', () => {
    const path = (request.url ?? '/').split('?')[0]
    const status = response.writableFinished ? String(response.statusCode) : 'closed'
    const ms = Math.round(performance.now() - started)
    requestLog(`${request.method} ${path} ${status} ${ms}ms ${requestId}`)
  })
}

/** Options of {@link startHttpGateway}. */
export interface HttpGatewayOptions {
  routes: readonly Route[]
  loadHandler: (route: Route) => Promise<ProxyHandler>
  /** A function's timeout, for its context. @default its deployed one (infra/function-timeouts.ts) */
  timeoutMs?: (functionName: string) => number
  /** APIs that answer their own paths before the route table is consulted. */
  mounts?: readonly GatewayMount[]
  host?: string
  /** 0 picks a free port. */
  port?: number
  /** Requests each API key may make per window, as the deployed web ACL allows; none when absent. */
  rateLimit?: RateLimit
  /** Bodies over this are refused with 413; default API Gateway's 10 MB. */
  maxBodyBytes?: number
  /**
   * How long a request's headers and body may take to arrive before the connection is closed;
   * default API Gateway's 29 s.
   */
  requestTimeoutMs?: number
  /** Called with one line per request: method, path, status, milliseconds and request id. */
  requestLog?: (line: string) => void
}

/** A running local API Gateway. */
export interface HttpGateway {
  baseUrl: string
  server: Server
  close(): Promise<void>
}

/**
 * Serves the route table the way API Gateway's Lambda proxy integration does: the same REST
 * (v1) proxy events, the same handlers, the 10 MB payload limit; with `rateLimit`, also the web
 * ACL's per-key limit in front of it all.
 */
export async function startHttpGateway({
  routes,
  loadHandler,
  timeoutMs,
  mounts = [],
  host = '127.0.0.1',
  port = 0,
  maxBodyBytes = GATEWAY_MAX_BODY_BYTES,
  requestTimeoutMs = GATEWAY_REQUEST_TIMEOUT_MS,
  requestLog,
  rateLimit,
}: HttpGatewayOptions): Promise<HttpGateway> {
  const limiter = rateLimit === undefined ? undefined : createRateLimiter(rateLimit)
  const serverOptions = {
    requestTimeout: requestTimeoutMs,
    headersTimeout: requestTimeoutMs,
    // node checks the two timeouts only this often (default every 30 s)
    connectionsCheckingInterval: Math.max(10, Math.min(1_000, Math.floor(requestTimeoutMs / 4))),
  }
  const server = createServer(serverOptions, async (request, response) => {
    const requestId = randomUUID()
    if (requestLog) logWhenDone(request, response, requestId, requestLog)
    try {
      const url = new URL(request.url ?? '/', 'http://localhost')
      // the Lambda Invoke API is no part of API Gateway, so its rate rules do not apply to it
      const mount = mounts.find((candidate) => candidate.claims(url.pathname))
      if (mount) return await mount.serve(request, response)
      const decision = checkRateLimit(limiter, request)
      if (!decision.allowed) {
        request.resume()
        return rateLimited(response, decision.retryAfterSeconds, requestId)
      }
      // as API Gateway matches: a fixed segment before a {parameter} (…/external-id before …/{id})
      const candidates = routes
        .flatMap((route) => {
          const pathParameters = matchPath(route.path, url.pathname)
          return pathParameters === false ? [] : [{ route, pathParameters }]
        })
        .sort(
          (a, b) => Object.keys(a.pathParameters ?? {}).length - Object.keys(b.pathParameters ?? {}).length,
        )
      // API Gateway answers an unknown path, or a known path with another method, alike
      const match = candidates.find((candidate) => candidate.route.method === request.method)
      if (!match) return gatewayError(response, 'MISSING_AUTHENTICATION_TOKEN', requestId)
      const body = await readBody(request, maxBodyBytes)
      // the rest of the body is never read, so the connection cannot carry another request
      if (body === 'too large') {
        return gatewayError(response, 'REQUEST_TOO_LARGE', requestId, { connection: 'close' })
      }

      const handler = await loadHandler(match.route)
      const result = await handler(
        toEvent(request, url, match, body, requestId),
        lambdaContext(match.route.functionName, requestId, timeoutMs?.(match.route.functionName)),
      )
      const headers: Record<string, string | string[]> = { ...result.multiValueHeaders } as Record<
        string,
        string[]
      >
      for (const [name, value] of Object.entries(result.headers ?? {})) headers[name] = String(value)
      // API Gateway names every response with its own request id too
      headers['x-amzn-requestid'] = requestId
      response.writeHead(result.statusCode, headers)
      response.end(result.isBase64Encoded ? Buffer.from(result.body, 'base64') : result.body)
    } catch (error) {
      // a path API Gateway cannot decode is a client error; a handler that throws is an integration
      // failure. nothing of the error is shown, and only its name is logged.
      // a connection node closed (a request over the time bound) or that the client dropped. not
      // request.destroyed: a request whose body was read to its end is destroyed too (autoDestroy)
      if (response.headersSent || request.socket.destroyed) return response.destroy()
      if (error instanceof URIError) return gatewayError(response, 'DEFAULT_4XX', requestId)
      process.stderr.write(`local gateway: handler failed (${(error as Error)?.name ?? typeof error})\n`)
      gatewayError(response, 'INTEGRATION_FAILURE', requestId)
    }
  })
  const boundPort = await listen(server, host, port)
  return {
    baseUrl: `http://${host}:${boundPort}`,
    server,
    close: () => closeServer(server),
  }
}
