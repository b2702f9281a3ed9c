import type { APIGatewayProxyResult } from 'aws-lambda'

/** Headers every JSON response carries. */
export const JSON_HEADERS = {
  'content-type': 'application/json; charset=utf-8',
  // credential metadata is private to the caller (threat: a shared cache serving it to another).
  'cache-control': 'no-store',
} as const

/** A JSON response. */
export function json(
  statusCode: number,
  body: unknown,
  headers: Record<string, string> = {},
): APIGatewayProxyResult {
  return { statusCode, headers: { ...JSON_HEADERS, ...headers }, body: JSON.stringify(body) }
}
