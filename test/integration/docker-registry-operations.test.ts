import { KMSClient } from '@aws-sdk/client-kms'
import { unmarshall } from '@aws-sdk/util-dynamodb'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fromEnvelopeAttribute } from '../../shared/adapters/docker-registry-store.ts'
import { createKmsOpener } from '../../shared/adapters/kms-envelope.ts'
import { hashApiKey } from '../../shared/domain/api-key.ts'
import { toCredentialEvent } from '../../shared/domain/credential-events.ts'
import { logger } from '../../shared/runtime/logger.ts'
import { validCreateBody } from '../support/credential-inputs.ts'
import { type FaultProxy, startFaultProxy } from '../support/fault-proxy.ts'
import { captureOutput, newCompanyId, startTestStack, type TestStack } from '../support/test-stack.ts'

let stack: TestStack
let dynamoWire: FaultProxy

beforeAll(async () => {
  stack = await startTestStack({
    interpose: async (service, endpoint) => {
      if (service !== 'dynamodb') return endpoint
      dynamoWire = await startFaultProxy(endpoint)
      return dynamoWire.endpoint
    },
  })
})

afterAll(async () => {
  await stack?.close()
  await dynamoWire?.close()
})

async function createCredential(body: Record<string, unknown> = validCreateBody, key?: string) {
  const response = await stack.request('POST', '/docker-registries', { body, ...(key ? { key } : {}) })
  expect(response.status).toBe(201)
  return response.body
}

async function openStoredSecret(id: string, companyId = stack.companyId) {
  const raw = (await stack.rawCredentialItems()).find((item) => item.id.S === id)
  const opener = createKmsOpener({
    kms: new KMSClient({
      endpoint: stack.kms.endpoint,
      region: stack.kms.region,
      credentials: { accessKeyId: 'l', secretAccessKey: 'l' },
    }),
  })
  return opener.open(fromEnvelopeAttribute(unmarshall(raw as Record<string, any>).secret_envelope), {
    companyId,
    credentialId: id,
  })
}

const UNKNOWN_ID = '0195f1f6-8f5e-7000-8000-0000000000ff'

describe('a credential through its whole life, as a client would', () => {
  it('is created, listed, read, updated, deleted, then gone', async () => {
    const created = await createCredential({ ...validCreateBody, name: 'lifecycle' })

    const listed = await stack.request('GET', '/docker-registries')
    expect(listed.status).toBe(200)
    expect(listed.body.data).toContainEqual({
      id: created.id,
      name: 'lifecycle',
      registry: 'dockerHub',
      username: validCreateBody.username,
      created_at: created.created_at,
      updated_at: created.updated_at,
    })

    const fetched = await stack.request('GET', `/docker-registries/${created.id}`)
    expect(fetched.status).toBe(200)
    expect(fetched.body).toEqual(created)

    const updated = await stack.request('PATCH', `/docker-registries/${created.id}`, {
      body: { name: 'renamed' },
    })
    expect(updated.status).toBe(200)
    expect(updated.body).toMatchObject({ ...created, name: 'renamed', updated_at: expect.any(String) })

    const deleted = await stack.request('DELETE', `/docker-registries/${created.id}`)
    expect(deleted.status).toBe(200)
    expect(deleted.body).toEqual({ message: 'Docker registry credential deleted' })

    const gone = await stack.request('GET', `/docker-registries/${created.id}`)
    expect(gone.status).toBe(404)
    expect(gone.body).toMatchObject({ status: 404, data: { code: 'not_found' } })
  })
})

describe('GET /v3/docker-registries/{id}', () => {
  it('answers 400 for a malformed id', async () => {
    const response = await stack.request('GET', '/docker-registries/not-a-uuid')

    expect(response.status).toBe(400)
    expect(response.body.data.issues).toEqual([{ path: 'id', message: 'must be a uuid' }])
  })

  it('finds a credential by its id in upper case too', async () => {
    const created = await createCredential()

    const response = await stack.request('GET', `/docker-registries/${created.id.toUpperCase()}`)

    expect(response.status).toBe(200)
    expect(response.body.id).toBe(created.id)
  })

  it('answers 404 for an unknown id', async () => {
    const response = await stack.request('GET', `/docker-registries/${UNKNOWN_ID}`)

    expect(response.status).toBe(404)
  })

  it('reads one item without its envelope: a single projected GetItem and no KMS call', async () => {
    const created = await createCredential()
    const kmsCalls = stack.kms.requestCount()
    const dynamoCalls = dynamoWire.attempts('GetItem') + dynamoWire.attempts('Query')

    await stack.request('GET', `/docker-registries/${created.id}`)

    expect(stack.kms.requestCount()).toBe(kmsCalls)
    expect(dynamoWire.attempts('GetItem') + dynamoWire.attempts('Query')).toBe(dynamoCalls + 1)
    const getItem = dynamoWire.requests('GetItem').at(-1)
    expect(getItem?.ProjectionExpression).not.toContain('secret_envelope')
    expect(getItem?.Key).toEqual({
      pk: { S: `COMPANY#${stack.companyId}` },
      sk: { S: `DOCKER_REGISTRY#${created.id}` },
    })
  })
})

