/** How long one attempt of an AWS call may take, connecting included, before it fails. */
export const REQUEST_TIMEOUT_MS = 3_000

/**
 * The least time an invocation must have left to send a write attempt: one attempt's timeout
 * plus a margin for the SDK to hand its outcome back (shared/adapters/write-deadline.ts).
 */
export const WRITE_ATTEMPT_BUDGET_MS = REQUEST_TIMEOUT_MS + 250

/**
 * Client settings every AWS client of the functions shares: a hung connection fails in seconds
 * (and is retried by the SDK) instead of holding the invocation until Lambda kills it, so the
 * caller gets a 503 with Retry-After rather than API Gateway's timeout. `throwOnRequestTimeout`
 * makes the timeout real: without it @smithy/node-http-handler only logs a warning and keeps
 * waiting, so a hung call ran into Middy's 503 and could still commit afterwards.
 */
export const AWS_CLIENT_CONFIG = {
  requestHandler: {
    connectionTimeout: 1_000,
    requestTimeout: REQUEST_TIMEOUT_MS,
    throwOnRequestTimeout: true,
  },
  // two attempts of at most 4 s fit a 10 s function with room for the answer
  maxAttempts: 2,
} as const
