import { describe, expect, it } from 'vitest'
import { handleCreateRequest, type VerifiedCreate } from '../../shared/domain/create-request.ts'
import { CredentialLimitReachedError, IdempotencyKeyReusedError } from '../../shared/domain/errors.ts'
import { createVerifiedDockerRegistry } from '../../shared/domain/registry-check.ts'
import type { RegistryVerifier } from '../../shared/domain/verify-credential.ts'
import { fixedClock, InMemoryCredentialStore, RecordingSealer, sequentialIds } from '../support/fakes.ts'

const companyId = '11111111-1111-4111-8111-111111111111'
const input = { name: 'Hub', registry: 'dockerHub' as const, username: 'me', secret: 'sup3r-secret' }

function setup(credentialLimit = 1000) {
  const verified: unknown[] = []
  const verifier: RegistryVerifier = {
    async verify(request) {
      verified.push(request)
      return { status: 'ok', message: 'ok' }
    },
  }
  const createPorts = {
    store: new InMemoryCredentialStore(),
    sealer: new RecordingSealer(),
    clock: fixedClock(),
    newId: sequentialIds(),
    credentialLimit,
  }
  const verification = {
    verifier,
    exchanger: {
      exchange: async () => {
        throw new Error('not used')
      },
    },
  }
  const ports = {
    ...createPorts,
    createVerified: ((...args) =>
      createVerifiedDockerRegistry({ ...createPorts, ...verification }, ...args)) satisfies VerifiedCreate,
  }
  return { ports, verified }
}

describe('handleCreateRequest', () => {
  it('replays an answered key without sealing or verifying anything again', async () => {
    const { ports, verified } = setup()
    const key = { key: 'k-1' }
    const first = await handleCreateRequest(ports, companyId, input, { verify: 'true' }, key)
    const sealed = ports.sealer.sealed.length

    const replay = await handleCreateRequest(ports, companyId, input, { verify: 'true' }, key)

    expect(replay).toEqual(first)
    expect(ports.sealer.sealed).toHaveLength(sealed)
    expect(verified).toHaveLength(1)
    expect(ports.store.items.size).toBe(1)
  })

  it('refuses an answered key for another request before sealing anything', async () => {
    const { ports } = setup()
    await handleCreateRequest(ports, companyId, input, { verify: 'false' }, { key: 'k-2' })

    await expect(
      handleCreateRequest(ports, companyId, { ...input, name: 'other' }, { verify: 'false' }, { key: 'k-2' }),
    ).rejects.toBeInstanceOf(IdempotencyKeyReusedError)
    expect(ports.sealer.sealed).toHaveLength(1)
  })

  it('passes the company limit to the store', async () => {
    const { ports } = setup(1)
    await handleCreateRequest(ports, companyId, input, { verify: 'false' }, { key: undefined })

    await expect(
      handleCreateRequest(ports, companyId, input, { verify: 'false' }, { key: undefined }),
    ).rejects.toBeInstanceOf(CredentialLimitReachedError)
    expect(ports.store.items.size).toBe(1)
  })
})
