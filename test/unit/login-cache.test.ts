import { beforeEach, describe, expect, it } from 'vitest'
import {
  createDockerRegistry,
  deleteDockerRegistry,
  updateDockerRegistry,
} from '../../shared/domain/docker-registry-use-cases.ts'
import { DependencyUnavailableError } from '../../shared/domain/errors.ts'
import { createLoginCache, LOGIN_REFRESH_MARGIN_MS } from '../../shared/domain/login-cache.ts'
import type { SealedSecret, SecretContext, SecretOpener, SecretSealer } from '../../shared/domain/ports.ts'
import { resolveCredential } from '../../shared/domain/resolve-credential.ts'
import type {
  CredentialExchanger,
  ExchangeRequest,
  ShortLivedLogin,
} from '../../shared/domain/short-lived-credentials.ts'
import { fixedClock, InMemoryCredentialStore, sequentialIds } from '../support/fakes.ts'

const COMPANY_ID = '0c6a6c9e-5d2b-4c1f-9f57-3c1bb6a1d001'
const HOST = '123456789012.dkr.ecr.eu-west-1.amazonaws.com'
const TOKEN_LIFETIME_MS = 12 * 60 * 60 * 1000

/** Seals into the clear (the tests are about the cache), counting opens like a KMS bill. */
class CountingEnvelope implements SecretSealer, SecretOpener {
  opened = 0
  async seal(plaintext: string, _context: SecretContext): Promise<SealedSecret> {
    const bytes = new TextEncoder().encode(plaintext)
    return { version: 1, keyId: 'k', encryptedKey: bytes, iv: bytes, tag: bytes, ciphertext: bytes }
  }
  async open(sealed: SealedSecret): Promise<string> {
    this.opened += 1
    return new TextDecoder().decode(sealed.ciphertext)
  }
}

/** ECR's GetAuthorizationToken: a 12-hour token per exchange, numbered; or a failure as told. */
class CountingExchanger implements CredentialExchanger {
  readonly requests: ExchangeRequest[] = []
  failNext: Error[] = []
  constructor(private readonly clock: () => Date) {}
  async exchange(request: ExchangeRequest): Promise<ShortLivedLogin> {
    this.requests.push(request)
    const failure = this.failNext.shift()
    if (failure) throw failure
    return {
      username: 'AWS',
      password: `token-${this.requests.length}`,
      expiresAt: new Date(this.clock().getTime() + TOKEN_LIFETIME_MS),
    }
  }
}

let clock: ReturnType<typeof fixedClock>
let store: InMemoryCredentialStore
let envelope: CountingEnvelope
let exchanger: CountingExchanger
let ports: Parameters<typeof resolveCredential>[0]
let credentialId: string

const writePorts = () => ({ store, sealer: envelope, clock, newId: sequentialIds(), credentialLimit: 1000 })
const resolve = (image = `${HOST}/app:1.0`) =>
  resolveCredential(ports, { company_id: COMPANY_ID, docker_registry_credential_id: credentialId, image })

beforeEach(async () => {
  clock = fixedClock()
  store = new InMemoryCredentialStore()
  envelope = new CountingEnvelope()
  exchanger = new CountingExchanger(clock)
  ports = { store, opener: envelope, exchanger, logins: createLoginCache(clock) }
  const created = await createDockerRegistry(writePorts(), COMPANY_ID, {
    name: 'ECR',
    registry: 'ecr',
    username: 'AKIAIOSFODNN7EXAMPLE',
    secret: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  })
  credentialId = created.id
})

