import { generateKeyPairSync } from 'node:crypto'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import {
  createGoogleTokenExchanger,
  GOOGLE_PULL_SCOPE,
  GOOGLE_TOKEN_ENDPOINT,
} from '../../shared/adapters/google-token-exchanger.ts'
import { DependencyUnavailableError } from '../../shared/domain/errors.ts'
import {
  parseServiceAccountKey,
  RegistryCredentialsRejectedError,
  type ServiceAccountKey,
} from '../../shared/domain/short-lived-credentials.ts'
import { googleTokenEndpoint } from '../../shared/runtime/credential-exchange.ts'
import { METRIC } from '../../shared/runtime/metrics.ts'
import { type GoogleTokenFake, startGoogleTokenFake } from '../support/google-token-fake.ts'
import { testServiceAccountKey } from '../support/service-account-key.ts'

const known = testServiceAccountKey()
const key = parseServiceAccountKey('_json_key', known.json) as ServiceAccountKey
let fake: GoogleTokenFake
// the key names a token endpoint of its own: a second fake that must never be asked
let decoy: GoogleTokenFake

beforeAll(async () => {
  fake = await startGoogleTokenFake({
    publicKeys: { [known.clientEmail]: known.publicKey },
    scope: GOOGLE_PULL_SCOPE,
  })
  decoy = await startGoogleTokenFake({
    publicKeys: { [known.clientEmail]: known.publicKey },
    scope: GOOGLE_PULL_SCOPE,
  })
})

beforeEach(() => {
  fake.requests.length = 0
})

afterAll(async () => {
  await fake.close()
  await decoy.close()
})

