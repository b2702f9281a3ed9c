import { describe, expect, it } from 'vitest'
import type { LastUse } from '../../shared/domain/credential-health.ts'
import { DependencyUnavailableError } from '../../shared/domain/errors.ts'
import { createLoginCache } from '../../shared/domain/login-cache.ts'
import type { StoredCredential } from '../../shared/domain/ports.ts'
import { createResolveAndRecordUse, USE_STAMP_INTERVAL_MS } from '../../shared/domain/record-use.ts'
import { fixedClock, InMemoryCredentialStore } from '../support/fakes.ts'

const COMPANY_ID = '0c6a6c9e-5d2b-4c1f-9f57-3c1bb6a1d001'
const CREDENTIAL_ID = '01948f5e-7a10-7c3e-8d2a-5b7f3e9c0a11'
const EVENT = {
  company_id: COMPANY_ID,
  docker_registry_credential_id: CREDENTIAL_ID,
  image: 'ghcr.io/acme/api:1',
}

const sealed: StoredCredential['secret'] = {
  version: 1,
  keyId: 'arn:aws:kms:us-east-1:000000000000:key/fake',
  encryptedKey: new Uint8Array([1]),
  iv: new Uint8Array(12),
  tag: new Uint8Array(16),
  ciphertext: new TextEncoder().encode('ghp_secret-token'),
}

function fixture(recordUse?: (use: LastUse) => Promise<boolean>) {
  const store = new InMemoryCredentialStore()
  void store.create(
    {
      companyId: COMPANY_ID,
      id: CREDENTIAL_ID,
      name: 'GHCR',
      registry: 'github',
      username: 'octocat',
      createdAt: '2026-01-01T00:00:00.000Z',
      updatedAt: '2026-01-01T00:00:00.000Z',
      secret: sealed,
    },
    { limit: 10 },
  )
  const clock = fixedClock()
  const order: string[] = []
  const stamps: { companyId: string; id: string; use: LastUse; staleBefore: string }[] = []
  const failures: string[] = []
  const resolve = createResolveAndRecordUse({
    store,
    opener: {
      async open(secret) {
        order.push('decrypted')
        return new TextDecoder().decode(secret.ciphertext)
      },
    },
    exchanger: { exchange: async () => Promise.reject(new Error('not used')) },
    logins: createLoginCache(clock),
    usage: {
      async recordUse(companyId, id, use, staleBefore) {
        order.push('stamped')
        stamps.push({ companyId, id, use, staleBefore })
        return recordUse ? recordUse(use) : true
      },
    },
    clock,
    onStampFailure: (reason) => failures.push(reason),
  })
  return { resolve, clock, stamps, order, failures }
}

describe('resolveAndRecordUse', () => {
  it('stamps the use and the image host once the answer is computed', async () => {
    const { resolve, stamps, order } = fixture()

    const result = await resolve(EVENT)

    expect(result.ok).toBe(true)
    expect(order).toEqual(['decrypted', 'stamped'])
    expect(stamps).toEqual([
      {
        companyId: COMPANY_ID,
        id: CREDENTIAL_ID,
        use: { usedAt: '2026-01-02T03:04:05.678Z', imageHost: 'ghcr.io' },
        // the write's condition: only over a stamp older than ten minutes
        staleBefore: '2026-01-02T02:54:05.678Z',
      },
    ])
  })

  it('writes at most once per credential per ten minutes from one container', async () => {
    const { resolve, stamps, clock } = fixture()

    await resolve(EVENT)
    clock.advance(USE_STAMP_INTERVAL_MS - 1)
    await resolve(EVENT)
    clock.advance(1)
    await resolve(EVENT)

    expect(stamps.map((stamp) => stamp.use.usedAt)).toEqual([
      '2026-01-02T03:04:05.678Z',
      '2026-01-02T03:14:05.678Z',
    ])
  })

  it('stamps nothing for a resolve that failed', async () => {
    const { resolve, stamps } = fixture()

    const result = await resolve({ ...EVENT, image: 'docker.io/library/nginx' })

    expect(result.ok).toBe(false)
    expect(stamps).toEqual([])
  })

  it('answers the login although the stamp fails, and tries again on the next resolve', async () => {
    let calls = 0
    const { resolve, failures, stamps } = fixture(async () => {
      calls++
      if (calls === 1) throw new DependencyUnavailableError('DynamoDB', 1)
      return true
    })

    const first = await resolve(EVENT)
    const second = await resolve(EVENT)

    expect(first).toMatchObject({ ok: true, password: 'ghp_secret-token' })
    expect(second.ok).toBe(true)
    expect(failures).toEqual(['failed'])
    expect(stamps).toHaveLength(2)
  })

  it('answers without waiting for a stamp that never finishes', async () => {
    const { resolve, failures } = fixture(() => new Promise<boolean>(() => undefined))

    const result = await resolve(EVENT)

    expect(result).toMatchObject({ ok: true, registry_host: 'ghcr.io' })
    expect(failures).toEqual(['late'])
  })
})
