import { KMSClient } from '@aws-sdk/client-kms'
import { unmarshall } from '@aws-sdk/util-dynamodb'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fromEnvelopeAttribute } from '../../shared/adapters/docker-registry-store.ts'
import { createKmsOpener } from '../../shared/adapters/kms-envelope.ts'
import { logger } from '../../shared/runtime/logger.ts'
import { invalidCreateBodies, validCreateBodies, validCreateBody } from '../support/credential-inputs.ts'
import { captureOutput, newCompanyId, startTestStack, type TestStack } from '../support/test-stack.ts'

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/
const ISO_MILLIS_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/

let stack: TestStack

beforeAll(async () => {
  stack = await startTestStack()
})

afterAll(async () => {
  await stack?.close()
})

const create = (body: unknown, options: { key?: string | null; headers?: Record<string, string> } = {}) =>
  stack.request('POST', '/docker-registries', { body, ...options })

async function expectNothingStored(action: () => Promise<unknown>) {
  const before = (await stack.rawCredentialItems()).length
  await action()
  expect((await stack.rawCredentialItems()).length).toBe(before)
}

function expectSevallaError(
  response: { status: number; body: any; headers: Headers },
  status: number,
  code: string,
) {
  expect(response.status).toBe(status)
  expect(response.headers.get('x-request-id')).toBeTruthy()
  expect(response.body).toMatchObject({
    status,
    message: expect.any(String),
    data: { code, message: expect.any(String) },
  })
  expect(Object.keys(response.body).sort()).toEqual(['data', 'message', 'status'])
}