describe('PATCH /v3/docker-registries/{id}', () => {
  it.each([
    ['name', { name: 'only the name' }],
    ['username', { username: 'someone-else' }],
  ])('changes %s alone', async (_field, change) => {
    const created = await createCredential()

    const response = await stack.request('PATCH', `/docker-registries/${created.id}`, { body: change })

    expect(response.status).toBe(200)
    expect(response.body).toEqual({ ...created, ...change, updated_at: response.body.updated_at })
    expect(response.body.updated_at > created.updated_at).toBe(true)
  })

  it('moves a credential to another registry together with its new secret', async () => {
    const created = await createCredential()

    const response = await stack.request('PATCH', `/docker-registries/${created.id}`, {
      body: { registry: 'github', secret: 'ghp_new_token_value' },
    })

    expect(response.status).toBe(200)
    expect(response.body).toMatchObject({ registry: 'github', name: created.name })
    expect(await openStoredSecret(created.id)).toBe('ghp_new_token_value')
  })

  it('refuses to move a credential to another registry without a new secret, changing nothing', async () => {
    const created = await createCredential()

    const response = await stack.request('PATCH', `/docker-registries/${created.id}`, {
      body: { registry: 'custom' },
    })

    expect(response.status).toBe(400)
    expect(response.body.data.issues).toEqual([
      { path: 'secret', message: expect.stringContaining('is required') },
    ])
    expect((await stack.request('GET', `/docker-registries/${created.id}`)).body).toEqual(created)
  })

  it('rotates the secret under a new data key that decrypts to the new secret', async () => {
    const created = await createCredential({ ...validCreateBody, secret: 'the-first-secret' })
    const before = (await stack.rawCredentialItems()).find(
      (item) => item.id.S === created.id,
    )?.secret_envelope

    const response = await stack.request('PATCH', `/docker-registries/${created.id}`, {
      body: { secret: 'the-second-secret' },
    })

    expect(response.status).toBe(200)
    expect(response.text).not.toContain('the-second-secret')
    const after = (await stack.rawCredentialItems()).find((item) => item.id.S === created.id)?.secret_envelope
    expect(after.M.encrypted_key).not.toEqual(before.M.encrypted_key)
    expect(await openStoredSecret(created.id)).toBe('the-second-secret')
    expect(response.body.updated_at > created.updated_at).toBe(true)
  })

  it('returns the unchanged credential for an empty body, updated_at untouched', async () => {
    const created = await createCredential()

    const response = await stack.request('PATCH', `/docker-registries/${created.id}`, { body: {} })

    expect(response.status).toBe(200)
    expect(response.body).toEqual(created)
  })

  it('keeps updated_at when the values given equal the stored ones', async () => {
    const created = await createCredential()

    const response = await stack.request('PATCH', `/docker-registries/${created.id}`, {
      body: { name: created.name, username: created.username },
    })

    expect(response.body.updated_at).toBe(created.updated_at)
  })

  it('keeps both changes of two concurrent PATCHes to different fields', async () => {
    const created = await createCredential()

    const [first, second] = await Promise.all([
      stack.request('PATCH', `/docker-registries/${created.id}`, { body: { name: 'concurrent name' } }),
      stack.request('PATCH', `/docker-registries/${created.id}`, { body: { username: 'concurrent-user' } }),
    ])

    expect([first.status, second.status]).toEqual([200, 200])
    const fetched = await stack.request('GET', `/docker-registries/${created.id}`)
    expect(fetched.body).toMatchObject({ name: 'concurrent name', username: 'concurrent-user' })
  })

  it('refuses unknown properties with 400, changing nothing', async () => {
    const created = await createCredential()

    const response = await stack.request('PATCH', `/docker-registries/${created.id}`, {
      body: { name: 'x', company_id: newCompanyId() },
    })

    expect(response.status).toBe(400)
    expect(response.body.data.issues).toContainEqual({
      path: 'company_id',
      message: 'is not a known property',
    })
    expect((await stack.request('GET', `/docker-registries/${created.id}`)).body).toEqual(created)
  })

  it('refuses an invalid field with 400', async () => {
    const created = await createCredential()

    const response = await stack.request('PATCH', `/docker-registries/${created.id}`, {
      body: { secret: 'short' },
    })

    expect(response.status).toBe(400)
    expect(response.body.data.issues).toEqual([{ path: 'secret', message: expect.any(String) }])
  })

  it('answers 404 for an unknown id, creating nothing', async () => {
    const before = (await stack.rawCredentialItems()).length

    const response = await stack.request('PATCH', `/docker-registries/${UNKNOWN_ID}`, { body: { name: 'x' } })

    expect(response.status).toBe(404)
    expect((await stack.rawCredentialItems()).length).toBe(before)
  })
})

