import http from 'node:http'
import https from 'node:https'
import type { AddressInfo } from 'node:net'
import type { TLSSocket } from 'node:tls'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { closeServer, listen } from '../../local/server-lifecycle.ts'
import {
  createRegistryVerifier,
  type RegistryVerifierOptions,
  type ResolvedAddress,
} from '../../shared/adapters/registry-verifier.ts'
import {
  findFreePort,
  type RunningDockerRegistry,
  SKIP_REGISTRY_TESTS,
  startDockerRegistry,
  TEST_REGISTRY_PASSWORD,
  TEST_REGISTRY_USERNAME,
} from '../support/docker-registry.ts'
import {
  type RunningTokenService,
  startTokenService,
  tokenAuthOf,
} from '../support/registry-token-service.ts'
import {
  createSelfSignedCertificate,
  type SelfSignedCertificate,
} from '../support/self-signed-certificate.ts'

/** a node:http server on 127.0.0.1 that counts the TCP connections it accepts. */
interface TestServer {
  port: number
  host: string
  connections: number
  requests: http.IncomingMessage[]
  stop(): Promise<void>
}

async function startTestServer(handler: http.RequestListener = (_, res) => res.end()): Promise<TestServer> {
  const requests: http.IncomingMessage[] = []
  const server = http.createServer((request, response) => {
    requests.push(request)
    handler(request, response)
  })
  const state: TestServer = {
    port: 0,
    host: '',
    connections: 0,
    requests,
    stop: () => closeServer(server),
  }
  server.on('connection', () => {
    state.connections++
  })
  state.port = await listen(server)
  state.host = `127.0.0.1:${state.port}`
  return state
}

/** a resolver answering from a fixed table, counting its calls; unknown names fail like DNS does. */
function fakeResolver(table: Record<string, string[]>) {
  const calls: string[] = []
  const resolve = async (hostname: string): Promise<ResolvedAddress[]> => {
    calls.push(hostname)
    const addresses = table[hostname]
    if (!addresses) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' })
    return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }))
  }
  return { resolve, calls }
}

// the local stack's settings: plain http and loopback are allowed, nothing else internal is
const LOCAL: RegistryVerifierOptions = { allowInsecureHttp: true, allowLoopback: true, timeoutMs: 3_000 }

const credentials = { username: TEST_REGISTRY_USERNAME, password: TEST_REGISTRY_PASSWORD }

describe.skipIf(SKIP_REGISTRY_TESTS)(
  'createRegistryVerifier against a real registry with htpasswd (Basic) auth',
  () => {
    let registry: RunningDockerRegistry

    beforeAll(async () => {
      registry = await startDockerRegistry({ kind: 'htpasswd' })
    })
    afterAll(async () => {
      await registry?.stop()
    })

    it('reports ok for the right username and password', async () => {
      const verifier = createRegistryVerifier(LOCAL)

      const result = await verifier.verify({ registryHost: registry.host, scheme: 'http', ...credentials })

      expect(result).toEqual({ status: 'ok', message: `${registry.host} accepted the credentials` })
    })

    it('reports auth_denied for a wrong password, without echoing it', async () => {
      const verifier = createRegistryVerifier(LOCAL)
      const password = 'wrong-password-0123456789'

      const result = await verifier.verify({
        registryHost: registry.host,
        scheme: 'http',
        username: 'verifier',
        password,
      })

      expect(result.status).toBe('auth_denied')
      expect(result.message).not.toContain(password)
    })

    it('reports auth_denied for an unknown user', async () => {
      const verifier = createRegistryVerifier(LOCAL)

      const result = await verifier.verify({
        registryHost: registry.host,
        scheme: 'http',
        username: 'nobody',
        password: TEST_REGISTRY_PASSWORD,
      })

      expect(result.status).toBe('auth_denied')
    })

    it('connects to the vetted address, not to what the system resolver says about the name', async () => {
      // `registry.invalid` cannot resolve through real DNS (RFC 6761), so success proves every
      // connection used the address the injected resolver returned and the verifier vetted
      const [, port] = registry.host.split(':')
      const resolver = fakeResolver({ 'registry.invalid': ['127.0.0.1'] })
      const verifier = createRegistryVerifier({ ...LOCAL, resolve: resolver.resolve })

      const result = await verifier.verify({
        registryHost: `registry.invalid:${port}`,
        scheme: 'http',
        ...credentials,
      })

      expect(result.status).toBe('ok')
      expect(resolver.calls).toEqual(['registry.invalid', 'registry.invalid'])
    })

    it('refuses a loopback registry when loopback is not allowed, before connecting', async () => {
      const verifier = createRegistryVerifier({ allowInsecureHttp: true })

      const result = await verifier.verify({ registryHost: registry.host, scheme: 'http', ...credentials })

      expect(result.status).toBe('blocked_address')
    })

    it('refuses plain http unless it is allowed', async () => {
      const verifier = createRegistryVerifier({ allowLoopback: true })

      const result = await verifier.verify({ registryHost: registry.host, scheme: 'http', ...credentials })

      expect(result.status).toBe('malformed')
    })

    it('reports tls when an https handshake fails (the registry speaks plain http)', async () => {
      const verifier = createRegistryVerifier({ allowLoopback: true, timeoutMs: 3_000 })

      const result = await verifier.verify({ registryHost: registry.host, ...credentials })

      expect(result.status).toBe('tls')
    })
  },
)

