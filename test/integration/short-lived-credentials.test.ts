import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { TRUST_WITHOUT_EXTERNAL_ID } from '../../shared/adapters/ecr-role-exchanger.ts'
import { GOOGLE_PULL_SCOPE } from '../../shared/adapters/google-token-exchanger.ts'
import { permissionsFor } from '../../shared/domain/api-key.ts'
import type { ResolveCredentialResult } from '../../shared/domain/resolve-credential.ts'
import { externalIdFor } from '../../shared/domain/short-lived-credentials.ts'
import { logger } from '../../shared/runtime/logger.ts'
import { type EcrFake, startEcrFake } from '../support/ecr-fake.ts'
import { type GoogleTokenFake, startGoogleTokenFake } from '../support/google-token-fake.ts'
import { testServiceAccountKey } from '../support/service-account-key.ts'
import { type StsFake, startStsFake } from '../support/sts-fake.ts'
import { captureOutput, newCompanyId, startTestStack, type TestStack } from '../support/test-stack.ts'

// ECR by role, and Google service-account keys, end to end: created through the API of the local
// stack, resolved by the resolve function's handler and checked by the verify route, against fakes
// of STS, ECR and Google's token endpoint that speak their wire formats.

const ECR_HOST = '123456789012.dkr.ecr.eu-west-1.amazonaws.com'
const GCR_HOST = 'europe-docker.pkg.dev'
const ROLE = 'arn:aws:iam::123456789012:role/registry-credentials-pull'
const CARELESS_ROLE = 'arn:aws:iam::123456789012:role/trusts-without-external-id'
const THROTTLED_ROLE = 'arn:aws:iam::123456789012:role/throttled'
const EXPIRES_AT = new Date(Date.now() + 12 * 3600 * 1000)
const key = testServiceAccountKey()

let stack: TestStack
let sts: StsFake
let ecr: EcrFake
let google: GoogleTokenFake
let resolve: (event: unknown) => Promise<ResolveCredentialResult>
const issued: Record<string, string> = {}
const saved: Record<string, string | undefined> = {}

beforeAll(async () => {
  stack = await startTestStack()
  sts = await startStsFake({
    // the local stack's own credentials sign AssumeRole, as the resolve role's would
    callerKeyPairs: { local: 'local' },
    roles: {
      [ROLE]: { externalId: externalIdFor(stack.companyId) },
      [CARELESS_ROLE]: {},
      [THROTTLED_ROLE]: { externalId: externalIdFor(stack.companyId) },
    },
    issuedKeyPairs: issued,
    expiration: new Date(Date.now() + 15 * 60 * 1000),
  })
  ecr = await startEcrFake({ keyPairs: issued, expiresAt: EXPIRES_AT })
  google = await startGoogleTokenFake({
    publicKeys: { [key.clientEmail]: key.publicKey },
    scope: GOOGLE_PULL_SCOPE,
  })
  const environment = {
    AWS_ENDPOINT_URL_STS: sts.url,
    AWS_ENDPOINT_URL_ECR: ecr.url,
    AWS_MAX_ATTEMPTS: '1',
    GOOGLE_TOKEN_ENDPOINT_OVERRIDE: google.url,
  }
  for (const [name, value] of Object.entries(environment)) {
    saved[name] = process.env[name]
    process.env[name] = value
  }
  ;({ handler: resolve } = await import('../../functions/resolve-docker-registry/handler.ts'))
})