describe('PATCH /v3/docker-registries/{id} secrecy', () => {
  it('never shows a new secret in any response or log line, on success or error', async () => {
    const created = await createCredential()
    const canary = `CANARY-${crypto.randomUUID()}`
    logger.setLogLevel('DEBUG')
    const output = captureOutput()
    const responses = []
    try {
      const path = `/docker-registries/${created.id}`
      responses.push(await stack.request('PATCH', path, { body: { secret: canary } }))
      responses.push(await stack.request('PATCH', path, { body: { secret: `${canary}${'x'.repeat(100)}` } }))
      responses.push(await stack.request('PATCH', path, { body: { secret: canary, extra: canary } }))
      responses.push(await stack.request('PATCH', path, { body: `{"secret": "${canary}",` }))
      responses.push(
        await stack.request('PATCH', `/docker-registries/${UNKNOWN_ID}`, { body: { secret: canary } }),
      )
    } finally {
      output.restore()
      logger.setLogLevel('WARN')
    }

    expect(responses.map((response) => response.status)).toEqual([200, 400, 400, 400, 404])
    for (const response of responses) expect(response.text).not.toContain(canary)
    expect(output.text()).toContain('request rejected')
    expect(output.text()).not.toContain(canary)
  })
})

describe('DELETE /v3/docker-registries/{id}', () => {
  it('answers 404 the second time', async () => {
    const created = await createCredential()

    const first = await stack.request('DELETE', `/docker-registries/${created.id}`)
    const second = await stack.request('DELETE', `/docker-registries/${created.id}`)

    expect(first.status).toBe(200)
    expect(second.status).toBe(404)
  })

  it('makes one DynamoDB call and no KMS call', async () => {
    const created = await createCredential()
    const kmsCalls = stack.kms.requestCount()
    const dynamoCalls = stack.dynamoDb.requestCount()

    await stack.request('DELETE', `/docker-registries/${created.id}`)

    expect(stack.kms.requestCount()).toBe(kmsCalls)
    expect(stack.dynamoDb.requestCount()).toBe(dynamoCalls + 1)
  })
})

describe('read-only keys', () => {
  it('may list and get, not create, update or delete', async () => {
    const created = await createCredential()
    const key = await stack.mintKey(stack.companyId, { permissions: ['docker_registries:read'] })

    const statuses = [
      (await stack.request('GET', '/docker-registries', { key })).status,
      (await stack.request('GET', `/docker-registries/${created.id}`, { key })).status,
      (await stack.request('POST', '/docker-registries', { key, body: validCreateBody })).status,
      (await stack.request('PATCH', `/docker-registries/${created.id}`, { key, body: { name: 'x' } })).status,
      (await stack.request('DELETE', `/docker-registries/${created.id}`, { key })).status,
    ]

    expect(statuses).toEqual([200, 200, 403, 403, 403])
    expect((await stack.request('GET', `/docker-registries/${created.id}`)).body).toEqual(created)
  })
})

describe('every operation', () => {
  it.each([
    ['GET', '/docker-registries'],
    ['GET', `/docker-registries/${UNKNOWN_ID}`],
    ['PATCH', `/docker-registries/${UNKNOWN_ID}`],
    ['DELETE', `/docker-registries/${UNKNOWN_ID}`],
  ])('%s %s answers 401 without a key', async (method, path) => {
    const response = await stack.request(method, path, {
      key: null,
      ...(method === 'PATCH' ? { body: {} } : {}),
    })

    expect(response.status).toBe(401)
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer/)
    expect(response.headers.get('x-request-id')).toBeTruthy()
  })
})

describe('who changed a credential, as its change events will say', () => {
  it('records the API key (id and name, never the key), the fields written and the rotation', async () => {
    // Arrange
    const created = await stack.request('POST', '/docker-registries', { body: validCreateBody })
    const id = created.body.id as string
    const before = (await stack.rawCredentialItems()).find((item) => item.id.S === id)

    // Act
    await stack.request('PATCH', `/docker-registries/${id}`, {
      body: { name: 'renamed', secret: 'a-new-secret-99' },
    })
    const after = (await stack.rawCredentialItems()).find((item) => item.id.S === id)

    // Assert: the item holds what the stream hands the publisher, which names the actor
    const keyId = hashApiKey(stack.apiKey)
    expect(before).toMatchObject({
      changed_by_key_id: { S: keyId },
      changed_by_key_name: { S: 'local development' },
    })
    const record = {
      eventID: 'f1',
      eventName: 'MODIFY' as const,
      dynamodb: {
        ApproximateCreationDateTime: 1_738_231_200,
        Keys: { pk: after?.pk, sk: after?.sk },
        OldImage: before,
        NewImage: after,
      },
    }
    const event = toCredentialEvent(JSON.parse(JSON.stringify(record)))
    expect(event?.detail).toMatchObject({
      actor: { api_key_id: keyId, api_key_name: 'local development' },
      changed_fields: ['name', 'secret'],
      secret_rotated: true,
    })
    expect(JSON.stringify(event)).not.toContain(stack.apiKey)
    expect(JSON.stringify(event)).not.toContain('a-new-secret-99')
  })
})
