import type { ErrorBody } from './error-response.ts'

/** A per-API-key rate limit: at most `limit` requests per key in `windowSeconds`. */
export interface RateLimit {
  readonly limit: number
  readonly windowSeconds: number
}

/** `data.code` of a request refused by the per-key (or per-IP) rate limit. */
export const RATE_LIMITED_CODE = 'rate_limited'

/**
 * The Sevalla error body of a rate-limited request. One static body for the deployed web ACL
 * (a WAF custom response body can hold no request data) and the local gateway alike, so a
 * client's 429 handling tested locally is the one production needs.
 */
export function rateLimitedBody(): ErrorBody {
  return {
    message: 'Too many requests',
    status: 429,
    data: {
      code: RATE_LIMITED_CODE,
      message:
        'This API key, or this address, is sending requests faster than the limit; retry after Retry-After seconds.',
    },
  }
}

/**
 * `Retry-After` of the web ACL's 429: WAF lifts a block once the rate over its window falls
 * under the limit, which takes at most one window, so a client that waits this long is let in.
 */
export function rateLimitRetryAfterSeconds(rateLimit: Pick<RateLimit, 'windowSeconds'>): number {
  return rateLimit.windowSeconds
}
