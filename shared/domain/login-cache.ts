import type { Clock } from './ports.ts'
import type { ShortLivedLogin } from './short-lived-credentials.ts'

/**
 * Exchanged logins, kept in the container's memory only (never persisted: a token is as good as
 * the credential for its lifetime) so that a burst of deployments makes one exchange, not one per
 * pull: ECR allows 20 GetAuthorizationToken per second per account and region.
 */

/** How long before its expiry a cached login is no longer handed out. */
export const LOGIN_REFRESH_MARGIN_MS = 5 * 60 * 1000

/** The most logins one container keeps; the oldest goes first. */
export const LOGIN_CACHE_MAX_ENTRIES = 1_000

/**
 * What a login is cached under: one credential *version* (its `updated_at`, so an update of the
 * credential makes the next resolve exchange again) and the exchange's scope (the region).
 */
export interface LoginCacheKey {
  companyId: string
  credentialId: string
  updatedAt: string
  scope: string
}

/** A cache of exchanged logins. */
export interface LoginCache {
  /** The cached login of `key` while it is fresh (or being exchanged), else undefined. */
  peek(key: LoginCacheKey): Promise<ShortLivedLogin> | undefined
  /**
   * The cached login of `key` while it has more than {@link LOGIN_REFRESH_MARGIN_MS} left, else
   * the result of `exchange` (cached when it lives long enough). Concurrent calls for one key
   * share one exchange; a failed exchange is not cached.
   */
  login(key: LoginCacheKey, exchange: () => Promise<ShortLivedLogin>): Promise<ShortLivedLogin>
}

interface Entry {
  login: Promise<ShortLivedLogin>
  /** When the login stops being handed out; Infinity while the exchange runs. */
  freshUntil: number
}

const keyOf = (key: LoginCacheKey) =>
  JSON.stringify([key.companyId, key.credentialId, key.updatedAt, key.scope])

/** A login cache in this container's memory. */
export function createLoginCache(
  clock: Clock,
  { maxEntries = LOGIN_CACHE_MAX_ENTRIES }: { maxEntries?: number } = {},
): LoginCache {
  const entries = new Map<string, Entry>()

  const sweep = (now: number) => {
    for (const [key, entry] of entries) if (entry.freshUntil <= now) entries.delete(key)
    while (entries.size >= maxEntries) {
      const oldest = entries.keys().next()
      if (oldest.done) break
      entries.delete(oldest.value)
    }
  }

  return {
    peek(key) {
      const cached = entries.get(keyOf(key))
      return cached && cached.freshUntil > clock().getTime() ? cached.login : undefined
    },
    login(key, exchange) {
      const id = keyOf(key)
      const now = clock().getTime()
      const cached = entries.get(id)
      if (cached && cached.freshUntil > now) return cached.login
      entries.delete(id)
      sweep(now)
      const entry: Entry = { login: exchange(), freshUntil: Number.POSITIVE_INFINITY }
      entries.set(id, entry)
      entry.login.then(
        (login) => {
          entry.freshUntil = login.expiresAt.getTime() - LOGIN_REFRESH_MARGIN_MS
          if (entry.freshUntil <= clock().getTime() && entries.get(id) === entry) entries.delete(id)
        },
        () => {
          if (entries.get(id) === entry) entries.delete(id)
        },
      )
      return entry.login
    },
  }
}
