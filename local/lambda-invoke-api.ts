import { randomUUID } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { lambdaContext } from './lambda-context.ts'
import type { LambdaHandler, LocalFunctions } from './local-functions.ts'

/** Lambda's limit on a synchronous invocation's request and response payloads (6 MB). */
export const SYNC_PAYLOAD_LIMIT_BYTES = 6 * 1024 * 1024

/** Lambda's limit on an asynchronous (`Event`) invocation's payload (1 MB). */
export const ASYNC_PAYLOAD_LIMIT_BYTES = 1024 * 1024

// a client that keeps sending past the limit is cut off here rather than read forever
const DRAIN_LIMIT_BYTES = 4 * SYNC_PAYLOAD_LIMIT_BYTES

const INVOKE_PATH = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/

/** The path prefix the Invoke API answers under. */
export const INVOKE_PATH_PREFIX = '/2015-03-31/functions/'

/** Options of {@link createLambdaInvokeApi}. */
export interface LambdaInvokeApiOptions {
  functions: LocalFunctions
  /** The region in the ARNs of error messages. */
  region: string
  /** Where failures of `Event` invocations are printed (stderr unless given). */
  print?: (line: string) => void
}

/** The Lambda Invoke API, to be served on the local gateway's port. */
export interface LambdaInvokeApi {
  /** Whether a path belongs to the Invoke API. */
  claims(pathname: string): boolean
  serve(request: IncomingMessage, response: ServerResponse): Promise<void>
}

class LambdaServiceError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
  ) {
    super(message)
  }
}

// Lambda's service errors: the type in x-amzn-ErrorType (where the SDK reads it), a user error body
function sendServiceError(response: ServerResponse, error: LambdaServiceError, requestId: string): void {
  const body = Buffer.from(
    JSON.stringify(
      error.type === 'MissingAuthenticationTokenException'
        ? { message: error.message }
        : { Type: 'User', message: error.message },
    ),
  )
  response.writeHead(error.status, {
    'content-type': 'application/json',
    'content-length': body.length,
    'x-amzn-errortype': error.type,
    'x-amzn-requestid': requestId,
  })
  response.end(body)
}

// the SDK signs every request; any credentials are accepted locally, but an unsigned request is
// refused as Lambda refuses it, so a caller that forgot to sign fails here and not first on AWS.
function requireSignature(request: IncomingMessage): void {
  const authorization = request.headers.authorization
  if (!authorization) {
    throw new LambdaServiceError(403, 'MissingAuthenticationTokenException', 'Missing Authentication Token')
  }
  const signed =
    /^AWS4-HMAC-SHA256 /.test(authorization) &&
    /Credential=[^/\s,]+\/\d{8}\/[^/\s,]+\/lambda\/aws4_request/.test(authorization) &&
    /SignedHeaders=[^\s,]+/.test(authorization) &&
    /Signature=[0-9a-f]{64}/.test(authorization)
  if (!signed) {
    throw new LambdaServiceError(
      403,
      'IncompleteSignatureException',
      'The Authorization header must be an AWS Signature Version 4 for the lambda service ' +
        '(AWS4-HMAC-SHA256 Credential=…/lambda/aws4_request, SignedHeaders=…, Signature=…).',
    )
  }
}

// a name, name:qualifier, account:function:name or a full ARN, as Lambda accepts them
function functionNameOf(
  identifier: string,
  queryQualifier: string | null,
): { name: string; qualifier?: string } {
  const parts = identifier.split(':')
  let name: string
  let qualifier: string | undefined
  if (parts[0] === 'arn') {
    name = parts[6] ?? ''
    qualifier = parts[7]
  } else if (parts[1] === 'function') {
    name = parts[2] ?? ''
    qualifier = parts[3]
  } else {
    name = parts[0] ?? ''
    qualifier = parts[1]
  }
  qualifier = queryQualifier ?? qualifier
  return qualifier === undefined ? { name } : { name, qualifier }
}

async function readPayload(request: IncomingMessage, limit: number): Promise<Buffer | 'too large'> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of request) {
    size += (chunk as Buffer).length
    if (size > DRAIN_LIMIT_BYTES) {
      request.destroy()
      return 'too large'
    }
    if (size <= limit) chunks.push(chunk as Buffer)
  }
  return size > limit ? 'too large' : Buffer.concat(chunks)
}

function parsePayload(payload: Buffer): unknown {
  // an invocation without a payload gets an empty object, as on Lambda
  if (payload.length === 0) return {}
  try {
    return JSON.parse(payload.toString('utf8'))
  } catch (error) {
    throw new LambdaServiceError(
      400,
      'InvalidRequestContentException',
      `Could not parse request body into json: ${(error as Error).message}`,
    )
  }
}

/** The payload of an unhandled error, in the Node.js runtime's shape. */
export function unhandledErrorPayload(error: unknown): Record<string, unknown> {
  if (error instanceof Error) {
    return {
      errorType: error.name,
      errorMessage: error.message,
      trace: (error.stack ?? '').split('\n'),
    }
  }
  return { errorType: typeof error, errorMessage: String(error) }
}

class TimedOut extends Error {}

// a module that fails to load is the function's error on Lambda (Runtime.ImportModuleError), not
// the service's: a bundling defect (a missing file, a broken require shim) surfaces as one.
class ImportModuleError extends Error {
  override readonly name = 'Runtime.ImportModuleError'
}

async function loadHandler(functions: LocalFunctions, name: string): Promise<LambdaHandler> {
  try {
    return await functions.load(name)
  } catch (error) {
    throw new ImportModuleError(`${(error as Error)?.name ?? 'Error'}: ${(error as Error)?.message ?? error}`)
  }
}

