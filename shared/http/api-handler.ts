import middy, { type MiddyfiedHandler } from '@middy/core'
import httpHeaderNormalizer from '@middy/http-header-normalizer'
import httpJsonBodyParser from '@middy/http-json-body-parser'
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda'
import type { ApiKeyLookup } from '../domain/api-key.ts'
import type { Clock } from '../domain/ports.ts'
import { logger as defaultLogger } from '../runtime/logger.ts'
import { createMetrics, type FunctionMetrics } from '../runtime/metrics.ts'
import { authenticate, type CallerContext } from './middleware/authenticate.ts'
import { bodySizeLimit } from './middleware/body-size-limit.ts'
import { errorResponse } from './middleware/error-response.ts'
import { logCorrelation } from './middleware/log-correlation.ts'
import { observability } from './middleware/observability.ts'
import { operationMetrics } from './middleware/operation-metrics.ts'
import { type RequestIdContext, requestId } from './middleware/request-id.ts'
import { type InputContext, type RequestSchemas, validateRequest } from './middleware/validate-request.ts'
import type { Route } from './routes.ts'

/**
 * How long before Lambda's own timeout the chain stops waiting and answers (503). Writes are
 * never in flight at that moment: each write attempt is sent only with time left to see its
 * answer before it (shared/adapters/write-deadline.ts).
 */
export const EARLY_TIMEOUT_MS = 500

/** The context an API operation's handler sees. */
export type ApiContext<Body, Query, Path, Headers = undefined> = Context &
  RequestIdContext &
  CallerContext &
  InputContext<Body, Query, Path, Headers>

/** Dependencies of the HTTP chain. */
export interface ApiHandlerOptions<Body, Query, Path, Headers = undefined> {
  schemas: RequestSchemas<Body, Query, Path, Headers>
  keys: ApiKeyLookup
  clock?: Clock
  logger?: typeof defaultLogger
  /** The function's metrics; pass the handler's own when its ports count things too. */
  metrics?: FunctionMetrics
}

/**
 * The Middy chain every authenticated API operation shares: the Lambda context and the request id
 * (as correlation id) on every log line, metrics per outcome flushed per invocation, request id,
 * Sevalla errors, header normalizer, API key auth with the route's permission, body limit and JSON parser (when
 * the route takes a body), then validation. Chain `.handler()` onto it.
 */
export function apiHandler<Body = undefined, Query = undefined, Path = undefined, Headers = undefined>(
  route: Route,
  {
    schemas,
    keys,
    clock = () => new Date(),
    logger = defaultLogger,
    metrics = createMetrics(route.operationId),
  }: ApiHandlerOptions<Body, Query, Path, Headers>,
): MiddyfiedHandler<
  APIGatewayProxyEvent,
  APIGatewayProxyResult,
  Error,
  ApiContext<Body, Query, Path, Headers>
> {
  if (route.permission === null) throw new Error(`route ${route.operationId} is not authenticated`)
  // shortly before Lambda's own timeout, Middy gives up with a TimeoutError, answered as 503
  const chain = middy<
    APIGatewayProxyEvent,
    APIGatewayProxyResult,
    Error,
    ApiContext<Body, Query, Path, Headers>
  >({ timeoutEarlyInMillis: EARLY_TIMEOUT_MS })
    .use(observability({ logger, metrics }))
    .use(requestId())
    .use(logCorrelation({ logger }))
    .use(operationMetrics({ metrics }))
    .use(errorResponse({ logger }))
    .use(httpHeaderNormalizer())
  // the key is checked before the body is even parsed: an unauthenticated caller learns nothing
  // about what the API would make of a request, and costs no parsing.
  chain.use(authenticate({ keys, clock, permission: route.permission }))
  if (route.hasBody) chain.use(bodySizeLimit()).use(httpJsonBodyParser())
  return chain.use(validateRequest(schemas))
}