describe('resolveCredential with the login cache', () => {
  it('makes one exchange for 100 resolves of one credential, decrypting once', async () => {
    const results = []
    for (let n = 0; n < 100; n += 1) results.push(await resolve())

    expect({
      exchanges: exchanger.requests.length,
      decrypted: envelope.opened,
      passwords: new Set(results.map((result) => result.ok && result.password)),
    }).toEqual({ exchanges: 1, decrypted: 1, passwords: new Set(['token-1']) })
  })

  it('makes one exchange for 100 concurrent resolves', async () => {
    const results = await Promise.all(Array.from({ length: 100 }, () => resolve()))

    expect(exchanger.requests.length).toBe(1)
    expect(results.every((result) => result.ok)).toBe(true)
  })

  it('exchanges again on the next resolve after the credential is updated', async () => {
    await resolve()
    clock.advance(1_000)
    await updateDockerRegistry(writePorts(), COMPANY_ID, credentialId, {
      secret: 'rotatedXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    })

    const result = await resolve()

    expect({ exchanges: exchanger.requests.length, password: result.ok && result.password }).toEqual({
      exchanges: 2,
      password: 'token-2',
    })
    expect(exchanger.requests[1]).toMatchObject({
      secretAccessKey: 'rotatedXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    })
  })

  it('answers not_found for a deleted credential whose login is still cached', async () => {
    await resolve()
    await deleteDockerRegistry({ store }, COMPANY_ID, credentialId)

    const result = await resolve()

    expect(result).toMatchObject({ ok: false, error: { code: 'not_found' } })
  })

  it("never hands another company a login cached for this company's credential id", async () => {
    await resolve()

    const result = await resolveCredential(ports, {
      company_id: '7d1f0b6a-3e2c-4a8b-9c5d-2e4f6a8b0c12',
      docker_registry_credential_id: credentialId,
      image: `${HOST}/app:1.0`,
    })

    expect(result).toMatchObject({ ok: false, error: { code: 'not_found' } })
  })

  it('keeps a login per region', async () => {
    await resolve()

    await resolve('123456789012.dkr.ecr.us-west-2.amazonaws.com/app:1.0')

    expect(exchanger.requests.map((request) => request.kind === 'ecrKeyPair' && request.region)).toEqual([
      'eu-west-1',
      'us-west-2',
    ])
  })

  it('hands out a login until 5 minutes before it expires, then exchanges again', async () => {
    await resolve()
    clock.advance(TOKEN_LIFETIME_MS - LOGIN_REFRESH_MARGIN_MS - 1)
    await resolve()
    const beforeMargin = exchanger.requests.length
    clock.advance(1)

    const result = await resolve()

    expect({
      beforeMargin,
      after: exchanger.requests.length,
      password: result.ok && result.password,
    }).toEqual({
      beforeMargin: 1,
      after: 2,
      password: 'token-2',
    })
  })

  it('answers a throttled exchange with a retryable registry_unavailable, and caches nothing', async () => {
    exchanger.failNext.push(new DependencyUnavailableError('ECR', 1))

    const throttled = await resolve()
    const retried = await resolve()

    expect(throttled).toEqual({
      ok: false,
      error: {
        code: 'registry_unavailable',
        message: 'The registry is unavailable; retry shortly.',
        retryable: true,
      },
    })
    expect({ ok: retried.ok, exchanges: exchanger.requests.length }).toEqual({ ok: true, exchanges: 2 })
  })
})

describe('createLoginCache', () => {
  const key = { companyId: 'c', credentialId: 'i', updatedAt: 'u', scope: 'eu-west-1' }

  it('never caches a login that expires within the margin', async () => {
    const cache = createLoginCache(fixedClock())
    let exchanges = 0
    const shortLived = async () => {
      exchanges += 1
      return { username: 'AWS', password: 'p', expiresAt: new Date(Date.parse('2026-01-02T03:05:05.678Z')) }
    }

    await cache.login(key, shortLived)
    await cache.login(key, shortLived)

    expect(exchanges).toBe(2)
  })

  it('keeps at most its bound of logins, dropping the oldest', async () => {
    const clock = fixedClock()
    const cache = createLoginCache(clock, { maxEntries: 2 })
    const login = async () => ({
      username: 'AWS',
      password: 'p',
      expiresAt: new Date(clock().getTime() + TOKEN_LIFETIME_MS),
    })
    for (const scope of ['a', 'b', 'c']) await cache.login({ ...key, scope }, login)

    expect([cache.peek({ ...key, scope: 'a' }), cache.peek({ ...key, scope: 'c' }) !== undefined]).toEqual([
      undefined,
      true,
    ])
  })
})