describe.skipIf(SKIP_REGISTRY_TESTS)(
  'createRegistryVerifier against a real registry with token (Bearer) auth',
  () => {
    let tokenService: RunningTokenService
    let registry: RunningDockerRegistry

    beforeAll(async () => {
      tokenService = await startTokenService({ ...credentials, tokenField: 'access_token' })
      registry = await startDockerRegistry(tokenAuthOf(tokenService))
    })
    afterAll(async () => {
      await registry?.stop()
      await tokenService?.stop()
    })

    it('exchanges the credentials for a token the registry accepts', async () => {
      tokenService.requests.length = 0
      const verifier = createRegistryVerifier(LOCAL)

      const result = await verifier.verify({ registryHost: registry.host, scheme: 'http', ...credentials })

      expect(result).toEqual({ status: 'ok', message: `${registry.host} accepted the credentials` })
      expect(tokenService.requests).toEqual([
        { service: tokenService.service, scope: null, account: TEST_REGISTRY_USERNAME, authorized: true },
      ])
    })

    it('reports auth_denied when the token service rejects the password', async () => {
      const verifier = createRegistryVerifier(LOCAL)
      const password = 'not-the-password-9876'

      const result = await verifier.verify({
        registryHost: registry.host,
        scheme: 'http',
        username: 'verifier',
        password,
      })

      expect(result.status).toBe('auth_denied')
      expect(result.message).not.toContain(password)
    })

    it('reports auth_denied when the registry rejects the token it was given', async () => {
      // a second registry whose challenge points at a token service signing with a key it does
      // not trust: the token is issued, then refused by the real registry
      const rogue = await startTokenService(credentials)
      const distrusting = await startDockerRegistry({
        kind: 'token',
        realm: rogue.realm,
        service: tokenService.service,
        issuer: tokenService.issuer,
        rootCertBundlePath: tokenService.certificatePath,
      })
      try {
        const verifier = createRegistryVerifier(LOCAL)

        const result = await verifier.verify({
          registryHost: distrusting.host,
          scheme: 'http',
          ...credentials,
        })

        expect(result.status).toBe('auth_denied')
        expect(rogue.requests.map((request) => request.authorized)).toEqual([true])
      } finally {
        await distrusting.stop()
        await rogue.stop()
      }
    })
  },
)

