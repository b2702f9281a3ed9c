import type { APIGatewayProxyResult } from 'aws-lambda'
import {
  AuthenticationError,
  ConcurrentUpdateError,
  CredentialLimitReachedError,
  CredentialNotFoundError,
  DependencyUnavailableError,
  IdempotencyKeyReusedError,
  type InputIssue,
  InvalidInputError,
  PermissionDeniedError,
} from '../domain/errors.ts'
import { VerificationFailedError, type VerificationStatus } from '../domain/verify-credential.ts'
import { json } from './responses.ts'

/** The request body is larger than the API accepts. */
export class RequestBodyTooLargeError extends Error {
  override readonly name = 'RequestBodyTooLargeError'
  constructor(readonly limitBytes: number) {
    super(`Request body exceeds ${limitBytes} bytes`)
  }
}

/** The Sevalla v3 error body, with our one extension: `data.issues` on validation errors. */
export interface ErrorBody {
  message: string
  status: number
  data: { code: string; message: string; issues?: InputIssue[]; result?: VerificationStatus }
}

/** A mapped error: the response, and whether it is our fault (logged as an error). */
export interface MappedError {
  response: APIGatewayProxyResult
  serverFault: boolean
}

function errorResponse(
  status: number,
  message: string,
  data: ErrorBody['data'],
  headers: Record<string, string> = {},
): APIGatewayProxyResult {
  const body: ErrorBody = { message, status, data }
  return json(status, body, headers)
}

/** `text` as a sentence: with its full stop, so that a second sentence can follow it. */
export function asSentence(text: string): string {
  const trimmed = text.trimEnd()
  return /[.!?]$/.test(trimmed) ? trimmed : `${trimmed}.`
}

// middy gives up shortly before Lambda's timeout: something we waited on was too slow
function isMiddyTimeout(error: unknown): boolean {
  return (
    error instanceof Error &&
    error.name === 'TimeoutError' &&
    (error.cause as { package?: unknown } | undefined)?.package === '@middy/core'
  )
}

// middy's JSON body parser throws HttpErrors: 415 for a non-JSON content type, 422 for a body that
// does not parse (we answer 400, as the contract does for every malformed input).
function isMiddyHttpError(error: unknown): error is Error & { statusCode: number } {
  return error instanceof Error && typeof (error as { statusCode?: unknown }).statusCode === 'number'
}

/**
 * The one mapping from errors to statuses and Sevalla error bodies. Bodies say only what is safe
 * to show: never a received value, never an internal message.
 */
export function mapError(error: unknown, requestId: string): MappedError {
  if (error instanceof InvalidInputError) {
    const details = error.issues.map((issue) =>
      issue.path ? `${issue.path}: ${issue.message}` : issue.message,
    )
    return {
      serverFault: false,
      response: errorResponse(400, error.message, {
        code: 'validation_failed',
        message: details.join('; '),
        issues: error.issues,
      }),
    }
  }
  if (error instanceof VerificationFailedError) {
    return {
      serverFault: false,
      response: errorResponse(400, 'Registry verification failed', {
        code: 'verification_failed',
        message: `${asSentence(error.result.message)} The credential was not stored.`,
        result: error.result.status,
      }),
    }
  }
  if (error instanceof ConcurrentUpdateError) {
    return {
      serverFault: false,
      response: errorResponse(
        409,
        'Conflict',
        {
          code: 'concurrent_update',
          message: 'The credential kept changing while this update ran; retry it.',
        },
        { 'retry-after': '1' },
      ),
    }
  }
  if (error instanceof IdempotencyKeyReusedError) {
    return {
      serverFault: false,
      response: errorResponse(422, 'Unprocessable content', {
        code: 'idempotency_key_reused',
        message: 'This Idempotency-Key was already used with a different request; use a new key.',
      }),
    }
  }
  if (error instanceof CredentialLimitReachedError) {
    return {
      serverFault: false,
      response: errorResponse(409, 'Conflict', {
        code: 'credential_limit_reached',
        message: `This company already holds ${error.limit} Docker registry credentials, the most it may; delete one first.`,
      }),
    }
  }
  if (error instanceof AuthenticationError) {
    return {
      serverFault: false,
      response: errorResponse(
        401,
        'Unauthorized',
        {
          code: 'unauthorized',
          message: 'Provide a valid, enabled API key as "Authorization: Bearer <key>".',
        },
        { 'www-authenticate': 'Bearer realm="docker-registries"' },
      ),
    }
  }
  if (error instanceof PermissionDeniedError) {
    return {
      serverFault: false,
      response: errorResponse(403, 'Forbidden', {
        code: 'forbidden',
        message: `This API key lacks the ${error.permission} permission.`,
      }),
    }
  }
  if (error instanceof CredentialNotFoundError) {
    return {
      serverFault: false,
      response: errorResponse(404, 'Not found', {
        code: 'not_found',
        message: 'No Docker registry credential with this id exists.',
      }),
    }
  }
  if (error instanceof RequestBodyTooLargeError) {
    return {
      serverFault: false,
      response: errorResponse(413, 'Payload too large', {
        code: 'payload_too_large',
        message: `The request body must be at most ${error.limitBytes} bytes.`,
      }),
    }
  }
  if (isMiddyHttpError(error) && error.statusCode === 415) {
    return {
      serverFault: false,
      response: errorResponse(415, 'Unsupported media type', {
        code: 'unsupported_media_type',
        message: 'Send the request body as JSON with "Content-Type: application/json".',
      }),
    }
  }
  if (isMiddyHttpError(error) && error.statusCode === 422) {
    return {
      serverFault: false,
      response: errorResponse(400, 'Bad request', {
        code: 'invalid_json',
        message: 'The request body is not valid JSON.',
      }),
    }
  }
  const support = `If you need assistance, contact support and quote request id ${requestId}.`
  if (error instanceof DependencyUnavailableError || isMiddyTimeout(error)) {
    return {
      serverFault: true,
      response: errorResponse(
        503,
        'Service unavailable',
        { code: 'service_unavailable', message: `Please retry shortly. ${support}` },
        { 'retry-after': String(error instanceof DependencyUnavailableError ? error.retryAfterSeconds : 1) },
      ),
    }
  }
  return {
    serverFault: true,
    response: errorResponse(500, 'Internal Server Error', { code: 'internal_error', message: support }),
  }
}

/**
 * What may be logged of an error: name, message, stack and AWS request metadata, never `cause`
 * (the JSON body parser keeps the raw body, secret included, in `cause.data`).
 */
export function describeError(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { name: typeof error }
  const metadata = (error as { $metadata?: { httpStatusCode?: number; requestId?: string } }).$metadata
  return {
    name: error.name,
    message: error.message,
    stack: error.stack,
    ...(metadata ? { awsStatus: metadata.httpStatusCode, awsRequestId: metadata.requestId } : {}),
    ...(error.cause instanceof Error && !isMiddyHttpError(error)
      ? { cause: describeError(error.cause) }
      : {}),
  }
}
