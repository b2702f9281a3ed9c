import type { MiddlewareObj, Request } from '@middy/core'
import type { APIGatewayProxyEvent, Context } from 'aws-lambda'
import { type ApiKeyLookup, authenticateApiKey, type Caller, type Permission } from '../../domain/api-key.ts'
import { AuthenticationError, PermissionDeniedError } from '../../domain/errors.ts'
import type { Clock } from '../../domain/ports.ts'

/** What this middleware adds to the Lambda context. */
export interface CallerContext {
  caller: Caller
}

/** Options of {@link authenticate}. */
export interface AuthenticateOptions {
  keys: ApiKeyLookup
  clock: Clock
  /** The permission the operation needs. */
  permission: Permission
}

// one spelling per key: the scheme (case-insensitive, RFC 9110), one space, the key's own
// characters and nothing else. The web ACL's per-key rule counts the header lower-cased, so any
// other spelling of the same key (`Bearer  k`, `Bearer k `) would have been a fresh rate bucket.
const BEARER = /^Bearer ([A-Za-z0-9_-]+)$/i

/**
 * Resolves `Authorization: Bearer <key>` to the calling company and its permissions, and puts
 * them on `context.caller`. The company only ever comes from here, never from the path or body.
 */
export function authenticate({
  keys,
  clock,
  permission,
}: AuthenticateOptions): MiddlewareObj<APIGatewayProxyEvent, unknown, Error, Context & CallerContext> {
  const authenticateBefore = async (
    request: Request<APIGatewayProxyEvent, unknown, Error, Context & CallerContext>,
  ) => {
    const header = request.event.headers?.authorization
    if (!header) throw new AuthenticationError('missing')
    // two Authorization headers: the web ACL may count one and API Gateway hand us the other,
    // so a caller could rotate the counted one to escape its rate limit
    if ((request.event.multiValueHeaders?.authorization?.length ?? 1) > 1) {
      throw new AuthenticationError('malformed')
    }
    const key = BEARER.exec(header)?.[1]
    if (!key) throw new AuthenticationError('malformed')
    const caller = await authenticateApiKey(keys, clock, key)
    if (!caller.permissions.includes(permission)) throw new PermissionDeniedError(permission)
    request.context.caller = caller
  }
  return { before: authenticateBefore }
}
