/**
 * One error API Gateway answers by itself, rewritten into the Sevalla error body. The CDK app
 * installs these as gateway responses; the local stack's gateway answers with the same ones.
 */
export interface GatewayError {
  /** Construct id of the gateway response (a contract: renaming replaces the resource). */
  readonly id: string
  /** API Gateway's response type (`THROTTLED`, `DEFAULT_4XX`, ...). */
  readonly responseType: string
  readonly status: number
  /** Top-level `message` of the body. */
  readonly message: string
  /** `data.code`, the same codes the functions use for the same situations. */
  readonly code: string
  /** `data.message`; may hold `$context` variables, never the error API Gateway produced. */
  readonly detail: string
  /** Extra static headers. */
  readonly headers?: Readonly<Record<string, string>>
}

const SUPPORT = 'If you need assistance, contact support and quote request id $context.requestId.'

/**
 * The errors API Gateway produces before (or instead of) invoking a function, with the status and
 * body the Sevalla contract gives them.
 *
 * Setting a status on DEFAULT_4XX or DEFAULT_5XX changes the status of every response type of that
 * class that is not customised, so each type whose own status differs is listed explicitly: the
 * status line and the body's `status` always agree.
 */
export const GATEWAY_ERRORS: readonly GatewayError[] = [
  {
    id: 'Default4xx',
    responseType: 'DEFAULT_4XX',
    status: 400,
    message: 'Bad request',
    code: 'bad_request',
    detail: 'The request could not be processed.',
  },
  {
    id: 'Default5xx',
    responseType: 'DEFAULT_5XX',
    status: 500,
    message: 'Internal Server Error',
    code: 'internal_error',
    detail: SUPPORT,
  },
  // no method uses IAM authorization, so API Gateway raises these two only for a method and path
  // the API does not have (the second when the request carries a non-SigV4 Authorization header).
  {
    id: 'MissingAuthenticationToken',
    responseType: 'MISSING_AUTHENTICATION_TOKEN',
    status: 404,
    message: 'Not found',
    code: 'not_found',
    detail: 'No operation matches this method and path.',
  },
  {
    id: 'InvalidSignature',
    responseType: 'INVALID_SIGNATURE',
    status: 404,
    message: 'Not found',
    code: 'not_found',
    detail: 'No operation matches this method and path.',
  },
  {
    id: 'ResourceNotFound',
    responseType: 'RESOURCE_NOT_FOUND',
    status: 404,
    message: 'Not found',
    code: 'not_found',
    detail: 'No operation matches this method and path.',
  },
  {
    id: 'Unauthorized',
    responseType: 'UNAUTHORIZED',
    status: 401,
    message: 'Unauthorized',
    code: 'unauthorized',
    detail: 'Provide a valid, enabled API key as "Authorization: Bearer <key>".',
    headers: { 'www-authenticate': 'Bearer realm="docker-registries"' },
  },
  {
    id: 'AccessDenied',
    responseType: 'ACCESS_DENIED',
    status: 403,
    message: 'Forbidden',
    code: 'forbidden',
    detail: 'This request is not allowed.',
  },
  {
    id: 'WafFiltered',
    responseType: 'WAF_FILTERED',
    status: 403,
    message: 'Forbidden',
    code: 'forbidden',
    detail: 'This request is not allowed.',
  },
  {
    id: 'RequestTooLarge',
    responseType: 'REQUEST_TOO_LARGE',
    status: 413,
    message: 'Payload too large',
    code: 'payload_too_large',
    detail: 'The request is larger than the API accepts.',
  },
  {
    id: 'UnsupportedMediaType',
    responseType: 'UNSUPPORTED_MEDIA_TYPE',
    status: 415,
    message: 'Unsupported media type',
    code: 'unsupported_media_type',
    detail: 'Send the request body as JSON with "Content-Type: application/json".',
  },
  {
    id: 'Throttled',
    responseType: 'THROTTLED',
    status: 429,
    message: 'Too many requests',
    code: 'throttled',
    detail: 'The request rate is above the limit; retry shortly.',
    headers: { 'retry-after': '1' },
  },
  {
    id: 'QuotaExceeded',
    responseType: 'QUOTA_EXCEEDED',
    status: 429,
    message: 'Too many requests',
    code: 'throttled',
    detail: 'The request quota is exhausted; retry later.',
    headers: { 'retry-after': '60' },
  },
  // the function failed or returned something API Gateway could not use: our fault.
  {
    id: 'IntegrationFailure',
    responseType: 'INTEGRATION_FAILURE',
    status: 500,
    message: 'Internal Server Error',
    code: 'internal_error',
    detail: SUPPORT,
  },
  {
    id: 'IntegrationTimeout',
    responseType: 'INTEGRATION_TIMEOUT',
    status: 503,
    message: 'Service unavailable',
    code: 'service_unavailable',
    detail: `Please retry shortly. ${SUPPORT}`,
    headers: { 'retry-after': '1' },
  },
]

/**
 * The `application/json` template of a gateway error: the Sevalla body with fixed strings (never
 * `$context.error.message`, which can echo request data such as a hashed Authorization header).
 */
export function gatewayErrorTemplate(error: GatewayError): string {
  // gateway responses cannot map $context into a header, so the request id rides in the body
  // (API Gateway adds its own x-amzn-RequestId header with the same id)
  const detail = error.detail.includes('$context.requestId')
    ? error.detail
    : `${error.detail} Request id: $context.requestId.`
  return JSON.stringify({
    message: error.message,
    status: error.status,
    data: { code: error.code, message: detail },
  })
}

/** The gateway errors by response type. */
export const GATEWAY_ERROR_BY_TYPE: ReadonlyMap<string, GatewayError> = new Map(
  GATEWAY_ERRORS.map((error) => [error.responseType, error]),
)

/** The body API Gateway renders from {@link gatewayErrorTemplate}, for a given request id. */
export function gatewayErrorBody(error: GatewayError, requestId: string): string {
  return gatewayErrorTemplate(error).replaceAll('$context.requestId', requestId)
}
