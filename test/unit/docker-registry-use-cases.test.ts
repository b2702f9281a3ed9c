import { beforeEach, describe, expect, it } from 'vitest'
import {
  createDockerRegistry,
  deleteDockerRegistry,
  getDockerRegistry,
  listDockerRegistries,
  updateDockerRegistry,
} from '../../shared/domain/docker-registry-use-cases.ts'
import {
  ConcurrentUpdateError,
  CredentialNotFoundError,
  DependencyUnavailableError,
  InvalidInputError,
} from '../../shared/domain/errors.ts'
import { fixedClock, InMemoryCredentialStore, RecordingSealer, sequentialIds } from '../support/fakes.ts'
import { testServiceAccountKey } from '../support/service-account-key.ts'

const companyId = '11111111-1111-4111-8111-111111111111'
const otherCompanyId = '22222222-2222-4222-8222-222222222222'
const input = { name: 'Hub', registry: 'dockerHub' as const, username: 'me', secret: 'sup3r-secret' }

/** A store where another writer updates the credential just before each of our first `races` writes. */
class RacingStore extends InMemoryCredentialStore {
  theirUpdatedAt = ''
  constructor(
    private readonly inner: InMemoryCredentialStore,
    private races: number,
  ) {
    super()
  }
  override find(companyId: string, id: string) {
    return this.inner.find(companyId, id)
  }
  override async update(...args: Parameters<InMemoryCredentialStore['update']>) {
    const [companyId, id] = args
    if (this.races > 0) {
      this.races -= 1
      const item = this.inner.items.get(`${companyId}/${id}`)
      if (item) {
        this.theirUpdatedAt = new Date(Date.parse(item.updatedAt) + 5).toISOString()
        Object.assign(item, { name: 'theirs', updatedAt: this.theirUpdatedAt })
      }
    }
    return this.inner.update(...args)
  }
}

let store: InMemoryCredentialStore
let sealer: RecordingSealer
let clock: ReturnType<typeof fixedClock>
let ports: Parameters<typeof createDockerRegistry>[0]

beforeEach(() => {
  store = new InMemoryCredentialStore()
  sealer = new RecordingSealer()
  clock = fixedClock()
  ports = { store, sealer, clock, newId: sequentialIds(), credentialLimit: 1000 }
})

describe('createDockerRegistry', () => {
  it('returns the credential without its secret', async () => {
    const created = await createDockerRegistry(ports, companyId, input)

    expect(created).toEqual({
      id: '0195f1f6-8f5e-7000-8000-000000000001',
      company_id: companyId,
      name: 'Hub',
      registry: 'dockerHub',
      username: 'me',
      created_at: '2026-01-02T03:04:05.678Z',
      updated_at: '2026-01-02T03:04:05.678Z',
    })
  })

  it('seals the secret bound to the company and the new id', async () => {
    const created = await createDockerRegistry(ports, companyId, input)

    expect(sealer.sealed).toEqual([
      { plaintext: 'sup3r-secret', context: { companyId, credentialId: created.id } },
    ])
  })

  it('stores only the sealed secret', async () => {
    await createDockerRegistry(ports, companyId, input)

    const stored = [...store.items.values()][0]
    expect(JSON.stringify(stored)).not.toContain('sup3r-secret')
    expect(stored?.secret.version).toBe(1)
  })

  it('stores nothing when sealing fails', async () => {
    sealer.failWith = new DependencyUnavailableError('KMS', 1)

    await expect(createDockerRegistry(ports, companyId, input)).rejects.toBeInstanceOf(
      DependencyUnavailableError,
    )
    expect(store.items.size).toBe(0)
  })
})

describe('getDockerRegistry', () => {
  it("finds the company's credential", async () => {
    const created = await createDockerRegistry(ports, companyId, input)

    await expect(getDockerRegistry(ports, companyId, created.id)).resolves.toEqual(created)
  })

  it("treats another company's id as unknown", async () => {
    const created = await createDockerRegistry(ports, companyId, input)

    await expect(getDockerRegistry(ports, otherCompanyId, created.id)).rejects.toBeInstanceOf(
      CredentialNotFoundError,
    )
  })
})

describe('listDockerRegistries', () => {
  it('pages newest first without company ids', async () => {
    for (let n = 0; n < 3; n += 1) await createDockerRegistry(ports, companyId, { ...input, name: `n${n}` })

    const page = await listDockerRegistries(ports, companyId, { limit: 2, offset: 1 })

    expect(page.total).toBe(3)
    expect(page.data.map((item) => item.name)).toEqual(['n1', 'n0'])
    expect(page.data[0]).not.toHaveProperty('company_id')
    expect({ offset: page.offset, limit: page.limit }).toEqual({ offset: 1, limit: 2 })
  })
})

