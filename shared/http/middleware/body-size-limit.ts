import type { MiddlewareObj } from '@middy/core'
import type { APIGatewayProxyEvent } from 'aws-lambda'
import { RequestBodyTooLargeError } from '../error-response.ts'

/**
 * The largest body the API reads: twice the longest secret (a 16 KiB service-account key, whose
 * line breaks and quotes JSON escapes), far below API Gateway's 10 MB.
 */
export const MAX_BODY_BYTES = 32 * 1024

/** Rejects bodies over `maxBytes` (decoded size) before anything parses them. */
export function bodySizeLimit({ maxBytes = MAX_BODY_BYTES } = {}): MiddlewareObj<APIGatewayProxyEvent> {
  const bodySizeLimitBefore = ({ event }: { event: APIGatewayProxyEvent }) => {
    if (!event.body) return
    const bytes = event.isBase64Encoded
      ? Buffer.byteLength(event.body, 'base64')
      : Buffer.byteLength(event.body, 'utf8')
    if (bytes > maxBytes) throw new RequestBodyTooLargeError(maxBytes)
  }
  return { before: bodySizeLimitBefore }
}
