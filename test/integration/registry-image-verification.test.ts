import http from 'node:http'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { closeServer, listen } from '../../local/server-lifecycle.ts'
import {
  createRegistryVerifier,
  type RegistryVerifierOptions,
} from '../../shared/adapters/registry-verifier.ts'
import type { ImageToVerify } from '../../shared/domain/verify-credential.ts'
import {
  type RunningDockerRegistry,
  startDockerRegistry,
  TEST_REGISTRY_PASSWORD,
  TEST_REGISTRY_USERNAME,
} from '../support/docker-registry.ts'
import { basicAuth, type PushedImage, pushToken, registryPusher } from '../support/registry-images.ts'
import {
  type RunningTokenService,
  startTokenService,
  tokenAuthOf,
} from '../support/registry-token-service.ts'

// the local stack's settings: plain http and loopback are allowed, nothing else internal is
const LOCAL: RegistryVerifierOptions = { allowInsecureHttp: true, allowLoopback: true, timeoutMs: 3_000 }
const credentials = { username: TEST_REGISTRY_USERNAME, password: TEST_REGISTRY_PASSWORD }
const AMD64 = { os: 'linux', architecture: 'amd64' }
const ARM64 = { os: 'linux', architecture: 'arm64', variant: 'v8' }

const verifier = createRegistryVerifier(LOCAL)
const verifyImage = (registryHost: string, image: ImageToVerify, login = credentials) =>
  verifier.verify({ registryHost, scheme: 'http', ...login, image })

describe('image verification against a real registry with htpasswd (Basic) auth', () => {
  let registry: RunningDockerRegistry
  let single: PushedImage
  let multi: PushedImage

  beforeAll(async () => {
    registry = await startDockerRegistry({ kind: 'htpasswd' })
    const pusher = registryPusher(registry.host, basicAuth(TEST_REGISTRY_USERNAME, TEST_REGISTRY_PASSWORD))
    single = await pusher.pushImage('acme/single', '1.0', AMD64)
    multi = await pusher.pushIndex('acme/multi', '2.0', [AMD64, ARM64])
  })
  afterAll(async () => {
    await registry?.stop()
  })

  it('reports ok for an image the credentials can pull', async () => {
    const result = await verifyImage(registry.host, { repository: 'acme/single', reference: '1.0' })

    expect(result).toEqual({
      status: 'ok',
      message: `${registry.host} accepted the credentials; acme/single:1.0 can be pulled`,
    })
  })

  it('finds an image by digest', async () => {
    const result = await verifyImage(registry.host, { repository: 'acme/single', reference: single.digest })

    expect(result.status).toBe('ok')
    expect(result.message).toContain(`acme/single@${single.digest}`)
  })

  it('reads the platforms of an index with two', async () => {
    const result = await verifyImage(registry.host, { repository: 'acme/multi', reference: multi.tag })

    expect(result.status).toBe('ok')
    expect(result.platforms).toEqual(['linux/amd64', 'linux/arm64/v8'])
  })

  it('reports ok when the index has the requested platform', async () => {
    const result = await verifyImage(registry.host, {
      repository: 'acme/multi',
      reference: '2.0',
      platform: { os: 'linux', architecture: 'arm64' },
    })

    expect(result.status).toBe('ok')
  })

  it('reports platform_mismatch when the index lacks the requested platform', async () => {
    const result = await verifyImage(registry.host, {
      repository: 'acme/multi',
      reference: '2.0',
      platform: { os: 'linux', architecture: 's390x' },
    })

    expect(result).toEqual({
      status: 'platform_mismatch',
      message: `acme/multi:2.0 on ${registry.host} has no linux/s390x image (it has linux/amd64, linux/arm64/v8)`,
      platforms: ['linux/amd64', 'linux/arm64/v8'],
    })
  })

  it("reads a single-platform image's config for its platform", async () => {
    const matching = await verifyImage(registry.host, {
      repository: 'acme/single',
      reference: '1.0',
      platform: AMD64,
    })
    const other = await verifyImage(registry.host, {
      repository: 'acme/single',
      reference: '1.0',
      platform: ARM64,
    })

    expect(matching).toMatchObject({ status: 'ok', platforms: ['linux/amd64'] })
    expect(other).toMatchObject({ status: 'platform_mismatch', platforms: ['linux/amd64'] })
  })

  it('reports repository_not_found for a tag the repository lacks', async () => {
    const result = await verifyImage(registry.host, { repository: 'acme/single', reference: 'no-such-tag' })

    expect(result).toEqual({
      status: 'repository_not_found',
      message: `${registry.host} has no image acme/single:no-such-tag`,
    })
  })

  it('reports repository_not_found for a repository that does not exist', async () => {
    // distribution answers MANIFEST_UNKNOWN here too, so the message cannot say which is missing
    const result = await verifyImage(registry.host, { repository: 'acme/nothing-here', reference: 'latest' })

    expect(result).toEqual({
      status: 'repository_not_found',
      message: `${registry.host} has no image acme/nothing-here:latest`,
    })
  })

  it('reports auth_denied, not pull_denied, for a wrong password', async () => {
    const result = await verifyImage(
      registry.host,
      { repository: 'acme/single', reference: '1.0' },
      { username: TEST_REGISTRY_USERNAME, password: 'not-the-password-123' },
    )

    expect(result.status).toBe('auth_denied')
  })
})