describe('createGoogleTokenExchanger', () => {
  it('exchanges a service-account key for an access token, as oauth2accesstoken', async () => {
    const now = new Date('2026-12-01T12:00:00Z')
    const atNow = await startGoogleTokenFake({
      publicKeys: { [known.clientEmail]: known.publicKey },
      scope: GOOGLE_PULL_SCOPE,
      clock: () => now,
    })
    const exchanger = createGoogleTokenExchanger({ tokenEndpoint: atNow.url, clock: () => now })

    const login = await exchanger.exchange(key).finally(() => atNow.close())

    expect(login).toEqual({
      username: 'oauth2accesstoken',
      password: atNow.tokens[0],
      expiresAt: new Date('2026-12-01T12:59:59Z'),
    })
  })

  it('signs an RS256 JWT bearer assertion the endpoint accepts: signature, audience, scope, times', async () => {
    const exchanger = createGoogleTokenExchanger({ tokenEndpoint: fake.url })

    await exchanger.exchange(key)

    const [request] = fake.requests
    const issuedAt = Number(request?.claims?.iat)
    expect(request).toEqual({
      grantType: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
      header: { alg: 'RS256', typ: 'JWT', kid: known.privateKeyId },
      claims: {
        iss: known.clientEmail,
        scope: GOOGLE_PULL_SCOPE,
        aud: fake.url,
        iat: issuedAt,
        exp: issuedAt + 3600,
      },
      signatureValid: true,
      refusal: undefined,
    })
  })

  it('never asks the token endpoint the key names (its token_uri)', async () => {
    const aimed = parseServiceAccountKey(
      '_json_key',
      JSON.stringify({ ...JSON.parse(known.json), token_uri: decoy.url }),
    ) as ServiceAccountKey
    const exchanger = createGoogleTokenExchanger({ tokenEndpoint: fake.url })

    await exchanger.exchange(aimed)

    expect({ asked: fake.requests.length, decoy: decoy.requests.length }).toEqual({ asked: 1, decoy: 0 })
  })

  it('reports a key Google does not know as rejected credentials', async () => {
    const unknown = parseServiceAccountKey(
      '_json_key',
      testServiceAccountKey('other@acme-project.iam.gserviceaccount.com').json,
    ) as ServiceAccountKey
    const exchanger = createGoogleTokenExchanger({ tokenEndpoint: fake.url })

    await expect(exchanger.exchange(unknown)).rejects.toBeInstanceOf(RegistryCredentialsRejectedError)
    expect(fake.requests[0]?.refusal).toBe('Invalid JWT Signature.')
  })

  it('is refused by the endpoint when its clock is an hour off', async () => {
    const exchanger = createGoogleTokenExchanger({
      tokenEndpoint: fake.url,
      clock: () => new Date(Date.now() - 2 * 3600 * 1000),
    })

    await expect(exchanger.exchange(key)).rejects.toBeInstanceOf(RegistryCredentialsRejectedError)
    expect(fake.requests[0]?.refusal).toMatch(/reasonable timeframe/)
  })

  it.each([429, 503] as const)('reports HTTP %s as an unavailable dependency', async (status) => {
    fake.failNext(status)
    const exchanger = createGoogleTokenExchanger({ tokenEndpoint: fake.url })

    await expect(exchanger.exchange(key)).rejects.toBeInstanceOf(DependencyUnavailableError)
  })

  it('reports an endpoint that cannot be reached as an unavailable dependency', async () => {
    const exchanger = createGoogleTokenExchanger({ tokenEndpoint: 'http://127.0.0.1:9/token' })

    await expect(exchanger.exchange(key)).rejects.toBeInstanceOf(DependencyUnavailableError)
  })

  it('names the dependency so its metric has a name of its own (not DependencyUnavailable.unknown)', async () => {
    fake.failNext(503)
    const exchanger = createGoogleTokenExchanger({ tokenEndpoint: fake.url })

    const failure = await exchanger.exchange(key).catch((error: unknown) => error)

    expect(METRIC.dependencyUnavailable((failure as DependencyUnavailableError).dependency)).toBe(
      'DependencyUnavailable.Google',
    )
  })

  it('refuses a key that is not RSA without sending anything, and without quoting it', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
    const exchanger = createGoogleTokenExchanger({ tokenEndpoint: fake.url })

    const error = await exchanger.exchange({ ...key, privateKey: pem }).catch((caught: unknown) => caught)

    expect(error).toBeInstanceOf(RegistryCredentialsRejectedError)
    expect(String((error as Error).message)).not.toContain('PRIVATE KEY')
    expect(fake.requests).toHaveLength(0)
  })

  it('keeps the private key and the token out of every error', async () => {
    const exchanger = createGoogleTokenExchanger({ tokenEndpoint: fake.url })
    const broken = { ...key, privateKey: `${key.privateKey.slice(0, 200)}CANARY` }
    const errors: unknown[] = []
    for (const attempt of [
      () => exchanger.exchange(broken),
      () => {
        fake.failNext(503)
        return exchanger.exchange(key)
      },
    ]) {
      errors.push(await attempt().catch((caught: unknown) => caught))
    }

    const text = errors.map((error) => `${(error as Error).message} ${(error as Error).stack}`).join('\n')
    expect(text).not.toContain('CANARY')
    expect(text).not.toContain(key.privateKey.slice(40, 80))
  })
})

describe('googleTokenEndpoint', () => {
  it("is Google's endpoint unless overridden", () => {
    expect(googleTokenEndpoint(undefined, GOOGLE_TOKEN_ENDPOINT)).toBe('https://oauth2.googleapis.com/token')
  })

  it('takes an override on loopback', () => {
    expect(googleTokenEndpoint('http://127.0.0.1:4000/token', GOOGLE_TOKEN_ENDPOINT)).toBe(
      'http://127.0.0.1:4000/token',
    )
  })

  it.each([
    'https://attacker.example/token',
    'http://10.0.0.1/token',
    'http://oauth2.googleapis.com.attacker.example/token',
    'not a url',
  ])('refuses an override to %s', (override) => {
    expect(() => googleTokenEndpoint(override, GOOGLE_TOKEN_ENDPOINT)).toThrow(
      /GOOGLE_TOKEN_ENDPOINT_OVERRIDE/,
    )
  })
})