describe('createRegistryVerifier address vetting (SSRF)', () => {
  let target: TestServer

  beforeAll(async () => {
    // a loopback server that would answer like an open registry: any connection to it shows
    // that a request was sent where none may be
    target = await startTestServer((_, response) => response.writeHead(200).end('{}'))
  })
  afterAll(async () => {
    await target?.stop()
  })

  it.each([
    ['a private address', '10.0.0.1'],
    ['the instance metadata service', '169.254.169.254'],
    ['carrier-grade NAT', '100.64.0.1'],
    ['the metadata service over IPv6', 'fd00:ec2::254'],
    ['an IPv4-mapped metadata address', '::ffff:169.254.169.254'],
    ['a NAT64 metadata address', '64:ff9b::a9fe:a9fe'],
    ['an IPv4-translated metadata address', '::ffff:0:a9fe:a9fe'],
    ['an IPv6 link-local address', 'fe80::1'],
    ['the unspecified address', '0.0.0.0'],
  ])('refuses a name resolving to %s (%s) among public addresses, sending nothing', async (_, address) => {
    // the allowed loopback target is listed first: a verifier that vetted only the address it
    // connects to would reach it and be counted
    const resolver = fakeResolver({ 'registry.invalid': ['127.0.0.1', address] })
    const verifier = createRegistryVerifier({ ...LOCAL, resolve: resolver.resolve })
    const before = target.connections

    const result = await verifier.verify({
      registryHost: `registry.invalid:${target.port}`,
      scheme: 'http',
      ...credentials,
    })

    expect(result.status).toBe('blocked_address')
    expect(target.connections).toBe(before)
  })

  it.each([['127.0.0.1'], ['::ffff:127.0.0.1']])(
    'refuses a name resolving to loopback %s when loopback is not allowed, sending nothing',
    async (address) => {
      const resolver = fakeResolver({ 'registry.invalid': [address] })
      const verifier = createRegistryVerifier({ allowInsecureHttp: true, resolve: resolver.resolve })
      const before = target.connections

      const result = await verifier.verify({
        registryHost: `registry.invalid:${target.port}`,
        scheme: 'http',
        ...credentials,
      })

      expect(result.status).toBe('blocked_address')
      expect(target.connections).toBe(before)
    },
  )

  it.each([
    ['an IPv4 literal', (port: number) => `127.0.0.1:${port}`],
    ['an IPv6 literal', (port: number) => `[::ffff:7f00:1]:${port}`],
    ['localhost', (port: number) => `localhost:${port}`],
  ])('refuses %s host when loopback is not allowed, sending nothing', async (_, host) => {
    const verifier = createRegistryVerifier({ allowInsecureHttp: true })
    const before = target.connections

    const result = await verifier.verify({ registryHost: host(target.port), scheme: 'http', ...credentials })

    expect(result.status).toBe('blocked_address')
    expect(target.connections).toBe(before)
  })

  it('refuses an IPv4 literal in the metadata range without resolving it', async () => {
    const resolver = fakeResolver({})
    const verifier = createRegistryVerifier({ ...LOCAL, resolve: resolver.resolve })

    const result = await verifier.verify({ registryHost: '169.254.169.254', ...credentials })

    expect(result.status).toBe('blocked_address')
    expect(resolver.calls).toEqual([])
  })

  it('reports malformed for a host that is not host[:port], sending nothing', async () => {
    const resolver = fakeResolver({})
    const verifier = createRegistryVerifier({ ...LOCAL, resolve: resolver.resolve })

    const result = await verifier.verify({ registryHost: 'evil.test/v2/../x?', ...credentials })

    expect(result.status).toBe('malformed')
    expect(resolver.calls).toEqual([])
  })

  it('refuses a resolver answer that is not an IP address, sending nothing', async () => {
    const resolver = fakeResolver({ 'registry.invalid': ['127.0.0.1', '010.0.0.1'] })
    const verifier = createRegistryVerifier({ ...LOCAL, resolve: resolver.resolve })
    const before = target.connections

    const result = await verifier.verify({
      registryHost: `registry.invalid:${target.port}`,
      scheme: 'http',
      ...credentials,
    })

    expect(result.status).toBe('blocked_address')
    expect(target.connections).toBe(before)
  })

  it('reports dns when the name does not resolve', async () => {
    const verifier = createRegistryVerifier({ ...LOCAL, resolve: fakeResolver({}).resolve })

    const result = await verifier.verify({ registryHost: 'missing.invalid', ...credentials })

    expect(result.status).toBe('dns')
  })
})

