import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { logger } from '../../shared/runtime/logger.ts'
import {
  type RunningDockerRegistry,
  SKIP_REGISTRY_TESTS,
  startDockerRegistry,
  TEST_REGISTRY_PASSWORD,
  TEST_REGISTRY_USERNAME,
} from '../support/docker-registry.ts'
import { basicAuth, registryPusher } from '../support/registry-images.ts'
import { captureOutput, newCompanyId, startTestStack, type TestStack } from '../support/test-stack.ts'

let stack: TestStack
let registry: RunningDockerRegistry

// every test here needs the real registry: without it (outside CI) the file skips, visibly
beforeAll(async () => {
  if (SKIP_REGISTRY_TESTS) return
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

async function createCredential(
  body: Record<string, unknown>,
  { key, pin }: { key?: string; pin?: string } = {},
) {
  const query = pin ? `?registry_host=${pin}` : ''
  const response = await stack.request('POST', `/docker-registries${query}`, {
    body,
    ...(key ? { key } : {}),
  })
  expect(response.status).toBe(201)
  return response.body as { id: string }
}

const verify = (id: string, options: { key?: string; query?: string } = {}) =>
  stack.request('POST', `/docker-registries/${id}/verify${options.query ?? ''}`, {
    ...(options.key ? { key: options.key } : {}),
  })

describe.skipIf(SKIP_REGISTRY_TESTS)('POST /v3/docker-registries/{id}/verify against a real registry', () => {
  it('reports ok for the right password, without showing it', async () => {
    const { id } = await createCredential(customCredential(TEST_REGISTRY_PASSWORD), { pin: registry.host })

    const response = await verify(id)

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
    const { id } = await createCredential(customCredential('not-the-right-password'), { pin: registry.host })

    const response = await verify(id)

    expect(response.status).toBe(200)
    expect(response.body.result).toBe('auth_denied')
    expect(response.text).not.toContain('not-the-right-password')
  })

  it('refuses to verify a custom credential pinned to no host, before decrypting anything', async () => {
    const { id } = await createCredential(customCredential(TEST_REGISTRY_PASSWORD))
    const decrypts = stack.kms.requestCount('Decrypt')

    const response = await verify(id)

    expect(response.status).toBe(400)
    expect(response.body.data.issues).toEqual([
      { path: 'registry_host', message: expect.stringContaining('is required for custom credentials') },
    ])
    expect(stack.kms.requestCount('Decrypt')).toBe(decrypts)
  })

  it('takes no host from the caller: a stored secret never goes where the caller says', async () => {
    const { id } = await createCredential(customCredential(TEST_REGISTRY_PASSWORD), { pin: registry.host })

    const response = await verify(id, { query: '?registry_host=attacker.example' })

    expect(response.status).toBe(400)
    expect(response.body.data.issues).toEqual([
      { path: 'registry_host', message: 'is not a known parameter' },
    ])
  })

  it('cannot be turned on a stored secret by re-pointing the credential without its secret', async () => {
    const github = await createCredential({ ...customCredential(TEST_REGISTRY_PASSWORD), registry: 'github' })
    const decrypts = stack.kms.requestCount('Decrypt')

    const toCustom = await stack.request('PATCH', `/docker-registries/${github.id}`, {
      body: { registry: 'custom' },
    })
    const repinned = await stack.request(
      'PATCH',
      `/docker-registries/${github.id}?registry_host=${registry.host}`,
      {
        body: { name: 'still github' },
      },
    )

    expect([toCustom.status, repinned.status]).toEqual([400, 400])
    expect(stack.kms.requestCount('Decrypt')).toBe(decrypts)
  })

  it('refuses to pin a credential to a host outside its provider', async () => {
    const response = await stack.request('POST', `/docker-registries?registry_host=${registry.host}`, {
      body: { ...customCredential(TEST_REGISTRY_PASSWORD), registry: 'github' },
    })

    expect(response.status).toBe(400)
    expect(response.body.data.issues[0].path).toBe('registry_host')
  })

  it("keeps a credential's pin through a rotation: another write key cannot re-aim it", async () => {
    const { id } = await createCredential(customCredential('the-first-password'), { pin: registry.host })

    const repin = await stack.request('PATCH', `/docker-registries/${id}?registry_host=attacker.example`, {
      body: { secret: 'junk-secret' },
    })
    const rotated = await stack.request('PATCH', `/docker-registries/${id}`, {
      body: { secret: TEST_REGISTRY_PASSWORD },
    })
    const response = await verify(id)

    expect(repin.status).toBe(400)
    expect(rotated.status).toBe(200)
    expect(response.body).toMatchObject({ registry_host: registry.host, result: 'ok' })
  })

  it("answers 404 for another company's credential", async () => {
    const { id } = await createCredential(customCredential(TEST_REGISTRY_PASSWORD), { pin: registry.host })
    const otherKey = await stack.mintKey(newCompanyId())

    const response = await verify(id, { key: otherKey })

    expect(response.status).toBe(404)
  })

  it('is refused to read-only keys', async () => {
    const { id } = await createCredential(customCredential(TEST_REGISTRY_PASSWORD), { pin: registry.host })
    const readOnly = await stack.mintKey(stack.companyId, { permissions: ['docker_registries:read'] })

    const response = await verify(id, { key: readOnly })

    expect(response.status).toBe(403)
  })

  it('reports registry_error for a port where nothing listens', async () => {
    const { id } = await createCredential(customCredential(TEST_REGISTRY_PASSWORD), { pin: '127.0.0.1:1' })

    const response = await verify(id)

    expect(['registry_error', 'timeout']).toContain(response.body.result)
  })

  it('never logs the secret it presents', async () => {
    const { id } = await createCredential(customCredential(TEST_REGISTRY_PASSWORD), { pin: registry.host })
    logger.setLogLevel('DEBUG')
    const output = captureOutput()
    try {
      await verify(id)
      await verify('0195f1f6-8f5e-7000-8000-0000000000ff')
    } finally {
      output.restore()
      logger.setLogLevel('WARN')
    }

    expect(output.text()).toContain('request rejected')
    expect(output.text()).not.toContain(TEST_REGISTRY_PASSWORD)
  })
})

describe.skipIf(SKIP_REGISTRY_TESTS)('POST /v3/docker-registries?verify=true against a real registry', () => {
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

  it('does not contact any registry without verify=true, only pins the host', async () => {
    const response = await stack.request('POST', '/docker-registries?registry_host=127.0.0.1:1', {
      body: customCredential('anything-at-all'),
    })

    expect(response.status).toBe(201)
    const raw = (await stack.rawCredentialItems()).find((item) => item.id.S === response.body.id)
    expect(raw?.registry_host).toEqual({ S: '127.0.0.1:1' })
  })

  it('refuses an unknown query parameter', async () => {
    const response = await stack.request('POST', '/docker-registries?verify=yes', {
      body: customCredential(TEST_REGISTRY_PASSWORD),
    })

    expect(response.status).toBe(400)
    expect(response.body.data.issues[0].path).toBe('verify')
  })
})

describe('?image= verification through the API against a real registry', () => {
  beforeAll(async () => {
    const pusher = registryPusher(registry.host, basicAuth(TEST_REGISTRY_USERNAME, TEST_REGISTRY_PASSWORD))
    await pusher.pushIndex('acme/api', '1.4.2', [
      { os: 'linux', architecture: 'amd64' },
      { os: 'linux', architecture: 'arm64' },
    ])
  })

  it('reports the image, its platforms and ok for a pull the credential may make', async () => {
    const { id } = await createCredential(customCredential(TEST_REGISTRY_PASSWORD), { pin: registry.host })

    const response = await verify(id, {
      query: `?image=${registry.host}/acme/api:1.4.2&platform=linux/arm64`,
    })

    expect(response.status).toBe(200)
    expect(response.body).toMatchObject({
      result: 'ok',
      image: `${registry.host}/acme/api:1.4.2`,
      platform: 'linux/arm64',
      platforms: ['linux/amd64', 'linux/arm64'],
    })
  })

  it('reports platform_mismatch for a platform the image lacks', async () => {
    const { id } = await createCredential(customCredential(TEST_REGISTRY_PASSWORD), { pin: registry.host })

    const response = await verify(id, {
      query: `?image=${registry.host}/acme/api:1.4.2&platform=linux/ppc64le`,
    })

    expect(response.body.result).toBe('platform_mismatch')
  })

  it('refuses an image on another host, presenting the secret nowhere', async () => {
    const elsewhere = await startDockerRegistry()
    try {
      const { id } = await createCredential(customCredential(TEST_REGISTRY_PASSWORD), { pin: registry.host })

      const response = await verify(id, { query: `?image=${elsewhere.host}/acme/api:1.4.2` })

      expect(response.status).toBe(400)
      expect(response.body.data.issues).toEqual([
        {
          path: 'image',
          message: `must be an image on ${registry.host}, the registry host of this credential`,
        },
      ])
    } finally {
      await elsewhere.stop()
    }
  })

  it('refuses a platform without an image, and a malformed platform', async () => {
    const { id } = await createCredential(customCredential(TEST_REGISTRY_PASSWORD), { pin: registry.host })

    const alone = await verify(id, { query: '?platform=linux/amd64' })
    const malformed = await verify(id, { query: `?image=${registry.host}/acme/api:1.4.2&platform=linux` })

    expect(alone.status).toBe(400)
    expect(alone.body.data.issues[0].path).toBe('platform')
    expect(malformed.status).toBe(400)
    expect(malformed.body.data.issues[0].path).toBe('platform')
  })

  it('stores nothing on create?verify=true when the image does not exist', async () => {
    const before = (await stack.rawCredentialItems()).length

    const response = await stack.request(
      'POST',
      `/docker-registries?verify=true&registry_host=${registry.host}&image=${registry.host}/acme/missing:1`,
      { body: customCredential(TEST_REGISTRY_PASSWORD) },
    )

    expect(response.status).toBe(400)
    expect(response.body.data).toMatchObject({ code: 'verification_failed', result: 'repository_not_found' })
    expect((await stack.rawCredentialItems()).length).toBe(before)
  })

  it('stores the credential on create?verify=true when the image can be pulled', async () => {
    const response = await stack.request(
      'POST',
      `/docker-registries?verify=true&registry_host=${registry.host}&image=${registry.host}/acme/api:1.4.2`,
      { body: customCredential(TEST_REGISTRY_PASSWORD) },
    )

    expect(response.status).toBe(201)
  })

  it('refuses image on create without verify=true rather than ignoring it', async () => {
    const response = await stack.request(
      'POST',
      `/docker-registries?registry_host=${registry.host}&image=${registry.host}/acme/api:1.4.2`,
      { body: customCredential(TEST_REGISTRY_PASSWORD) },
    )

    expect(response.status).toBe(400)
    expect(response.body.data.issues).toEqual([{ path: 'image', message: 'is only used with verify=true' }])
  })
})