afterAll(async () => {
  await stack?.close()
  await Promise.all([sts?.close(), ecr?.close(), google?.close()])
  for (const [name, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[name]
    else process.env[name] = value
  }
})

async function create(body: Record<string, unknown>, options: { host?: string; key?: string } = {}) {
  const query = options.host ? `?registry_host=${options.host}` : ''
  const response = await stack.request('POST', `/docker-registries${query}`, {
    body: { name: 'short-lived', ...body },
    ...(options.key ? { key: options.key } : {}),
  })
  expect(response.status, response.text).toBe(201)
  return response.body as { id: string; company_id: string }
}

const invocation = (credential: { id: string; company_id: string }, image: string) => ({
  company_id: credential.company_id,
  docker_registry_credential_id: credential.id,
  image,
})

describe('GET /v3/docker-registries/external-id', () => {
  it("answers the company's ExternalId and a trust policy requiring it, to a read-only key", async () => {
    const companyId = newCompanyId()
    const readOnly = await stack.mintKey(companyId, { permissions: permissionsFor({ readOnly: true }) })

    const response = await stack.request('GET', '/docker-registries/external-id', { key: readOnly })

    const principals = response.body.principals
    expect(response.status).toBe(200)
    expect(response.body).toEqual({
      external_id: `registry-credentials-${companyId}`,
      principals: [
        'arn:aws:iam::000000000000:role/registry-credentials-local-credential-verifier',
        'arn:aws:iam::000000000000:role/registry-credentials-local-resolve-docker-registry',
      ],
      trust_policy: {
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Principal: { AWS: principals },
            Action: 'sts:AssumeRole',
            Condition: { StringEquals: { 'sts:ExternalId': `registry-credentials-${companyId}` } },
          },
        ],
      },
    })
  })

  it('differs between companies', async () => {
    const [a, b] = await Promise.all([stack.mintKey(newCompanyId()), stack.mintKey(newCompanyId())])

    const [first, second] = await Promise.all(
      [a, b].map((apiKey) => stack.request('GET', '/docker-registries/external-id', { key: apiKey })),
    )

    expect(first?.body.external_id).not.toBe(second?.body.external_id)
  })

  it('needs an API key', async () => {
    const response = await stack.request('GET', '/docker-registries/external-id', { key: null })

    expect(response.status).toBe(401)
  })
})

describe('ECR by IAM role', () => {
  it("resolves by assuming the role with the company's ExternalId, then GetAuthorizationToken", async () => {
    const credential = await create(
      { registry: 'ecr', username: 'assume-role', secret: ROLE },
      { host: ECR_HOST },
    )

    const result = await resolve(invocation(credential, `${ECR_HOST}/team/app:1.4.2`))

    expect(result).toMatchObject({
      ok: true,
      registry_host: ECR_HOST,
      username: 'AWS',
      password: ecr.passwordFor('eu-west-1'),
      expires_at: EXPIRES_AT.toISOString(),
    })
    expect(sts.requests.at(-1)).toMatchObject({
      roleArn: ROLE,
      externalId: externalIdFor(stack.companyId),
      roleSessionName: 'registry-credentials',
      signatureValid: true,
    })
  })

  it('verifies a role credential by assuming it', async () => {
    const credential = await create(
      { registry: 'ecr', username: 'assume-role', secret: ROLE },
      { host: ECR_HOST },
    )

    const response = await stack.request('POST', `/docker-registries/${credential.id}/verify`)

    expect(response.body).toMatchObject({ result: 'ok', registry_host: ECR_HOST })
  })

  it('refuses ?verify=true on create for a role credential (only the verifier may assume roles), storing nothing', async () => {
    const before = (await stack.rawCredentialItems()).length

    const response = await stack.request('POST', `/docker-registries?verify=true&registry_host=${ECR_HOST}`, {
      body: { name: 'by role', registry: 'ecr', username: 'assume-role', secret: ROLE },
    })

    expect(response.status).toBe(400)
    expect(response.body.message).toContain('POST /v3/docker-registries/{id}/verify')
    expect(response.body.data.issues).toEqual([{ path: 'verify', message: expect.any(String) }])
    expect(await stack.rawCredentialItems()).toHaveLength(before)
  })

  it("cannot use another company's role: its trust requires the other company's ExternalId", async () => {
    const other = await stack.mintKey(newCompanyId())
    const credential = await create(
      { registry: 'ecr', username: 'assume-role', secret: ROLE },
      { host: ECR_HOST, key: other },
    )

    const result = await resolve(invocation(credential, `${ECR_HOST}/app:1`))

    expect(result).toMatchObject({ ok: false, error: { code: 'registry_auth_failed', retryable: false } })
  })

  it('refuses a role whose trust does not require the ExternalId, on resolve and on verify', async () => {
    const credential = await create(
      { registry: 'ecr', username: 'assume-role', secret: CARELESS_ROLE },
      { host: ECR_HOST },
    )

    const result = await resolve(invocation(credential, `${ECR_HOST}/app:1`))
    const verified = await stack.request('POST', `/docker-registries/${credential.id}/verify`)

    expect(result).toEqual({
      ok: false,
      error: { code: 'registry_auth_failed', message: TRUST_WITHOUT_EXTERNAL_ID, retryable: false },
    })
    expect(verified.body).toMatchObject({ result: 'auth_denied', message: TRUST_WITHOUT_EXTERNAL_ID })
  })

  it('answers a throttled exchange with a retryable registry_unavailable', async () => {
    const credential = await create(
      { registry: 'ecr', username: 'assume-role', secret: THROTTLED_ROLE },
      { host: ECR_HOST },
    )
    sts.failNext('Throttling')

    const result = await resolve(invocation(credential, `${ECR_HOST}/app:1`))

    expect(result).toEqual({
      ok: false,
      error: {
        code: 'registry_unavailable',
        message: 'The registry is unavailable; retry shortly.',
        retryable: true,
      },
    })
  })

  it('refuses an assume-role credential whose secret is not a role ARN', async () => {
    const response = await stack.request('POST', `/docker-registries?registry_host=${ECR_HOST}`, {
      body: { name: 'n', registry: 'ecr', username: 'assume-role', secret: 'not-a-role-arn' },
    })

    expect(response.status).toBe(400)
    expect(response.body.data.issues).toEqual([
      { path: 'secret', message: expect.stringContaining('must be an IAM role ARN') },
    ])
  })
})