describe('createRegistryVerifier redirects and token realms', () => {
  const servers: TestServer[] = []
  const start = async (handler: http.RequestListener) => {
    const server = await startTestServer(handler)
    servers.push(server)
    return server
  }
  afterAll(async () => {
    await Promise.all(servers.map((server) => server.stop()))
  })

  it('follows a redirect to an allowed host and vets it', async () => {
    const registry = await start((_, response) => response.writeHead(200).end('{}'))
    const redirector = await start((_, response) =>
      response.writeHead(307, { location: `http://mirror.invalid:${registry.port}/v2/` }).end(),
    )
    const resolver = fakeResolver({ 'mirror.invalid': ['127.0.0.1'] })
    const verifier = createRegistryVerifier({ ...LOCAL, resolve: resolver.resolve })

    const result = await verifier.verify({ registryHost: redirector.host, scheme: 'http', ...credentials })

    expect(result.status).toBe('anonymous')
    expect(resolver.calls).toEqual(['mirror.invalid'])
    expect(registry.requests).toHaveLength(1)
  })

  it('refuses a redirect to the metadata service', async () => {
    const redirector = await start((_, response) =>
      response.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' }).end(),
    )
    const verifier = createRegistryVerifier(LOCAL)

    const result = await verifier.verify({ registryHost: redirector.host, scheme: 'http', ...credentials })

    expect(result.status).toBe('blocked_address')
  })

  it('refuses a redirect to a name with an internal address, sending nothing there', async () => {
    const inside = await start((_, response) => response.writeHead(200).end('{}'))
    const redirector = await start((_, response) =>
      response.writeHead(301, { location: `http://inside.invalid:${inside.port}/v2/` }).end(),
    )
    const resolver = fakeResolver({ 'inside.invalid': ['127.0.0.1', '10.1.2.3'] })
    const verifier = createRegistryVerifier({ ...LOCAL, resolve: resolver.resolve })

    const result = await verifier.verify({ registryHost: redirector.host, scheme: 'http', ...credentials })

    expect(result.status).toBe('blocked_address')
    expect(inside.connections).toBe(0)
  })

  it('stops after three redirects', async () => {
    const loop = await start((request, response) => {
      const hop = Number(new URL(request.url ?? '/', 'http://x').searchParams.get('hop') ?? 0)
      response.writeHead(302, { location: `/v2/?hop=${hop + 1}` }).end()
    })
    const verifier = createRegistryVerifier(LOCAL)

    const result = await verifier.verify({ registryHost: loop.host, scheme: 'http', ...credentials })

    expect(result.status).toBe('registry_error')
    expect(loop.requests).toHaveLength(4)
  })

  it('does not carry credentials across a redirect to another origin', async () => {
    const elsewhere = await start((_, response) =>
      response.writeHead(401, { 'www-authenticate': 'Basic realm="elsewhere"' }).end(),
    )
    const redirector = await start((_, response) =>
      response.writeHead(307, { location: `http://${elsewhere.host}/v2/` }).end(),
    )
    const verifier = createRegistryVerifier(LOCAL)

    const result = await verifier.verify({ registryHost: redirector.host, scheme: 'http', ...credentials })

    expect(result.status).toBe('auth_denied')
    expect(redirector.requests.map((request) => request.headers.authorization !== undefined)).toEqual([
      false,
      true,
    ])
    expect(elsewhere.requests.map((request) => request.headers.authorization)).toEqual([undefined, undefined])
  })

  it('refuses a token realm on an internal address, sending the password nowhere', async () => {
    const realm = await start((_, response) => response.writeHead(200).end('{"token":"t"}'))
    const registry = await start((_, response) =>
      response
        .writeHead(401, {
          'www-authenticate': `Bearer realm="http://realm.invalid:${realm.port}/token",service="s"`,
        })
        .end(),
    )
    const resolver = fakeResolver({ 'realm.invalid': ['127.0.0.1', '192.168.1.10'] })
    const verifier = createRegistryVerifier({ ...LOCAL, resolve: resolver.resolve })

    const result = await verifier.verify({ registryHost: registry.host, scheme: 'http', ...credentials })

    expect(result.status).toBe('blocked_address')
    expect(realm.connections).toBe(0)
    expect(registry.requests).toHaveLength(1)
  })

  it('caps an oversized token response', async () => {
    let written = 0
    const flood = await start((_, response) => {
      // no content-length: the cap must hold while streaming, not only on a declared size
      response.writeHead(200, { 'content-type': 'application/json' })
      const chunk = Buffer.alloc(16 * 1024, 'a')
      const pump = () => {
        while (!response.destroyed && written < 64 * 1024 * 1024) {
          written += chunk.length
          if (!response.write(chunk)) {
            response.once('drain', pump)
            return
          }
        }
        response.end()
      }
      pump()
    })
    const registry = await start((_, response) =>
      response.writeHead(401, { 'www-authenticate': `Bearer realm="http://${flood.host}/token"` }).end(),
    )
    const verifier = createRegistryVerifier({ ...LOCAL, maxResponseBytes: 32 * 1024 })

    const result = await verifier.verify({ registryHost: registry.host, scheme: 'http', ...credentials })

    expect(result).toEqual({
      status: 'registry_error',
      message: `A response from ${registry.host} was larger than allowed`,
    })
    expect(written).toBeLessThan(64 * 1024 * 1024)
  })

  it('refuses a declared oversized body without reading it', async () => {
    const registry = await start((_, response) =>
      response.writeHead(200, { 'content-length': 10_000_000 }).write('{'),
    )
    const verifier = createRegistryVerifier({ ...LOCAL, maxResponseBytes: 1024 })

    const result = await verifier.verify({ registryHost: registry.host, scheme: 'http', ...credentials })

    expect(result.status).toBe('registry_error')
  })
})

