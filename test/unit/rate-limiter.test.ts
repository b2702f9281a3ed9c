import { describe, expect, it } from 'vitest'
import { createRateLimiter, MAX_TRACKED_KEYS } from '../../local/rate-limiter.ts'

describe('createRateLimiter', () => {
  it('accepts up to the limit in the window, then refuses with the seconds until a slot frees', () => {
    const limiter = createRateLimiter({ limit: 2, windowSeconds: 10 })

    expect(limiter.take('a', 0)).toEqual({ allowed: true })
    expect(limiter.take('a', 4_000)).toEqual({ allowed: true })
    expect(limiter.take('a', 4_500)).toEqual({ allowed: false, retryAfterSeconds: 6 })
  })

  it('lets a key in again once its oldest request leaves the trailing window', () => {
    const limiter = createRateLimiter({ limit: 2, windowSeconds: 10 })
    limiter.take('a', 0)
    limiter.take('a', 4_000)

    expect(limiter.take('a', 10_001)).toEqual({ allowed: true })
    expect(limiter.take('a', 10_002)).toEqual({ allowed: false, retryAfterSeconds: 4 })
  })

  it('does not count refused requests, so waiting Retry-After is enough', () => {
    const limiter = createRateLimiter({ limit: 1, windowSeconds: 5 })
    limiter.take('a', 0)
    for (let time = 100; time < 5_000; time += 100) expect(limiter.take('a', time).allowed).toBe(false)

    expect(limiter.take('a', 5_000)).toEqual({ allowed: true })
  })

  it('keeps one count per key', () => {
    const limiter = createRateLimiter({ limit: 1, windowSeconds: 60 })
    limiter.take('a', 0)

    expect(limiter.take('a', 1).allowed).toBe(false)
    expect(limiter.take('b', 1)).toEqual({ allowed: true })
  })

  it('remembers a bounded number of keys when made-up keys flood it, dropping the least recently seen', () => {
    const limiter = createRateLimiter({ limit: 1, windowSeconds: 60 })
    limiter.take('busy', 0)
    for (let key = 0; key < MAX_TRACKED_KEYS * 2; key += 1) {
      limiter.take(`made-up-${key}`, 1)
      if (key % 1000 === 0) limiter.take('busy', 2)
    }

    expect(limiter.trackedKeys).toBe(MAX_TRACKED_KEYS)
    expect(limiter.take('busy', 3).allowed).toBe(false)
  })

  it.each([
    [0, 60],
    [1.5, 60],
    [10, 0],
  ])('refuses limit %s per %s s', (limit, windowSeconds) => {
    expect(() => createRateLimiter({ limit, windowSeconds })).toThrow()
  })
})
