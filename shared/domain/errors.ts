/**
 * Domain errors. They say what went wrong in the domain's words and carry no HTTP: the one mapper
 * in `shared/http/error-response.ts` turns them into statuses and Sevalla error bodies.
 */

/** One failing field of an input, named by its dot path (`username`, `limit`, or `` for the whole). */
export interface InputIssue {
  path: string
  message: string
}

/** The input does not satisfy its schema. The issue messages never quote the received value. */
export class InvalidInputError extends Error {
  override readonly name = 'InvalidInputError'
  constructor(
    readonly issues: InputIssue[],
    message = 'Bad request',
  ) {
    super(message)
  }
}

/** No credential with this id exists for this company (also when it exists for another one). */
export class CredentialNotFoundError extends Error {
  override readonly name = 'CredentialNotFoundError'
  constructor() {
    super('Docker registry credential not found')
  }
}

/** Why a caller could not be authenticated. */
export type AuthenticationFailure = 'missing' | 'malformed' | 'unknown' | 'disabled' | 'expired'

/** The caller presented no usable API key. */
export class AuthenticationError extends Error {
  override readonly name = 'AuthenticationError'
  constructor(readonly reason: AuthenticationFailure) {
    super(`API key ${reason}`)
  }
}

/** The caller's API key lacks the permission the operation needs. */
export class PermissionDeniedError extends Error {
  override readonly name = 'PermissionDeniedError'
  constructor(readonly permission: string) {
    super(`API key lacks ${permission}`)
  }
}

/** A dependency (KMS, DynamoDB) is throttling or unreachable; the same call may succeed later. */
export class DependencyUnavailableError extends Error {
  override readonly name = 'DependencyUnavailableError'
  constructor(
    readonly dependency: string,
    readonly retryAfterSeconds: number,
    options?: { cause?: unknown },
  ) {
    super(`${dependency} is unavailable`, options)
  }
}

/** An Idempotency-Key was used again with a different request. */
export class IdempotencyKeyReusedError extends Error {
  override readonly name = 'IdempotencyKeyReusedError'
  constructor() {
    super('Idempotency-Key was already used with a different request')
  }
}

/** The company already holds as many credentials as it may. */
export class CredentialLimitReachedError extends Error {
  override readonly name = 'CredentialLimitReachedError'
  constructor(readonly limit: number) {
    super(`the company already holds ${limit} credentials`)
  }
}

/** The credential changed between reading and writing it, more often than an update retries. */
export class ConcurrentUpdateError extends Error {
  override readonly name = 'ConcurrentUpdateError'
  constructor() {
    super('the credential was changed by another request')
  }
}
