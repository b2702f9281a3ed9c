/**
 * Client settings every AWS client of the functions shares: a hung connection fails in seconds
 * (and is retried by the SDK) instead of holding the invocation until Lambda kills it, so the
 * caller gets a 503 with Retry-After rather than API Gateway's timeout.
 */
export const AWS_CLIENT_CONFIG = {
  requestHandler: { connectionTimeout: 1_000, requestTimeout: 3_000 },
  // two attempts of at most 4 s fit a 10 s function with room for the answer
  maxAttempts: 2,
} as const