describe('createRegistryVerifier registry answers', () => {
  const servers: TestServer[] = []
  const start = async (handler: http.RequestListener) => {
    const server = await startTestServer(handler)
    servers.push(server)
    return server
  }
  afterAll(async () => {
    await Promise.all(servers.map((server) => server.stop()))
  })

  it('reports anonymous, not ok, when the registry needs no credentials', async () => {
    const open = await start((_, response) => response.writeHead(200).end('{}'))
    const verifier = createRegistryVerifier(LOCAL)

    const result = await verifier.verify({ registryHost: open.host, scheme: 'http', ...credentials })

    expect(result.status).toBe('anonymous')
    expect(open.requests[0]?.headers.authorization).toBeUndefined()
  })

  it('reports not_found when /v2/ is not there', async () => {
    const website = await start((_, response) => response.writeHead(404).end('not found'))
    const verifier = createRegistryVerifier(LOCAL)

    const result = await verifier.verify({ registryHost: website.host, scheme: 'http', ...credentials })

    expect(result.status).toBe('not_found')
  })

  it('reports registry_error for a server error', async () => {
    const broken = await start((_, response) => response.writeHead(503).end())
    const verifier = createRegistryVerifier(LOCAL)

    const result = await verifier.verify({ registryHost: broken.host, scheme: 'http', ...credentials })

    expect(result.status).toBe('registry_error')
  })

  it('reports registry_error for a token service that returns no token', async () => {
    const realm = await start((_, response) => response.writeHead(200).end('<html>hello</html>'))
    const registry = await start((_, response) =>
      response.writeHead(401, { 'www-authenticate': `Bearer realm="http://${realm.host}/token"` }).end(),
    )
    const verifier = createRegistryVerifier(LOCAL)

    const result = await verifier.verify({ registryHost: registry.host, scheme: 'http', ...credentials })

    expect(result.status).toBe('registry_error')
  })

  it('reports registry_error for a closed port', async () => {
    const port = await findFreePort()
    const verifier = createRegistryVerifier(LOCAL)

    const result = await verifier.verify({
      registryHost: `127.0.0.1:${port}`,
      scheme: 'http',
      ...credentials,
    })

    expect(result.status).toBe('registry_error')
  })

  // the server never answers: only the verifier's own deadline can end this (no wall-clock bound
  // is asserted, the machines are shared; a verifier without a deadline hangs past the test timeout)
  it('reports timeout when the registry never answers', async () => {
    const silent = await start(() => {})
    const verifier = createRegistryVerifier({ ...LOCAL, timeoutMs: 300 })

    const result = await verifier.verify({ registryHost: silent.host, scheme: 'http', ...credentials })

    expect(result.status).toBe('timeout')
  })

  it('reports timeout when the body stalls after the headers', async () => {
    const stalling = await start((_, response) => {
      response.writeHead(401, { 'www-authenticate': 'Basic realm="r"' })
      response.write('{')
    })
    const verifier = createRegistryVerifier({ ...LOCAL, timeoutMs: 300 })

    const result = await verifier.verify({ registryHost: stalling.host, scheme: 'http', ...credentials })

    expect(result.status).toBe('timeout')
  })

  it('refuses a username containing a colon, sending nothing', async () => {
    const registry = await start((_, response) => response.writeHead(200).end('{}'))
    const verifier = createRegistryVerifier(LOCAL)

    const result = await verifier.verify({
      registryHost: registry.host,
      scheme: 'http',
      username: 'a:b',
      password: 'x',
    })

    expect(result.status).toBe('malformed')
    expect(registry.connections).toBe(0)
  })

  it('reports timeout when resolving outlasts the deadline', async () => {
    const verifier = createRegistryVerifier({
      ...LOCAL,
      timeoutMs: 200,
      resolve: () => new Promise(() => {}),
    })

    const result = await verifier.verify({ registryHost: 'slow.invalid', ...credentials })

    expect(result.status).toBe('timeout')
  })

  it('never puts the password in a result message', async () => {
    const password = 'pw-unique-5f3c2a91'
    const registry = await start((_, response) =>
      response.writeHead(401, { 'www-authenticate': 'Basic realm="r"' }).end(),
    )
    const verifier = createRegistryVerifier({ ...LOCAL, timeoutMs: 500, resolve: fakeResolver({}).resolve })
    const inputs = [
      { registryHost: registry.host, scheme: 'http' as const },
      { registryHost: `${password}.invalid` },
      { registryHost: `${password}/x` },
      { registryHost: '169.254.169.254' },
    ]

    const results = await Promise.all(
      inputs.map((input) => verifier.verify({ ...input, username: 'verifier', password })),
    )

    expect(results.map((result) => result.status)).toEqual([
      'auth_denied',
      'dns',
      'malformed',
      'blocked_address',
    ])
    for (const result of results) expect(result.message).not.toContain(password)
  })
})

