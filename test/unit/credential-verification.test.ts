import { describe, expect, it } from 'vitest'
import type { ActivityEntry } from '../../shared/domain/activity.ts'
import type { LastVerification } from '../../shared/domain/credential-health.ts'
import { verifyStoredCredential } from '../../shared/domain/credential-verification.ts'
import { fixedClock, InMemoryCredentialStore } from '../support/fakes.ts'

const COMPANY = '0195f1f6-8f5e-7000-8000-000000000001'
const ID = '019ac6a2-5225-723e-86b1-6818a883a106'

async function fixture(exists = true) {
  const store = new InMemoryCredentialStore()
  await store.create(
    {
      companyId: COMPANY,
      id: ID,
      name: 'GHCR',
      registry: 'github',
      username: 'octocat',
      createdAt: '2026-01-01T00:00:00.000Z',
      updatedAt: '2026-01-01T00:00:00.000Z',
      secret: {
        version: 1,
        keyId: 'k',
        encryptedKey: new Uint8Array([1]),
        iv: new Uint8Array(12),
        tag: new Uint8Array(16),
        ciphertext: new TextEncoder().encode('ghp_token-1234'),
      },
    },
    { limit: 10 },
  )
  const recorded: { verification: LastVerification; runId?: string; activity?: ActivityEntry }[] = []
  const seen: unknown[] = []
  const ports = {
    store,
    opener: { open: async () => 'ghp_token-1234' },
    clock: fixedClock('2026-12-01T03:00:00.000Z'),
    exchanger: { exchange: async () => Promise.reject(new Error('not used')) },
    verifier: {
      async verify(input: unknown) {
        seen.push(input)
        return { status: 'auth_denied' as const, message: 'ghcr.io rejected the username or password' }
      },
    },
    health: {
      async recordVerification(
        _c: string,
        _i: string,
        verification: LastVerification,
        runId?: string,
        activity?: ActivityEntry,
      ) {
        recorded.push({ verification, ...(runId ? { runId } : {}), ...(activity ? { activity } : {}) })
        return exists
      },
      recordUse: async () => true,
      findWithHealth: async () => undefined,
    },
  }
  return { ports, recorded, seen }
}

describe('verifyStoredCredential', () => {
  it('records the outcome with an activity record naming the API key that asked', async () => {
    const { ports, recorded } = await fixture()

    const answer = await verifyStoredCredential(ports, {
      company_id: COMPANY,
      docker_registry_credential_id: ID,
      actor: { api_key_id: 'b'.repeat(64), api_key_name: 'CI' },
    })

    expect(answer).toMatchObject({ ok: true, report: { result: 'auth_denied' } })
    expect(recorded).toEqual([
      {
        verification: {
          result: 'auth_denied',
          message: 'ghcr.io rejected the username or password',
          verifiedAt: '2026-12-01T03:00:00.000Z',
        },
        activity: {
          at: '2026-12-01T03:00:00.000Z',
          kind: 'verified',
          actor: { apiKeyId: 'b'.repeat(64), apiKeyName: 'CI' },
          result: 'auth_denied',
          message: 'ghcr.io rejected the username or password',
          source: 'api',
        },
      },
    ])
  })

  it('marks a scheduled check with its run and no actor', async () => {
    const { ports, recorded } = await fixture()

    await verifyStoredCredential(ports, {
      company_id: COMPANY,
      docker_registry_credential_id: ID,
      run_id: 'r1',
    })

    expect(recorded[0]?.runId).toBe('r1')
    expect(recorded[0]?.activity).toMatchObject({ source: 'schedule' })
    expect(recorded[0]?.activity).not.toHaveProperty('actor')
  })

  it('answers not_found for a credential deleted while it was checked', async () => {
    const { ports } = await fixture(false)

    const answer = await verifyStoredCredential(ports, {
      company_id: COMPANY,
      docker_registry_credential_id: ID,
    })

    expect(answer).toMatchObject({ ok: false, error: { code: 'not_found' } })
  })

  it.each([
    [{ company_id: COMPANY }, 'docker_registry_credential_id'],
    [{ company_id: COMPANY, docker_registry_credential_id: ID, secret: 'x' }, 'secret'],
    [
      {
        company_id: COMPANY,
        docker_registry_credential_id: ID,
        actor: { api_key_id: 'rcs_raw', api_key_name: 'x' },
      },
      'actor.api_key_id',
    ],
  ])('refuses a malformed request %j', async (event, path) => {
    const { ports, seen } = await fixture()

    const answer = await verifyStoredCredential(ports, event)

    expect(answer).toMatchObject({ ok: false, error: { code: 'invalid_request' } })
    expect(JSON.stringify(answer)).toContain(path)
    expect(seen).toEqual([])
  })

  it('answers invalid_input for an image on another host, before decrypting', async () => {
    const { ports, seen } = await fixture()

    const answer = await verifyStoredCredential(ports, {
      company_id: COMPANY,
      docker_registry_credential_id: ID,
      image: 'evil.example/acme/api:1',
    })

    expect(answer).toMatchObject({ ok: false, error: { code: 'invalid_input', issues: [{ path: 'image' }] } })
    expect(seen).toEqual([])
  })
})
