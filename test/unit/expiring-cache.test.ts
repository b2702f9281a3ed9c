import { describe, expect, it } from 'vitest'
import { createExpiringCache, monotonicMs } from '../../shared/adapters/expiring-cache.ts'

function manualClock(start = 0) {
  let time = start
  return {
    now: () => time,
    advance(ms: number) {
      time += ms
    },
  }
}

describe('createExpiringCache', () => {
  it('returns a value until its TTL has passed, then forgets it', () => {
    const clock = manualClock()
    const cache = createExpiringCache<string, number>({ max: 10, ttlMs: 30_000, now: clock.now })
    cache.set('a', 1)

    clock.advance(29_999)
    expect(cache.get('a')).toBe(1)

    clock.advance(1)
    expect(cache.get('a')).toBeUndefined()
    expect(cache.size).toBe(0)
  })

  it('evicts the entry set longest ago when full', () => {
    const cache = createExpiringCache<string, number>({ max: 2, ttlMs: 1_000, now: () => 0 })
    cache.set('a', 1)
    cache.set('b', 2)
    cache.set('c', 3)

    expect(cache.get('a')).toBeUndefined()
    expect(cache.get('b')).toBe(2)
    expect(cache.get('c')).toBe(3)
    expect(cache.size).toBe(2)
  })

  it('setting a key again restarts its TTL and makes it the newest', () => {
    const clock = manualClock()
    const cache = createExpiringCache<string, number>({ max: 2, ttlMs: 1_000, now: clock.now })
    cache.set('a', 1)
    cache.set('b', 2)
    clock.advance(900)
    cache.set('a', 10)
    cache.set('c', 3)

    clock.advance(900)
    expect(cache.get('b')).toBeUndefined()
    expect(cache.get('a')).toBe(10)
    expect(cache.get('c')).toBe(3)
  })

  it('refuses a size it cannot hold', () => {
    expect(() => createExpiringCache({ max: 0, ttlMs: 1 })).toThrow(RangeError)
  })
})

describe('monotonicMs', () => {
  it('reads process.hrtime in milliseconds and never goes back', () => {
    const before = monotonicMs()
    const hrtimeMs = Number(process.hrtime.bigint() / 1_000_000n)
    const after = monotonicMs()
    expect(after).toBeGreaterThanOrEqual(before)
    expect(hrtimeMs).toBeGreaterThanOrEqual(Math.floor(before))
    expect(hrtimeMs).toBeLessThanOrEqual(Math.ceil(after))
  })
})
