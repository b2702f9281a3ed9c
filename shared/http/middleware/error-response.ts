import type { Logger } from '@aws-lambda-powertools/logger'
import type { MiddlewareObj, Request } from '@middy/core'
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda'
import { AuthenticationError, PermissionDeniedError } from '../../domain/errors.ts'
import { describeError, mapError } from '../error-response.ts'
import type { RequestIdContext } from './request-id.ts'

// for operators: why a key was refused (missing, unknown, expired...) or which permission it
// lacked. Never a message of another error: those may quote input.
function safeDetail(error: unknown): string | undefined {
  if (error instanceof AuthenticationError) return error.reason
  if (error instanceof PermissionDeniedError) return error.permission
  return undefined
}

/** Options of {@link errorResponse}. */
export interface ErrorResponseOptions {
  logger: Pick<Logger, 'error' | 'info'>
}

/**
 * Turns any error into a Sevalla error response and logs it through our logger. It replaces
 * Middy's http-error-handler, whose default logger prints the raw error, body (and so secret)
 * included. Client errors are logged at info with their status only; our faults at error level.
 */
export function errorResponse({
  logger,
}: ErrorResponseOptions): MiddlewareObj<
  APIGatewayProxyEvent,
  APIGatewayProxyResult,
  Error,
  Context & RequestIdContext
> {
  const errorResponseOnError = (
    request: Request<APIGatewayProxyEvent, APIGatewayProxyResult, Error, Context & RequestIdContext>,
  ) => {
    if (request.response !== undefined) return
    const requestId = request.context.requestId
    const { response, serverFault } = mapError(request.error, requestId)
    const fields = {
      requestId,
      status: response.statusCode,
      method: request.event.httpMethod,
      resource: request.event.resource,
    }
    if (serverFault) logger.error('request failed', { ...fields, error: describeError(request.error) })
    else
      logger.info('request rejected', {
        ...fields,
        reason: request.error?.name,
        detail: safeDetail(request.error),
      })
    request.response = response
  }
  return { onError: errorResponseOnError }
}
