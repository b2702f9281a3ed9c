import middy from '@middy/core'
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda'
import { errorResponse } from '../../shared/http/middleware/error-response.ts'
import { logCorrelation } from '../../shared/http/middleware/log-correlation.ts'
import { observability } from '../../shared/http/middleware/observability.ts'
import { operationMetrics } from '../../shared/http/middleware/operation-metrics.ts'
import { type RequestIdContext, requestId } from '../../shared/http/middleware/request-id.ts'
import document from '../../shared/http/openapi.json' with { type: 'json' }
import { JSON_HEADERS } from '../../shared/http/responses.ts'
import { routes } from '../../shared/http/routes.ts'
import { logger } from '../../shared/runtime/logger.ts'
import { createMetrics } from '../../shared/runtime/metrics.ts'

const metrics = createMetrics(routes.getOpenApiDocument.operationId)

// the committed document, serialised once per container: the bundle carries no schema converter.
const body = JSON.stringify(document)

const headers = {
  'content-type': JSON_HEADERS['content-type'],
  // the document is public and the same for every caller, unlike credential responses (no-store).
  'cache-control': 'public, max-age=300',
}

/** `GET /v3/openapi.json`: this API's OpenAPI 3.1 document. No API key needed. */
export const handler = middy<APIGatewayProxyEvent, APIGatewayProxyResult, Error, Context & RequestIdContext>()
  .use(observability({ logger, metrics }))
  .use(requestId())
  .use(logCorrelation({ logger }))
  .use(operationMetrics({ metrics }))
  .use(errorResponse({ logger }))
  .handler(async () => ({ statusCode: 200, headers: { ...headers }, body }))