describe('updateDockerRegistry', () => {
  it('returns the credential unchanged, without writing, for an empty update', async () => {
    const created = await createDockerRegistry(ports, companyId, input)
    clock.advance(1000)

    const updated = await updateDockerRegistry(ports, companyId, created.id, {})

    expect(updated).toEqual(created)
  })

  it('keeps updated_at when every given field equals the stored one', async () => {
    const created = await createDockerRegistry(ports, companyId, input)
    clock.advance(1000)

    const updated = await updateDockerRegistry(ports, companyId, created.id, { name: 'Hub', username: 'me' })

    expect(updated.updated_at).toBe(created.updated_at)
  })

  it('moves updated_at and changes only the given field', async () => {
    const created = await createDockerRegistry(ports, companyId, input)
    clock.advance(1000)

    const updated = await updateDockerRegistry(ports, companyId, created.id, { name: 'Renamed' })

    expect(updated).toEqual({ ...created, name: 'Renamed', updated_at: '2026-01-02T03:04:06.678Z' })
  })

  it('moves updated_at forward even within the same millisecond', async () => {
    const created = await createDockerRegistry(ports, companyId, input)

    const updated = await updateDockerRegistry(ports, companyId, created.id, { name: 'Renamed' })

    expect(updated.updated_at).toBe('2026-01-02T03:04:05.679Z')
  })

  it('reseals a new secret with a fresh data key', async () => {
    const created = await createDockerRegistry(ports, companyId, input)
    const before = store.items.get(`${companyId}/${created.id}`)?.secret

    await updateDockerRegistry(ports, companyId, created.id, { secret: 'rotated-secret' })

    expect(sealer.sealed.at(-1)).toEqual({
      plaintext: 'rotated-secret',
      context: { companyId, credentialId: created.id },
    })
    expect(store.items.get(`${companyId}/${created.id}`)?.secret).not.toEqual(before)
  })

  it('refuses a new registry without a new secret', async () => {
    const created = await createDockerRegistry(ports, companyId, input)

    await expect(
      updateDockerRegistry(ports, companyId, created.id, { registry: 'custom' }),
    ).rejects.toBeInstanceOf(InvalidInputError)
  })

  it('refuses _json_key to _json_key_base64 without a new secret: the stored key file is not its base64', async () => {
    const created = await createDockerRegistry(ports, companyId, {
      ...input,
      registry: 'gcr',
      username: '_json_key',
      secret: testServiceAccountKey().json,
    })

    await expect(
      updateDockerRegistry(ports, companyId, created.id, { username: '_json_key_base64' }),
    ).rejects.toBeInstanceOf(InvalidInputError)
    expect(store.items.get(`${companyId}/${created.id}`)?.username).toBe('_json_key')
  })

  it('never moves a pinned credential to another registry, not even with a new secret', async () => {
    const created = await createDockerRegistry(
      ports,
      companyId,
      { ...input, registry: 'custom' },
      { registryHost: 'registry.example.com' },
    )

    await expect(
      updateDockerRegistry(ports, companyId, created.id, { registry: 'github', secret: 'ghp_something' }),
    ).rejects.toBeInstanceOf(InvalidInputError)
    expect(store.items.get(`${companyId}/${created.id}`)?.registryHost).toBe('registry.example.com')
  })

  it('keeps the pin when the secret is rotated', async () => {
    const created = await createDockerRegistry(
      ports,
      companyId,
      { ...input, registry: 'custom' },
      { registryHost: 'Registry.Example.com' },
    )

    await updateDockerRegistry(ports, companyId, created.id, { secret: 'rotated-secret' })

    expect(store.items.get(`${companyId}/${created.id}`)?.registryHost).toBe('registry.example.com')
  })

  it('pins Docker Hub aliases as docker.io', async () => {
    const created = await createDockerRegistry(ports, companyId, input, { registryHost: 'index.docker.io' })

    expect(store.items.get(`${companyId}/${created.id}`)?.registryHost).toBe('docker.io')
  })

  it('re-reads and retries when another update got in between, sealing the secret once', async () => {
    const created = await createDockerRegistry(ports, companyId, input)
    const racing = new RacingStore(store, 1)

    const updated = await updateDockerRegistry({ ...ports, store: racing }, companyId, created.id, {
      username: 'ours',
      secret: 'new-secret-value',
    })

    expect(updated).toMatchObject({ name: 'theirs', username: 'ours' })
    expect(updated.updated_at > racing.theirUpdatedAt).toBe(true)
    expect(sealer.sealed.filter(({ plaintext }) => plaintext === 'new-secret-value')).toHaveLength(1)
  })

  it('gives up with ConcurrentUpdateError when the credential keeps changing', async () => {
    const created = await createDockerRegistry(ports, companyId, input)

    await expect(
      updateDockerRegistry({ ...ports, store: new RacingStore(store, 99) }, companyId, created.id, {
        username: 'x',
      }),
    ).rejects.toBeInstanceOf(ConcurrentUpdateError)
  })

  it("refuses another company's credential", async () => {
    const created = await createDockerRegistry(ports, companyId, input)

    await expect(
      updateDockerRegistry(ports, otherCompanyId, created.id, { name: 'x' }),
    ).rejects.toBeInstanceOf(CredentialNotFoundError)
    expect((await getDockerRegistry(ports, companyId, created.id)).name).toBe('Hub')
  })
})

describe('deleteDockerRegistry', () => {
  it('deletes once, then reports not found', async () => {
    const created = await createDockerRegistry(ports, companyId, input)

    await deleteDockerRegistry(ports, companyId, created.id)

    await expect(deleteDockerRegistry(ports, companyId, created.id)).rejects.toBeInstanceOf(
      CredentialNotFoundError,
    )
  })
})