describe('Google service-account keys', () => {
  it('takes a key file of up to 16 KiB, and refuses one a character longer', async () => {
    const padded = (length: number) => {
      const json = JSON.stringify({ ...JSON.parse(key.json), padding: '' })
      return JSON.stringify({ ...JSON.parse(key.json), padding: 'x'.repeat(length - json.length) })
    }
    const [longest, tooLong] = [padded(16_384), padded(16_385)]

    const responses = await Promise.all(
      [longest, tooLong].map((secret) =>
        stack.request('POST', '/docker-registries', {
          body: { name: 'n', registry: 'gcr', username: '_json_key', secret },
        }),
      ),
    )

    expect([longest.length, tooLong.length]).toEqual([16_384, 16_385])
    expect(responses.map((response) => response.status)).toEqual([201, 400])
    expect(responses[1]?.body.data.issues).toEqual([
      { path: 'secret', message: 'must be at most 16384 characters long' },
    ])
  })

  it('stores the whole key file (about 2.3 KB, with line breaks) for username _json_key', async () => {
    expect(key.json.length).toBeGreaterThan(1_500)

    const credential = await create({ registry: 'gcr', username: '_json_key', secret: key.json })

    expect(credential.id).toBeDefined()
  })

  it('resolves a key to oauth2accesstoken and an access token, exchanging once for repeated pulls', async () => {
    const credential = await create({ registry: 'gcr', username: '_json_key', secret: key.json })
    const before = google.requests.length

    const first = await resolve(invocation(credential, `${GCR_HOST}/acme/repo/app:1`))
    const second = await resolve(invocation(credential, `${GCR_HOST}/acme/repo/app:2`))

    expect(first).toMatchObject({
      ok: true,
      registry_host: GCR_HOST,
      username: 'oauth2accesstoken',
      password: google.tokens.at(-1),
    })
    expect(first.ok && Date.parse(first.expires_at ?? '') > Date.now()).toBe(true)
    expect(second).toEqual(first.ok ? { ...first, registry_host: GCR_HOST } : first)
    expect(google.requests.length - before).toBe(1)
    expect(google.requests.at(-1)).toMatchObject({ signatureValid: true, refusal: undefined })
  })

  it('exchanges again after the credential is updated', async () => {
    const credential = await create({
      registry: 'gcr',
      username: '_json_key_base64',
      secret: Buffer.from(key.json).toString('base64'),
    })
    await resolve(invocation(credential, `${GCR_HOST}/acme/app:1`))
    const before = google.requests.length

    const patched = await stack.request('PATCH', `/docker-registries/${credential.id}`, {
      body: { name: 'renamed' },
    })
    const result = await resolve(invocation(credential, `${GCR_HOST}/acme/app:1`))

    expect(patched.status).toBe(200)
    expect({ ok: result.ok, exchanges: google.requests.length - before }).toEqual({ ok: true, exchanges: 1 })
  })

  it('answers not_found once the credential is deleted, though its token was cached', async () => {
    const credential = await create({ registry: 'gcr', username: '_json_key', secret: key.json })
    await resolve(invocation(credential, `${GCR_HOST}/acme/app:1`))

    await stack.request('DELETE', `/docker-registries/${credential.id}`)
    const result = await resolve(invocation(credential, `${GCR_HOST}/acme/app:1`))

    expect(result).toMatchObject({ ok: false, error: { code: 'not_found' } })
  })

  it.each([
    [
      'JSON that is not a service-account key',
      '_json_key',
      JSON.stringify({ type: 'authorized_user', client_id: 'x' }),
    ],
    ['base64 that is not a key', '_json_key_base64', Buffer.from('{"type":"nope"}').toString('base64')],
    [
      'a key over 16 KiB',
      '_json_key',
      JSON.stringify({ ...JSON.parse(key.json), padding: 'x'.repeat(16_384) }),
    ],
  ])('refuses %s', async (_title, username, secret) => {
    const response = await stack.request('POST', '/docker-registries', {
      body: { name: 'n', registry: 'gcr', username, secret },
    })

    expect(response.status).toBe(400)
    expect(response.body.data.issues.map((issue: { path: string }) => issue.path)).toEqual(['secret'])
  })

  it('gives no other username, and no other registry, a longer secret', async () => {
    const responses = await Promise.all(
      [
        { registry: 'gcr', username: 'oauth2accesstoken' },
        { registry: 'custom', username: '_json_key' },
        { registry: 'dockerHub', username: 'me' },
      ].map((fields) =>
        stack.request('POST', '/docker-registries', { body: { name: 'n', ...fields, secret: key.json } }),
      ),
    )

    expect(responses.map((response) => response.status)).toEqual([400, 400, 400])
  })
})