describe('createRegistryVerifier over https', () => {
  let certificate: SelfSignedCertificate
  let registry: https.Server
  let port: number
  const seen: {
    host: string | undefined
    servername: string | false | null
    authorization: string | undefined
  }[] = []
  const plain: TestServer[] = []
  let respond: http.RequestListener

  beforeAll(async () => {
    certificate = await createSelfSignedCertificate({
      commonName: 'registry.invalid',
      subjectAltName: 'DNS:registry.invalid',
    })
    registry = https.createServer(
      { key: certificate.keyPem, cert: certificate.certificatePem },
      (request, response) => {
        seen.push({
          host: request.headers.host,
          servername: (request.socket as TLSSocket).servername,
          authorization: request.headers.authorization,
        })
        respond(request, response)
      },
    )
    await new Promise<void>((resolve) => registry.listen(0, '127.0.0.1', resolve))
    port = (registry.address() as AddressInfo).port
  })
  afterAll(async () => {
    registry?.closeAllConnections()
    await new Promise<void>((resolve) => (registry ? registry.close(() => resolve()) : resolve()))
    await Promise.all(plain.map((server) => server.stop()))
    await certificate?.remove()
  })

  const basicRegistry: http.RequestListener = (request, response) => {
    const expected = `Basic ${Buffer.from(`${TEST_REGISTRY_USERNAME}:${TEST_REGISTRY_PASSWORD}`).toString('base64')}`
    if (request.headers.authorization === expected) response.writeHead(200).end('{}')
    else response.writeHead(401, { 'www-authenticate': 'Basic realm="tls-test"' }).end()
  }
  // https only, as in a deployed stage; loopback is allowed because the test server lives there
  const deployedLike = (extra: RegistryVerifierOptions = {}) =>
    createRegistryVerifier({
      allowLoopback: true,
      timeoutMs: 3_000,
      resolve: fakeResolver({ 'registry.invalid': ['127.0.0.1'], 'other.invalid': ['127.0.0.1'] }).resolve,
      ...extra,
    })

  it('verifies over TLS with the original name as SNI, Host and certificate name', async () => {
    respond = basicRegistry
    seen.length = 0
    const verifier = deployedLike({ ca: [certificate.certificatePem] })

    const result = await verifier.verify({ registryHost: `registry.invalid:${port}`, ...credentials })

    expect(result.status).toBe('ok')
    expect(seen.map(({ host, servername }) => ({ host, servername }))).toEqual([
      { host: `registry.invalid:${port}`, servername: 'registry.invalid' },
      { host: `registry.invalid:${port}`, servername: 'registry.invalid' },
    ])
  })

  it('reports tls for a certificate nobody trusts', async () => {
    respond = basicRegistry
    const verifier = deployedLike()

    const result = await verifier.verify({ registryHost: `registry.invalid:${port}`, ...credentials })

    expect(result.status).toBe('tls')
  })

  it('reports tls when the certificate is for another name, although the address is pinned', async () => {
    respond = basicRegistry
    const verifier = deployedLike({ ca: [certificate.certificatePem] })

    const result = await verifier.verify({ registryHost: `other.invalid:${port}`, ...credentials })

    expect(result.status).toBe('tls')
  })

  it('refuses a redirect to plain http, sending nothing there', async () => {
    const target = await startTestServer((_, response) => response.writeHead(200).end('{}'))
    plain.push(target)
    respond = (_, response) =>
      response.writeHead(302, { location: `http://registry.invalid:${target.port}/v2/` }).end()
    const verifier = deployedLike({ ca: [certificate.certificatePem] })

    const result = await verifier.verify({ registryHost: `registry.invalid:${port}`, ...credentials })

    expect(result.status).toBe('registry_error')
    expect(target.connections).toBe(0)
  })

  it('refuses a token realm over plain http, sending the password nowhere', async () => {
    const realm = await startTestServer((_, response) => response.writeHead(200).end('{"token":"t"}'))
    plain.push(realm)
    respond = (_, response) =>
      response
        .writeHead(401, { 'www-authenticate': `Bearer realm="http://${realm.host}/token",service="s"` })
        .end()
    const verifier = deployedLike({ ca: [certificate.certificatePem] })

    const result = await verifier.verify({ registryHost: `registry.invalid:${port}`, ...credentials })

    expect(result.status).toBe('registry_error')
    expect(realm.connections).toBe(0)
  })
})