describe('image verification against a real registry with token (Bearer) auth', () => {
  let tokenService: RunningTokenService
  let registry: RunningDockerRegistry

  beforeAll(async () => {
    tokenService = await startTokenService({ ...credentials, deniedRepositories: ['acme/secret'] })
    registry = await startDockerRegistry(tokenAuthOf(tokenService))
    const login = basicAuth(TEST_REGISTRY_USERNAME, TEST_REGISTRY_PASSWORD)
    const token = await pushToken(tokenService.realm, tokenService.service, 'acme/multi', login)
    await registryPusher(registry.host, token).pushIndex('acme/multi', '2.0', [AMD64, ARM64])
  })
  afterAll(async () => {
    await registry?.stop()
    await tokenService?.stop()
  })

  it('asks the token service for repository:<name>:pull and pulls the manifest with that token', async () => {
    tokenService.requests.length = 0

    const result = await verifyImage(registry.host, { repository: 'acme/multi', reference: '2.0' })

    expect(result).toMatchObject({ status: 'ok', platforms: ['linux/amd64', 'linux/arm64/v8'] })
    expect(tokenService.requests).toEqual([
      {
        service: tokenService.service,
        scope: 'repository:acme/multi:pull',
        account: TEST_REGISTRY_USERNAME,
        authorized: true,
      },
    ])
  })

  it('reports pull_denied when the login is right but may not pull the repository', async () => {
    const result = await verifyImage(registry.host, { repository: 'acme/secret', reference: 'latest' })

    expect(result.status).toBe('pull_denied')
  })

  it('reports auth_denied when the token service rejects the password', async () => {
    const result = await verifyImage(
      registry.host,
      { repository: 'acme/multi', reference: '2.0' },
      { username: TEST_REGISTRY_USERNAME, password: 'not-the-password-123' },
    )

    expect(result.status).toBe('auth_denied')
  })
})

describe('image verification against registries that answer in other ways', () => {
  const servers: http.Server[] = []
  const requests: string[] = []
  async function start(handler: http.RequestListener): Promise<string> {
    const server = http.createServer((request, response) => {
      requests.push(`${request.method} ${request.url} ${request.headers.authorization ?? '-'}`)
      handler(request, response)
    })
    servers.push(server)
    return `127.0.0.1:${await listen(server)}`
  }
  afterEach(async () => {
    await Promise.all(servers.splice(0).map(closeServer))
    requests.length = 0
  })
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
  })

  it('falls back to GET when the registry refuses HEAD', async () => {
    const host = await start((request, response) => {
      if (request.url === '/v2/') return void response.writeHead(200).end('{}')
      if (request.method === 'HEAD') return void response.writeHead(405).end()
      response.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json' }).end(manifest)
    })

    const result = await verifyImage(host, { repository: 'app', reference: '1' })

    expect(result.status).toBe('anonymous')
    expect(requests).toEqual(['GET /v2/ -', 'HEAD /v2/app/manifests/1 -', 'GET /v2/app/manifests/1 -'])
  })

  it('sends the OCI and Docker manifest media types', async () => {
    let accept: string | undefined
    const host = await start((request, response) => {
      if (request.url !== '/v2/') accept = request.headers.accept
      response.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json' }).end()
    })

    await verifyImage(host, { repository: 'app', reference: '1' })

    expect(accept?.split(', ')).toEqual([
      'application/vnd.oci.image.index.v1+json',
      'application/vnd.oci.image.manifest.v1+json',
      'application/vnd.docker.distribution.manifest.list.v2+json',
      'application/vnd.docker.distribution.manifest.v2+json',
    ])
  })

  it('logs in where the API root is open but the repository is not', async () => {
    const login = basicAuth(TEST_REGISTRY_USERNAME, TEST_REGISTRY_PASSWORD)
    const host = await start((request, response) => {
      if (request.url === '/v2/') return void response.writeHead(200).end('{}')
      if (request.headers.authorization !== login) {
        return void response.writeHead(401, { 'www-authenticate': 'Basic realm="x"' }).end()
      }
      response.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json' }).end()
    })

    const result = await verifyImage(host, { repository: 'app', reference: '1' })

    expect(result.status).toBe('ok')
  })

  it('reports anonymous when the image itself needs no credentials', async () => {
    const host = await start((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json' }).end()
    })

    const result = await verifyImage(host, { repository: 'app', reference: '1' })

    expect(result.status).toBe('anonymous')
    expect(requests.every((line) => line.endsWith(' -'))).toBe(true)
  })

  it('reports pull_denied when an open registry refuses the repository without a challenge', async () => {
    const host = await start((request, response) => {
      response.writeHead(request.url === '/v2/' ? 200 : 403).end()
    })

    const result = await verifyImage(host, { repository: 'app', reference: '1' })

    expect(result.status).toBe('pull_denied')
  })

  it('says the repository is missing when the registry says NAME_UNKNOWN', async () => {
    const host = await start((request, response) => {
      if (request.url === '/v2/') return void response.writeHead(200).end('{}')
      response
        .writeHead(404, { 'content-type': 'application/json' })
        .end(request.method === 'HEAD' ? undefined : '{"errors":[{"code":"NAME_UNKNOWN","message":"x"}]}')
    })

    const result = await verifyImage(host, { repository: 'app', reference: '1' })

    expect(result).toEqual({ status: 'repository_not_found', message: `${host} has no repository app` })
  })

  it('reports registry_error for an index it cannot read', async () => {
    const host = await start((request, response) => {
      if (request.url === '/v2/') return void response.writeHead(200).end('{}')
      response.writeHead(200, { 'content-type': 'application/vnd.oci.image.index.v1+json' }).end('not json')
    })

    const result = await verifyImage(host, { repository: 'app', reference: '1' })

    expect(result).toEqual({
      status: 'registry_error',
      message: `${host} sent an image index that cannot be read`,
    })
  })
})
