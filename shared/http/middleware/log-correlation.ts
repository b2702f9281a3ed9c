import type { Logger } from '@aws-lambda-powertools/logger'
import type { MiddlewareObj, Request } from '@middy/core'
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda'
import type { RequestIdContext } from './request-id.ts'

/** Options of {@link logCorrelation}. */
export interface LogCorrelationOptions {
  logger: Pick<Logger, 'setCorrelationId'>
}

/**
 * Puts the request's `x-request-id` on every log line of the request as `correlation_id`, so
 * the id a client quotes to support finds all of them. Use it after `requestId`, with
 * `lambdaContextLogging` earlier in the chain to clear it afterwards.
 */
export function logCorrelation({
  logger,
}: LogCorrelationOptions): MiddlewareObj<
  APIGatewayProxyEvent,
  APIGatewayProxyResult,
  Error,
  Context & RequestIdContext
> {
  const logCorrelationBefore = (
    request: Request<APIGatewayProxyEvent, APIGatewayProxyResult, Error, Context & RequestIdContext>,
  ) => {
    logger.setCorrelationId(request.context.requestId)
  }
  return { before: logCorrelationBefore }
}
