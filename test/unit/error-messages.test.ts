import { describe, expect, it } from 'vitest'
import { updateDockerRegistry } from '../../shared/domain/docker-registry-use-cases.ts'
import { VerificationFailedError } from '../../shared/domain/verify-credential.ts'
import { mapError } from '../../shared/http/error-response.ts'
import { fixedClock, InMemoryCredentialStore, RecordingSealer, sequentialIds } from '../support/fakes.ts'

const companyId = '11111111-1111-4111-8111-111111111111'
const bodyOf = (error: unknown) => JSON.parse(mapError(error, 'req-1').response.body)

async function refusedUpdate(
  created: { registry: 'dockerHub' | 'custom'; registryHost?: string },
  update: Parameters<typeof updateDockerRegistry>[3],
) {
  const store = new InMemoryCredentialStore()
  const ports = {
    store,
    sealer: new RecordingSealer(),
    clock: fixedClock('2026-01-02T03:04:05.678Z'),
    newId: sequentialIds(),
  }
  const id = 'fb5e5168-4281-4bec-94c5-0d1584e9e657'
  await store.create(
    {
      companyId,
      id,
      name: 'Hub',
      username: 'me',
      createdAt: '2026-01-01T00:00:00.000Z',
      updatedAt: '2026-01-01T00:00:00.000Z',
      secret: await ports.sealer.seal('sup3r-secret', { companyId, credentialId: id }),
      ...created,
    },
    { limit: 1000 },
  )
  return updateDockerRegistry(ports as never, companyId, id, update).then(
    () => expect.unreachable('the update was accepted'),
    (error: unknown) => bodyOf(error),
  )
}

// some clients (the Sevalla Terraform provider) show a user only the top-level message
describe('the top-level message of a refused PATCH', () => {
  it('says that changing registry needs a new secret', async () => {
    const body = await refusedUpdate({ registry: 'dockerHub' }, { registry: 'custom' })

    expect(body.status).toBe(400)
    expect(body.message).toBe(
      'Bad request: changing registry needs a new secret in the same request; a secret belongs to its registry.',
    )
    expect(body.data.issues).toEqual([
      { path: 'secret', message: 'is required with a new registry: a secret belongs to its registry' },
    ])
  })

  it('says that a pinned credential cannot change registry', async () => {
    const body = await refusedUpdate(
      { registry: 'custom', registryHost: 'registry.example.com' },
      { registry: 'github', secret: 'ghp_something' },
    )

    expect(body.message).toBe(
      'Bad request: the registry of a credential pinned to registry.example.com cannot change; create a new credential instead.',
    )
  })
})

describe('error messages of two sentences', () => {
  it('put a full stop between them', () => {
    const error = new VerificationFailedError({
      status: 'dns',
      message: 'registry.invalid could not be resolved',
    })

    expect(bodyOf(error).data.message).toBe(
      'registry.invalid could not be resolved. The credential was not stored.',
    )
  })

  it('do not double a full stop that is already there', () => {
    const error = new VerificationFailedError({
      status: 'auth_denied',
      message: 'Amazon ECR rejected the access key.',
    })

    expect(bodyOf(error).data.message).toBe(
      'Amazon ECR rejected the access key. The credential was not stored.',
    )
  })
})
