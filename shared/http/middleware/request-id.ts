import { randomUUID } from 'node:crypto'
import type { MiddlewareObj, Request } from '@middy/core'
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda'

/** What this middleware adds to the Lambda context. */
export interface RequestIdContext {
  requestId: string
}

/**
 * Names every request (API Gateway's request id, or a new uuid off API Gateway) and puts it in
 * an `x-request-id` header on every response, errors included. Use it first, so its `after` and
 * `onError` run last, once the response exists.
 */
export function requestId(): MiddlewareObj<
  APIGatewayProxyEvent,
  APIGatewayProxyResult,
  Error,
  Context & RequestIdContext
> {
  const requestIdBefore = (
    request: Request<APIGatewayProxyEvent, APIGatewayProxyResult, Error, Context & RequestIdContext>,
  ) => {
    request.context.requestId = request.event.requestContext?.requestId || randomUUID()
  }
  const requestIdAfter = (
    request: Request<APIGatewayProxyEvent, APIGatewayProxyResult, Error, Context & RequestIdContext>,
  ) => {
    if (!request.response) return
    request.response.headers = { ...request.response.headers, 'x-request-id': request.context.requestId }
  }
  return { before: requestIdBefore, after: requestIdAfter, onError: requestIdAfter }
}
