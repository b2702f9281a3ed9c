import type { MiddlewareObj, Request } from '@middy/core'
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda'
import { DependencyUnavailableError } from '../../domain/errors.ts'
import { count, type FunctionMetrics, LIMIT_REFUSED_CODE, METRIC } from '../../runtime/metrics.ts'

/** Options of {@link operationMetrics}. */
export interface OperationMetricsOptions {
  metrics: FunctionMetrics
}

// the `data.code` of one of our error bodies; undefined for anything else
function errorCode(response: APIGatewayProxyResult): string | undefined {
  try {
    const code = (JSON.parse(response.body) as { data?: { code?: unknown } })?.data?.code
    return typeof code === 'string' ? code : undefined
  } catch {
    return undefined
  }
}

/**
 * Counts each answer of an API operation by its outcome: `Success`, or `Error.<data.code>` of the
 * Sevalla error body (so every code the error mapper knows, today's and later ones, is counted
 * without a list here), plus `LimitRefused` for the per-company limit and
 * `DependencyUnavailable.<dependency>` when KMS or DynamoDB failed us. The first call of a
 * container also records `ColdStart`. Use it after `requestId` and before `errorResponse`, so its
 * `after`/`onError` run once the response exists; Powertools' `logMetrics`, used earlier, flushes.
 */
export function operationMetrics({
  metrics,
}: OperationMetricsOptions): MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult, Error, Context> {
  const operationMetricsBefore = () => {
    // no function_name dimension: the operation already names the function
    metrics.countColdStart()
  }
  const operationMetricsAfter = (
    request: Request<APIGatewayProxyEvent, APIGatewayProxyResult, Error, Context>,
  ) => {
    const response = request.response
    if (request.error instanceof DependencyUnavailableError) {
      count(metrics, METRIC.dependencyUnavailable(request.error.dependency))
    }
    if (!response) return
    if (response.statusCode < 400) return count(metrics, METRIC.success)
    const code = errorCode(response) ?? `status_${response.statusCode}`
    count(metrics, METRIC.error(code))
    if (code === LIMIT_REFUSED_CODE) count(metrics, METRIC.limitRefused)
  }
  return { before: operationMetricsBefore, after: operationMetricsAfter, onError: operationMetricsAfter }
}
