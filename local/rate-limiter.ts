import type { RateLimit } from '../shared/http/rate-limit.ts'

/** What {@link RateLimiter.take} decided for one request. */
export type RateDecision = { allowed: true } | { allowed: false; retryAfterSeconds: number }

/** Counts requests per key over a trailing window, as the deployed web ACL's rate rule does. */
export interface RateLimiter {
  /** Counts one request of `key` at `nowMs`, unless it is refused. */
  take(key: string, nowMs: number): RateDecision
  /** How many keys it remembers (bounded). */
  readonly trackedKeys: number
}

/**
 * Bound on remembered keys, like the web ACL's own bound on aggregation keys: a client spraying
 * made-up keys cannot grow the map without end; past it, the least recently seen key is dropped.
 */
export const MAX_TRACKED_KEYS = 10_000

/**
 * A sliding-log limiter: each key keeps the times of its accepted requests within the window; a
 * request that would be the `limit + 1`-th in the trailing window is refused with the seconds
 * until the oldest of them leaves it. Refused requests are not counted, so a client that waits
 * `Retry-After` gets in.
 */
export function createRateLimiter({ limit, windowSeconds }: RateLimit): RateLimiter {
  if (!Number.isInteger(limit) || limit < 1) throw new Error('the rate limit must be a positive integer')
  if (!Number.isInteger(windowSeconds) || windowSeconds < 1) {
    throw new Error('the rate limit window must be a positive number of seconds')
  }
  const windowMs = windowSeconds * 1000
  const accepted = new Map<string, number[]>()

  // the map is in least-recently-seen order (every take re-inserts its key at the end)
  function makeRoom(): void {
    const leastRecent = accepted.keys().next()
    if (!leastRecent.done) accepted.delete(leastRecent.value)
  }

  return {
    take(key, nowMs) {
      const times = (accepted.get(key) ?? []).filter((time) => time > nowMs - windowMs)
      accepted.delete(key)
      if (times.length >= limit) {
        accepted.set(key, times)
        const oldest = times[0] as number
        return {
          allowed: false,
          retryAfterSeconds: Math.max(1, Math.ceil((oldest + windowMs - nowMs) / 1000)),
        }
      }
      if (accepted.size >= MAX_TRACKED_KEYS) makeRoom()
      times.push(nowMs)
      accepted.set(key, times)
      return { allowed: true }
    },
    get trackedKeys() {
      return accepted.size
    },
  }
}
