import type { Context } from 'aws-lambda'
import { logger } from './logger.ts'
import type { FunctionMetrics } from './metrics.ts'

/**
 * Wraps an internal function's handler (no Middy there: those bundles stay small) in what
 * `lambdaContextLogging` and `logMetrics` do for the API: the Lambda context (request id, cold
 * start, function) on every log line of the invocation, a `ColdStart` metric, and the metrics
 * flushed as one EMF document when the invocation ends, however it ends.
 */
export function observedHandler<Event, Result>(
  metrics: FunctionMetrics,
  handler: (event: Event, context: Context | undefined) => Promise<Result>,
): (event: Event, context?: Context) => Promise<Result> {
  return async (event, context) => {
    if (context) logger.addContext(context)
    metrics.countColdStart()
    try {
      return await handler(event, context)
    } finally {
      metrics.publishStoredMetrics()
      logger.resetKeys()
    }
  }
}