describe('POST /v3/docker-registries', () => {
  it('answers 201 with exactly the contract credential', async () => {
    const response = await create(validCreateBody)

    expect(response.status).toBe(201)
    expect(response.headers.get('content-type')).toMatch(/^application\/json/)
    expect(response.headers.get('x-request-id')).toBeTruthy()
    expect(Object.keys(response.body).sort()).toEqual(
      ['company_id', 'created_at', 'id', 'name', 'registry', 'updated_at', 'username'].sort(),
    )
    expect(response.body).toMatchObject({
      company_id: stack.companyId,
      name: validCreateBody.name,
      registry: validCreateBody.registry,
      username: validCreateBody.username,
    })
    expect(response.body.id).toMatch(UUID_V7)
    expect(response.body.created_at).toMatch(ISO_MILLIS_UTC)
    expect(response.body.updated_at).toBe(response.body.created_at)
  })

  it('defaults registry to dockerHub', async () => {
    const { registry: _, ...body } = validCreateBody

    const response = await create(body)

    expect(response.status).toBe(201)
    expect(response.body.registry).toBe('dockerHub')
  })

  it.each(validCreateBodies)('accepts $title', async ({ body }) => {
    const response = await create(body)

    expect(response.status).toBe(201)
  })

  it("stores the item in the caller's partition with only an envelope of the secret", async () => {
    const secret = `plain-${crypto.randomUUID()}`

    const response = await create({ ...validCreateBody, secret })

    const raw = (await stack.rawCredentialItems()).find((item) => item.id.S === response.body.id)
    expect(raw).toBeDefined()
    expect(raw?.pk).toEqual({ S: `COMPANY#${stack.companyId}` })
    expect(raw?.sk).toEqual({ S: `DOCKER_REGISTRY#${response.body.id}` })
    const rawText = JSON.stringify(raw)
    expect(rawText).not.toContain(secret)
    expect(rawText).not.toContain(Buffer.from(secret).toString('base64'))
    const envelope = raw?.secret_envelope.M
    for (const part of ['encrypted_key', 'iv', 'tag', 'ciphertext'])
      expect(envelope[part]).toHaveProperty('B')
    expect(envelope.version).toEqual({ N: '1' })
    expect(envelope.key_id.S).toBe(stack.secretsKeyArn)
  })

  it('seals a secret that the internal opener (and only with the right context) can read back', async () => {
    const secret = `round-trip-${crypto.randomUUID()}`
    const response = await create({ ...validCreateBody, secret })
    const raw = (await stack.rawCredentialItems()).find((item) => item.id.S === response.body.id) as Record<
      string,
      any
    >
    const sealed = fromEnvelopeAttribute(unmarshall(raw).secret_envelope)
    const opener = createKmsOpener({
      kms: new KMSClient({
        endpoint: stack.kms.endpoint,
        region: stack.kms.region,
        credentials: { accessKeyId: 'l', secretAccessKey: 'l' },
      }),
    })

    const opened = await opener.open(sealed, { companyId: stack.companyId, credentialId: response.body.id })

    expect(opened).toBe(secret)
    await expect(
      opener.open(sealed, { companyId: newCompanyId(), credentialId: response.body.id }),
    ).rejects.toThrow()
  })

  it.each(invalidCreateBodies)(
    'refuses $title with 400, naming the field, storing nothing',
    async ({ body, path }) => {
      await expectNothingStored(async () => {
        const response = await create(body)

        expectSevallaError(response, 400, 'validation_failed')
        expect(response.body.data.issues).toContainEqual({ path, message: expect.any(String) })
      })
    },
  )

  it('lists every failing field in data.issues', async () => {
    const response = await create({ name: '', username: '-', secret: 'short', extra: true })

    expect(response.body.data.issues.map((issue: { path: string }) => issue.path).sort()).toEqual([
      'extra',
      'name',
      'secret',
      'username',
    ])
  })

  it('refuses malformed JSON with 400, storing nothing', async () => {
    await expectNothingStored(async () => {
      expectSevallaError(await create('{"name": "x",'), 400, 'invalid_json')
    })
  })

  it('refuses an empty JSON body with 400', async () => {
    const response = await create('')

    expectSevallaError(response, 400, 'validation_failed')
    expect(response.body.data.issues).toEqual([{ path: '', message: 'must be a JSON object' }])
  })

  it('refuses a body that is not JSON with 415, storing nothing', async () => {
    await expectNothingStored(async () => {
      const response = await create('name=x', {
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      })

      expectSevallaError(response, 415, 'unsupported_media_type')
    })
  })

  it('refuses a body over 32 KiB with 413, storing nothing', async () => {
    await expectNothingStored(async () => {
      const response = await create({ ...validCreateBody, name: 'n'.repeat(33 * 1024) })

      expectSevallaError(response, 413, 'payload_too_large')
    })
  })

  it('refuses JSON with a __proto__ key with 400', async () => {
    expectSevallaError(await create('{"__proto__": {"admin": true}, "name": "x"}'), 400, 'invalid_json')
  })
})