describe('secrets and tokens stay out of logs and answers', () => {
  it('logs no private key, token, role credential or role ARN secret while resolving and failing', async () => {
    logger.setLogLevel('DEBUG')
    const output = captureOutput()
    const answers: unknown[] = []
    try {
      const gcr = await create({ registry: 'gcr', username: '_json_key', secret: key.json })
      const role = await create(
        { registry: 'ecr', username: 'assume-role', secret: ROLE },
        { host: ECR_HOST },
      )
      const careless = await create(
        { registry: 'ecr', username: 'assume-role', secret: CARELESS_ROLE },
        { host: ECR_HOST },
      )
      answers.push(await resolve(invocation(gcr, `${GCR_HOST}/a/b:1`)))
      answers.push(await resolve(invocation(role, `${ECR_HOST}/a:1`)))
      answers.push(await resolve(invocation(careless, `${ECR_HOST}/a:1`)))
      google.failNext(503)
      const fresh = await create({ registry: 'gcr', username: '_json_key', secret: key.json })
      answers.push(await resolve(invocation(fresh, `${GCR_HOST}/a/b:1`)))
    } finally {
      output.restore()
      logger.setLogLevel('WARN')
    }

    const privateKey = JSON.parse(key.json).private_key as string
    const secrets = [
      privateKey.split('\n')[5] ?? '',
      ...google.tokens,
      ecr.passwordFor('eu-west-1'),
      ...Object.keys(issued),
      ...Object.values(issued),
    ]
    const logged = output.text()
    expect(secrets.filter((secret) => secret && logged.includes(secret))).toEqual([])
    const failures = JSON.stringify(answers.filter((answer) => !(answer as { ok: boolean }).ok))
    expect(secrets.filter((secret) => secret && failures.includes(secret))).toEqual([])
    expect(logged).toContain('credential resolved')
  })
})