async function runWithTimeout(
  handler: () => Promise<LambdaHandler>,
  event: unknown,
  functionName: string,
  requestId: string,
  timeoutMs: number,
): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new TimedOut()), timeoutMs)
  })
  try {
    const run = async () => (await handler())(event, lambdaContext(functionName, requestId, timeoutMs))
    return await Promise.race([run(), timeout])
  } finally {
    clearTimeout(timer)
  }
}

/**
 * Answers `POST /2015-03-31/functions/{FunctionName}/invocations` as Lambda's Invoke API does, so
 * the deploy system's `LambdaClient` (or `aws lambda invoke --endpoint-url`) runs the real
 * handlers: `RequestResponse` returns the result (an unhandled error as
 * `X-Amz-Function-Error: Unhandled` with the runtime's error payload), `Event` answers 202 and
 * runs the function detached (failures printed), `DryRun` answers 204. Unknown functions are 404
 * `ResourceNotFoundException`, payloads over Lambda's limits 413 `RequestEntityTooLargeException`,
 * unsigned requests 403. Only `$LATEST` exists.
 */
export function createLambdaInvokeApi({
  functions,
  region,
  print = (line) => process.stderr.write(`${line}\n`),
}: LambdaInvokeApiOptions): LambdaInvokeApi {
  const functionArn = (name: string) => `arn:aws:lambda:${region}:000000000000:function:${name}`

  async function invoke(request: IncomingMessage, response: ServerResponse, requestId: string) {
    const url = new URL(request.url ?? '/', 'http://localhost')
    const identifier = INVOKE_PATH.exec(url.pathname)?.[1]
    if (request.method !== 'POST' || identifier === undefined) {
      throw new LambdaServiceError(404, 'UnknownOperationException', 'Unknown operation')
    }
    requireSignature(request)
    const { name, qualifier } = functionNameOf(
      decodeURIComponent(identifier),
      url.searchParams.get('Qualifier'),
    )
    if (!functions.names.includes(name) || (qualifier !== undefined && qualifier !== '$LATEST')) {
      const qualified = qualifier === undefined ? functionArn(name) : `${functionArn(name)}:${qualifier}`
      throw new LambdaServiceError(404, 'ResourceNotFoundException', `Function not found: ${qualified}`)
    }
    const invocationType = String(request.headers['x-amz-invocation-type'] ?? 'RequestResponse')
    if (!['RequestResponse', 'Event', 'DryRun'].includes(invocationType)) {
      throw new LambdaServiceError(
        400,
        'InvalidParameterValueException',
        'X-Amz-Invocation-Type must be RequestResponse, Event or DryRun',
      )
    }
    const limit = invocationType === 'Event' ? ASYNC_PAYLOAD_LIMIT_BYTES : SYNC_PAYLOAD_LIMIT_BYTES
    const payload = await readPayload(request, limit)
    if (payload === 'too large') {
      response.setHeader('connection', 'close')
      throw new LambdaServiceError(
        413,
        'RequestEntityTooLargeException',
        `Request must be smaller than ${limit} bytes for the InvokeFunction operation`,
      )
    }
    const event = parsePayload(payload)
    if (invocationType === 'DryRun') {
      response.writeHead(204, { 'x-amzn-requestid': requestId })
      return response.end()
    }
    const handler = () => loadHandler(functions, name)
    const timeoutMs = functions.timeoutMs(name)

    if (invocationType === 'Event') {
      response.writeHead(202, { 'x-amzn-requestid': requestId })
      response.end()
      runWithTimeout(handler, event, name, requestId, timeoutMs).catch((error: unknown) => {
        const { errorType, errorMessage } = unhandledErrorPayload(error)
        const what = error instanceof TimedOut ? 'timed out' : `failed: ${errorType}: ${errorMessage}`
        print(`lambda invoke: ${name} (Event, request ${requestId}) ${what}`)
      })
      return
    }

    let body: string
    let functionError = false
    try {
      body = JSON.stringify((await runWithTimeout(handler, event, name, requestId, timeoutMs)) ?? null)
    } catch (error) {
      functionError = true
      body = JSON.stringify(
        error instanceof TimedOut
          ? {
              errorType: 'Sandbox.Timedout',
              errorMessage: `RequestId: ${requestId} Error: Task timed out after ${(timeoutMs / 1000).toFixed(2)} seconds`,
            }
          : unhandledErrorPayload(error),
      )
    }
    if (Buffer.byteLength(body) > SYNC_PAYLOAD_LIMIT_BYTES) {
      functionError = true
      body = JSON.stringify({
        errorType: 'Function.ResponseSizeTooLarge',
        errorMessage: `Response payload size exceeded maximum allowed payload size (${SYNC_PAYLOAD_LIMIT_BYTES} bytes).`,
      })
    }
    response.writeHead(200, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
      'x-amz-executed-version': '$LATEST',
      'x-amzn-requestid': requestId,
      ...(functionError ? { 'x-amz-function-error': 'Unhandled' } : {}),
    })
    response.end(body)
  }

  return {
    claims: (pathname) => pathname.startsWith(INVOKE_PATH_PREFIX),
    async serve(request, response) {
      const requestId = randomUUID()
      try {
        await invoke(request, response, requestId)
      } catch (error) {
        if (response.headersSent) return void response.destroy()
        if (error instanceof LambdaServiceError) return sendServiceError(response, error, requestId)
        print(`lambda invoke: ${request.url} failed (${(error as Error)?.name})`)
        sendServiceError(
          response,
          new LambdaServiceError(500, 'ServiceException', 'The service could not answer the invocation.'),
          requestId,
        )
      }
      if (!request.complete) request.resume()
    },
  }
}