describe('POST /v3/docker-registries authentication', () => {
  const expectUnauthorized = (response: { status: number; body: any; headers: Headers }) => {
    expectSevallaError(response, 401, 'unauthorized')
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer/)
  }

  it('answers 401 without an Authorization header', async () => {
    await expectNothingStored(async () => expectUnauthorized(await create(validCreateBody, { key: null })))
  })

  it.each([
    ['malformed JSON', '{"name":', {}],
    ['a body that is not JSON', 'name=x', { 'content-type': 'text/plain' }],
    ['a body over the limit', JSON.stringify({ name: 'n'.repeat(20_000) }), {}],
  ])('answers 401, not a body error, for %s without a key', async (_what, body, headers) => {
    expectUnauthorized(await create(body, { key: null, headers }))
  })

  it('answers 401 for a Basic Authorization header', async () => {
    const response = await create(validCreateBody, {
      key: null,
      headers: { authorization: 'Basic dXNlcjpwYXNz' },
    })

    expectUnauthorized(response)
  })

  it('answers 401 for a malformed key', async () => {
    expectUnauthorized(await create(validCreateBody, { key: 'not-a-key' }))
  })

  it('answers 401 for an unknown key', async () => {
    expectUnauthorized(await create(validCreateBody, { key: `rcs_${'A'.repeat(43)}` }))
  })

  it('answers 401 for a disabled key', async () => {
    const key = await stack.mintKey(newCompanyId(), { enabled: false })

    await expectNothingStored(async () => expectUnauthorized(await create(validCreateBody, { key })))
  })

  it('answers 401 for an expired key', async () => {
    const key = await stack.mintKey(newCompanyId(), { expiresAt: new Date(Date.now() - 1000).toISOString() })

    await expectNothingStored(async () => expectUnauthorized(await create(validCreateBody, { key })))
  })

  it('answers 403 for a read-only key, storing nothing', async () => {
    const key = await stack.mintKey(newCompanyId(), { permissions: ['docker_registries:read'] })

    await expectNothingStored(async () =>
      expectSevallaError(await create(validCreateBody, { key }), 403, 'forbidden'),
    )
  })

  it('accepts a key that has not expired yet, scoped to its own company', async () => {
    const companyId = newCompanyId()
    const key = await stack.mintKey(companyId, { expiresAt: new Date(Date.now() + 60_000).toISOString() })

    const response = await create(validCreateBody, { key })

    expect(response.status).toBe(201)
    expect(response.body.company_id).toBe(companyId)
  })

  it('ignores a company_id smuggled into the body (400, nothing stored)', async () => {
    await expectNothingStored(async () => {
      const response = await create({ ...validCreateBody, company_id: newCompanyId() })

      expect(response.status).toBe(400)
    })
  })
})

describe('POST /v3/docker-registries secrecy', () => {
  const canary = `CANARY-${crypto.randomUUID()}`

  it('never shows the secret in any response or log line, on success or error', async () => {
    logger.setLogLevel('DEBUG')
    const output = captureOutput()
    const responses = []
    try {
      responses.push(await create({ ...validCreateBody, secret: canary }))
      responses.push(await create({ ...validCreateBody, secret: canary, unknown: canary }))
      responses.push(await create({ ...validCreateBody, secret: `${canary}${'x'.repeat(100)}` }))
      responses.push(await create({ ...validCreateBody, username: '-bad-', secret: canary }))
      responses.push(await create(`{"secret": "${canary}", "name": `))
      responses.push(await create(`{"secret": "${canary}"}`, { headers: { 'content-type': 'text/plain' } }))
      responses.push(await create({ secret: canary, name: 'n'.repeat(33 * 1024) }))
      responses.push(await create({ ...validCreateBody, secret: canary }, { key: 'rcs_bad' }))
    } finally {
      output.restore()
      logger.setLogLevel('WARN')
    }

    expect(output.text()).toContain('request rejected')
    expect(responses.map((response) => response.status)).toEqual([201, 400, 400, 400, 400, 415, 413, 401])
    for (const response of responses) {
      expect(response.text).not.toContain(canary)
      expect(JSON.stringify([...response.headers])).not.toContain(canary)
    }
    expect(output.text()).not.toContain(canary)
  })
})

describe('POST /v3/docker-registries on a warm container', () => {
  // the company's count item exists after its first create (which also counted the company once)
  it('makes exactly two AWS calls: GenerateDataKey and TransactWriteItems', async () => {
    await create(validCreateBody)
    const dynamo = {
      transact: stack.dynamoDb.requestCount('TransactWriteItems'),
      all: stack.dynamoDb.requestCount(),
    }
    const kms = { generate: stack.kms.requestCount('GenerateDataKey'), all: stack.kms.requestCount() }

    const response = await create(validCreateBody)

    expect(response.status).toBe(201)
    expect(stack.dynamoDb.requestCount('TransactWriteItems') - dynamo.transact).toBe(1)
    expect(stack.dynamoDb.requestCount() - dynamo.all).toBe(1)
    expect(stack.kms.requestCount('GenerateDataKey') - kms.generate).toBe(1)
    expect(stack.kms.requestCount() - kms.all).toBe(1)
  })
})
