import type { Logger } from '@aws-lambda-powertools/logger'
import type { Metrics } from '@aws-lambda-powertools/metrics'
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware'
import type { MiddlewareObj, Request } from '@middy/core'
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda'

/** Options of {@link observability}. */
export interface ObservabilityOptions {
  logger: Pick<Logger, 'addContext' | 'resetKeys'>
  metrics: Metrics
}

/**
 * The Lambda context (request id, cold start, function name, ARN, memory) on every log line of
 * the invocation, and the invocation's keys (the correlation id) cleared when it ends.
 *
 * What Powertools' `injectLambdaContext({ resetKeys: true })` does, without its per-invocation
 * re-draw of debug log sampling: this service samples nothing, and that re-draw puts the log
 * level back to the one the logger started with on every invocation, so a level raised at run
 * time (the tests that read DEBUG lines for secrets) would silently stop applying.
 */
export function lambdaContextLogging({
  logger,
}: Pick<ObservabilityOptions, 'logger'>): MiddlewareObj<
  APIGatewayProxyEvent,
  APIGatewayProxyResult,
  Error,
  Context
> {
  const lambdaContextLoggingBefore = (
    request: Request<APIGatewayProxyEvent, APIGatewayProxyResult, Error, Context>,
  ) => {
    logger.addContext(request.context)
  }
  const lambdaContextLoggingAfter = () => {
    logger.resetKeys()
  }
  return {
    before: lambdaContextLoggingBefore,
    after: lambdaContextLoggingAfter,
    onError: lambdaContextLoggingAfter,
  }
}

/**
 * The first middlewares of every API chain, whose `after`/`onError` run last: the Lambda context
 * on every log line (reset after the invocation), and the metrics flushed as one EMF document
 * per invocation, however it ends (Powertools' `logMetrics`).
 */
export function observability({ logger, metrics }: ObservabilityOptions) {
  return [lambdaContextLogging({ logger }), logMetrics(metrics)]
}
