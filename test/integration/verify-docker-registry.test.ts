import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  type RunningDockerRegistry,
  startDockerRegistry,
  TEST_REGISTRY_PASSWORD,
  TEST_REGISTRY_USERNAME,
} from '../support/docker-registry.ts'
import { newCompanyId, startTestStack, type TestStack } from '../support/test-stack.ts'

let stack: TestStack
let registry: RunningDockerRegistry

beforeAll(async () => {
  ;[stack, registry] = await Promise.all([startTestStack(), startDockerRegistry()])
})

afterAll(async () => {
  await Promise.all([stack?.close(), registry?.stop()])
})

const customCredential = (secret: string) => ({
  name: 'self-hosted',
  registry: 'custom',
  username: TEST_REGISTRY_USERNAME,
  secret,
})

async function createCredential(body: Record<string, unknown>, key?: string) {
  const response = await stack.request('POST', '/docker-registries', { body, ...(key ? { key } : {}) })
  expect(response.status).toBe(201)
  return response.body as { id: string }
}

describe('POST /v3/docker-registries/{id}/verify against a real registry', () => {
  it('reports ok for the right password, without showing it', async () => {
    const { id } = await createCredential(customCredential(TEST_REGISTRY_PASSWORD))

    const response = await stack.request(
      'POST',
      `/docker-registries/${id}/verify?registry_host=${registry.host}`,
    )

    expect(response.status).toBe(200)
    expect(response.body).toMatchObject({
      id,
      registry: 'custom',
      registry_host: registry.host,
      result: 'ok',
    })
    expect(response.body.verified_at).toMatch(/Z$/)
    expect(response.text).not.toContain(TEST_REGISTRY_PASSWORD)
  })

  it('reports auth_denied for a wrong password', async () => {
    const { id } = await createCredential(customCredential('not-the-right-password'))

    const response = await stack.request(
      'POST',
      `/docker-registries/${id}/verify?registry_host=${registry.host}`,
    )

    expect(response.status).toBe(200)
    expect(response.body.result).toBe('auth_denied')
    expect(response.text).not.toContain('not-the-right-password')
  })

  it('asks for registry_host when a custom credential names none', async () => {
    const { id } = await createCredential(customCredential(TEST_REGISTRY_PASSWORD))

    const response = await stack.request('POST', `/docker-registries/${id}/verify`)

    expect(response.status).toBe(400)
    expect(response.body.data.issues).toEqual([
      { path: 'registry_host', message: 'is required for custom credentials' },
    ])
  })

  it("refuses a host that is not the provider's, before decrypting anything", async () => {
    const { id } = await createCredential({ ...customCredential(TEST_REGISTRY_PASSWORD), registry: 'github' })
    const decrypts = stack.kms.requestCount('Decrypt')

    const response = await stack.request(
      'POST',
      `/docker-registries/${id}/verify?registry_host=${registry.host}`,
    )

    expect(response.status).toBe(400)
    expect(response.body.data.issues[0].path).toBe('registry_host')
    expect(stack.kms.requestCount('Decrypt')).toBe(decrypts)
  })

  it("answers 404 for another company's credential", async () => {
    const { id } = await createCredential(customCredential(TEST_REGISTRY_PASSWORD))
    const otherKey = await stack.mintKey(newCompanyId())

    const response = await stack.request(
      'POST',
      `/docker-registries/${id}/verify?registry_host=${registry.host}`,
      {
        key: otherKey,
      },
    )

    expect(response.status).toBe(404)
  })

  it('is refused to read-only keys', async () => {
    const { id } = await createCredential(customCredential(TEST_REGISTRY_PASSWORD))
    const readOnly = await stack.mintKey(stack.companyId, { permissions: ['docker_registries:read'] })

    const response = await stack.request(
      'POST',
      `/docker-registries/${id}/verify?registry_host=${registry.host}`,
      {
        key: readOnly,
      },
    )

    expect(response.status).toBe(403)
  })

  it('reports registry_error for a port where nothing listens', async () => {
    const { id } = await createCredential(customCredential(TEST_REGISTRY_PASSWORD))

    const response = await stack.request('POST', `/docker-registries/${id}/verify?registry_host=127.0.0.1:1`)

    expect(['registry_error', 'timeout']).toContain(response.body.result)
  })
})

describe('POST /v3/docker-registries?verify=true against a real registry', () => {
  it('stores a credential the registry accepts', async () => {
    const response = await stack.request(
      'POST',
      `/docker-registries?verify=true&registry_host=${registry.host}`,
      {
        body: customCredential(TEST_REGISTRY_PASSWORD),
      },
    )

    expect(response.status).toBe(201)
    expect(response.body.registry).toBe('custom')
  })

  it('stores nothing when the registry refuses the credential', async () => {
    const before = (await stack.rawCredentialItems()).length

    const response = await stack.request(
      'POST',
      `/docker-registries?verify=true&registry_host=${registry.host}`,
      {
        body: customCredential('wrong-password-123'),
      },
    )

    expect(response.status).toBe(400)
    expect(response.body).toMatchObject({
      status: 400,
      data: { code: 'verification_failed', result: 'auth_denied' },
    })
    expect(response.text).not.toContain('wrong-password-123')
    expect((await stack.rawCredentialItems()).length).toBe(before)
  })

  it('does not contact any registry without verify=true', async () => {
    const response = await stack.request('POST', '/docker-registries?registry_host=127.0.0.1:1', {
      body: customCredential('anything-at-all'),
    })

    expect(response.status).toBe(201)
  })

  it('refuses an unknown query parameter', async () => {
    const response = await stack.request('POST', '/docker-registries?verify=yes', {
      body: customCredential(TEST_REGISTRY_PASSWORD),
    })

    expect(response.status).toBe(400)
    expect(response.body.data.issues[0].path).toBe('verify')
  })
})
