import { randomUUID, sign, timingSafeEqual, X509Certificate } from 'node:crypto'
import http from 'node:http'
import { closeServer, listen } from '../../local/server-lifecycle.ts'
import type { DockerRegistryAuth } from './docker-registry.ts'
import { createSelfSignedCertificate } from './self-signed-certificate.ts'

/**
 * A minimal Docker token service (the `realm` of a registry's `Bearer` challenge) for integration
 * tests: it checks Basic credentials and issues ES256 JWTs that a real distribution registry
 * configured with `auth.token` accepts (the certificate travels in the JWT's `x5c` header). Its
 * signing key is made at start-up, so no private key is committed.
 */

/** One request the token service received, without its credentials. */
export interface TokenRequest {
  service: string | null
  scope: string | null
  account: string | null
  authorized: boolean
}

/** A running token service. */
export interface RunningTokenService {
  /** `http://127.0.0.1:<port>/token` */
  realm: string
  service: string
  issuer: string
  /** The PEM certificate a registry must trust (`auth.token.rootcertbundle`). */
  certificatePath: string
  requests: TokenRequest[]
  stop(): Promise<void>
}

/** What the token service accepts and how it answers. */
export interface TokenServiceOptions {
  username: string
  password: string
  /** The JSON field the token is returned in; Docker Hub sends both. @default 'token' */
  tokenField?: 'token' | 'access_token'
  /**
   * Repositories whose tokens grant no action at all, whatever the scope asked for: the login
   * is right, but it may not pull (or push) there.
   * @default none
   */
  deniedRepositories?: readonly string[]
}

function base64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url')
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given)
  const b = Buffer.from(expected)
  return a.length === b.length && timingSafeEqual(a, b)
}

/** Starts the token service on 127.0.0.1 and a free port. */
export async function startTokenService(options: TokenServiceOptions): Promise<RunningTokenService> {
  const signer = await createSelfSignedCertificate({ commonName: 'registry-token-service-test' })
  const { keyPem, certificatePath } = signer
  const certificate = new X509Certificate(signer.certificatePem)
  const service = 'verifier-test-registry'
  const issuer = 'verifier-test-token-service'
  const requests: TokenRequest[] = []

  const issueToken = (subject: string, scope: string | null): string => {
    const now = Math.floor(Date.now() / 1000)
    const header = { typ: 'JWT', alg: 'ES256', x5c: [certificate.raw.toString('base64')] }
    const access = scope
      ? scope.split(' ').map((entry) => {
          const [type = '', name = '', actions = ''] = entry.split(':')
          const denied = options.deniedRepositories?.includes(name) ?? false
          return { type, name, actions: denied ? [] : actions.split(',') }
        })
      : []
    const claims = {
      iss: issuer,
      sub: subject,
      aud: service,
      exp: now + 300,
      nbf: now - 10,
      iat: now,
      jti: randomUUID(),
      access,
    }
    const signingInput = `${base64url(header)}.${base64url(claims)}`
    const signature = sign('sha256', Buffer.from(signingInput), { key: keyPem, dsaEncoding: 'ieee-p1363' })
    return `${signingInput}.${signature.toString('base64url')}`
  }

  const server = http.createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://token.test')
    const [scheme, encoded = ''] = (request.headers.authorization ?? '').split(' ')
    const decoded = scheme === 'Basic' ? Buffer.from(encoded, 'base64').toString('utf8') : ''
    const separator = decoded.indexOf(':')
    const authorized =
      separator !== -1 &&
      sameSecret(decoded.slice(0, separator), options.username) &&
      sameSecret(decoded.slice(separator + 1), options.password)
    requests.push({
      service: url.searchParams.get('service'),
      scope: url.searchParams.get('scope'),
      account: url.searchParams.get('account'),
      authorized,
    })
    if (url.pathname !== '/token') {
      response.writeHead(404).end()
      return
    }
    if (!authorized) {
      response
        .writeHead(401, { 'content-type': 'application/json' })
        .end('{"details":"incorrect username or password"}')
      return
    }
    const token = issueToken(options.username, url.searchParams.get('scope'))
    response.writeHead(200, { 'content-type': 'application/json' }).end(
      JSON.stringify({
        [options.tokenField ?? 'token']: token,
        expires_in: 300,
        issued_at: new Date().toISOString(),
      }),
    )
  })
  const port = await listen(server)

  return {
    realm: `http://127.0.0.1:${port}/token`,
    service,
    issuer,
    certificatePath,
    requests,
    async stop() {
      await closeServer(server)
      await signer.remove()
    },
  }
}

/** The `token` auth of a registry that sends its clients to `tokenService` and trusts its tokens. */
export function tokenAuthOf(tokenService: RunningTokenService): DockerRegistryAuth {
  return {
    kind: 'token',
    realm: tokenService.realm,
    service: tokenService.service,
    issuer: tokenService.issuer,
    rootCertBundlePath: tokenService.certificatePath,
  }
}
