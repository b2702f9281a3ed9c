import { describe, expect, it } from 'vitest'
import { createCachedApiKeyLookup } from '../../shared/adapters/api-key-store.ts'
import {
  type ApiKeyLookup,
  type ApiKeyRecord,
  authenticateApiKey,
  generateApiKey,
  hashApiKey,
  isWellFormedApiKey,
} from '../../shared/domain/api-key.ts'
import { AuthenticationError } from '../../shared/domain/errors.ts'
import { fixedClock } from '../support/fakes.ts'

const companyId = '11111111-1111-4111-8111-111111111111'

function lookupOf(records: ApiKeyRecord[]) {
  const calls: string[] = []
  const lookup: ApiKeyLookup = {
    async find(hash) {
      calls.push(hash)
      return records.find((record) => record.hash === hash)
    },
  }
  return { lookup, calls }
}

function recordFor(hash: string, overrides: Partial<ApiKeyRecord> = {}): ApiKeyRecord {
  return {
    hash,
    companyId,
    name: 'k',
    permissions: ['docker_registries:read'],
    enabled: true,
    createdAt: '2026-01-01T00:00:00.000Z',
    ...overrides,
  }
}

describe('generateApiKey', () => {
  it('makes well-formed, unique keys whose hash is their SHA-256', () => {
    const first = generateApiKey()
    const second = generateApiKey()

    expect(isWellFormedApiKey(first.key)).toBe(true)
    expect(first.key).toMatch(/^rcs_/)
    expect(first.key).not.toBe(second.key)
    expect(first.hash).toBe(hashApiKey(first.key))
    expect(first.hash).toMatch(/^[0-9a-f]{64}$/)
  })
})

describe('authenticateApiKey', () => {
  const clock = fixedClock('2026-06-01T00:00:00.000Z')

  it('resolves a valid key to its company and permissions', async () => {
    const { key, hash } = generateApiKey()
    const { lookup } = lookupOf([recordFor(hash)])

    const caller = await authenticateApiKey(lookup, clock, key)

    expect(caller).toEqual({
      companyId,
      permissions: ['docker_registries:read'],
      keyId: hash,
      keyName: recordFor(hash).name,
    })
  })

  it.each([
    ['malformed', 'Bearer-ish'],
    ['malformed', `rcs_${'a'.repeat(42)}`],
    ['unknown', `rcs_${'a'.repeat(43)}`],
  ])('refuses a %s key', async (reason, key) => {
    const { lookup } = lookupOf([])

    await expect(authenticateApiKey(lookup, clock, key)).rejects.toEqual(
      new AuthenticationError(reason as 'unknown'),
    )
  })

  it('does not look up a malformed key', async () => {
    const { lookup, calls } = lookupOf([])

    await authenticateApiKey(lookup, clock, 'nope').catch(() => undefined)

    expect(calls).toEqual([])
  })

  it('refuses a disabled key', async () => {
    const { key, hash } = generateApiKey()

    await expect(
      authenticateApiKey(lookupOf([recordFor(hash, { enabled: false })]).lookup, clock, key),
    ).rejects.toMatchObject({ reason: 'disabled' })
  })

  it('refuses a key at and after its expiry, accepts it before', async () => {
    const { key, hash } = generateApiKey()
    const { lookup } = lookupOf([recordFor(hash, { expiresAt: '2026-06-01T00:00:01.000Z' })])

    await expect(authenticateApiKey(lookup, clock, key)).resolves.toMatchObject({ companyId })
    clock.advance(1000)
    await expect(authenticateApiKey(lookup, clock, key)).rejects.toMatchObject({ reason: 'expired' })
  })
})

describe('createCachedApiKeyLookup', () => {
  it('looks a known key up once while it is cached', async () => {
    const { hash } = generateApiKey()
    const { lookup, calls } = lookupOf([recordFor(hash)])
    const cached = createCachedApiKeyLookup(lookup)

    await cached.find(hash)
    await cached.find(hash)

    expect(calls).toEqual([hash])
  })

  it('does not cache unknown keys, so a newly minted key works at once', async () => {
    const records: ApiKeyRecord[] = []
    const { lookup, calls } = lookupOf(records)
    const cached = createCachedApiKeyLookup(lookup)
    const { hash } = generateApiKey()

    await expect(cached.find(hash)).resolves.toBeUndefined()
    records.push(recordFor(hash))

    await expect(cached.find(hash)).resolves.toMatchObject({ hash })
    expect(calls).toHaveLength(2)
  })

  it('looks the key up again once the TTL has passed (the revocation delay)', async () => {
    const { hash } = generateApiKey()
    const { lookup, calls } = lookupOf([recordFor(hash)])
    const cached = createCachedApiKeyLookup(lookup, { ttlMs: 1 })

    await cached.find(hash)
    await new Promise((resolve) => setTimeout(resolve, 5))
    await cached.find(hash)

    expect(calls).toHaveLength(2)
  })

  it('holds at most max entries', async () => {
    const keys = [generateApiKey(), generateApiKey(), generateApiKey()]
    const { lookup, calls } = lookupOf(keys.map(({ hash }) => recordFor(hash)))
    const cached = createCachedApiKeyLookup(lookup, { max: 2 })

    for (const { hash } of keys) await cached.find(hash)
    await cached.find(keys[0]?.hash ?? '')

    expect(calls).toHaveLength(4)
  })
})

describe('authenticateApiKey with a damaged record', () => {
  it('treats an unreadable expiry as expired, never as "no expiry"', async () => {
    const { key, hash } = generateApiKey()
    const lookup: ApiKeyLookup = { find: async () => recordFor(hash, { expiresAt: 'not a date' }) }

    await expect(authenticateApiKey(lookup, fixedClock(), key)).rejects.toMatchObject({ reason: 'expired' })
  })
})
