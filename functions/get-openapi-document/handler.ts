import middy from '@middy/core'
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda'
import { errorResponse } from '../../shared/http/middleware/error-response.ts'
import { type RequestIdContext, requestId } from '../../shared/http/middleware/request-id.ts'
import document from '../../shared/http/openapi.json' with { type: 'json' }
import { JSON_HEADERS } from '../../shared/http/responses.ts'
import { logger } from '../../shared/runtime/logger.ts'

// the committed document, serialised once per container: the bundle carries no schema converter.
const body = JSON.stringify(document)

const headers = {
  'content-type': JSON_HEADERS['content-type'],
  // the document is public and the same for every caller, unlike credential responses (no-store).
  'cache-control': 'public, max-age=300',
}

/** `GET /v3/openapi.json`: this API's OpenAPI 3.1 document. No API key needed. */
export const handler = middy<APIGatewayProxyEvent, APIGatewayProxyResult, Error, Context & RequestIdContext>()
  .use(requestId())
  .use(errorResponse({ logger }))
  .handler(async () => ({ statusCode: 200, headers: { ...headers }, body }))
