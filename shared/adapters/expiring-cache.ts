/** A bounded map whose entries expire. */
export interface ExpiringCache<K, V> {
  /** The value stored for `key`, unless it has expired (then it is dropped). */
  get(key: K): V | undefined
  /** Stores `value` for `key` for the cache's TTL, evicting the oldest entry when full. */
  set(key: K, value: V): void
  /** How many entries are held, expired ones not yet dropped included. */
  readonly size: number
}

/** Options of {@link createExpiringCache}. */
export interface ExpiringCacheOptions {
  /** Most entries held at once. */
  max: number
  /** How long an entry is returned after it was set, in milliseconds. */
  ttlMs: number
  /**
   * The clock, in milliseconds.
   * @default {@link monotonicMs} (a wall-clock jump neither extends nor ends an entry)
   */
  now?: () => number
}

/**
 * Milliseconds on Node's monotonic clock. `process.hrtime` rather than `performance.now()`: the
 * `performance` global loads Node's whole perf_hooks implementation (about ten internal modules)
 * on first use, which a cold start would pay on its first request just to read a clock.
 */
export function monotonicMs(): number {
  const [seconds, nanoseconds] = process.hrtime()
  return seconds * 1_000 + nanoseconds / 1_000_000
}

/**
 * A small TTL cache on a `Map`: entries expire `ttlMs` after they were set, and when `max` is
 * reached the entry set longest ago is evicted (the Map's insertion order). That is all the API
 * key cache needs (a 30 s TTL over at most 1,000 keys, where an eviction costs one lookup), so a
 * full LRU library is not worth its size in every cold start.
 */
export function createExpiringCache<K, V>({
  max,
  ttlMs,
  now = monotonicMs,
}: ExpiringCacheOptions): ExpiringCache<K, V> {
  if (!Number.isInteger(max) || max < 1) throw new RangeError('max must be a positive integer')
  const entries = new Map<K, { value: V; expiresAt: number }>()
  return {
    get(key) {
      const entry = entries.get(key)
      if (entry === undefined) return undefined
      if (now() >= entry.expiresAt) {
        entries.delete(key)
        return undefined
      }
      return entry.value
    },
    set(key, value) {
      // deleting first moves a refreshed key to the newest end of the insertion order
      entries.delete(key)
      entries.set(key, { value, expiresAt: now() + ttlMs })
      for (const oldest of entries.keys()) {
        if (entries.size <= max) break
        entries.delete(oldest)
      }
    },
    get size() {
      return entries.size
    },
  }
}
