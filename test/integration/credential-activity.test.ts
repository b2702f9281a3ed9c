import { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda'
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createDynamoCredentialStore } from '../../shared/adapters/docker-registry-store.ts'
import { hashApiKey } from '../../shared/domain/api-key.ts'
import { ConcurrentUpdateError } from '../../shared/domain/errors.ts'
import {
  type RunningDockerRegistry,
  startDockerRegistry,
  TEST_REGISTRY_PASSWORD,
  TEST_REGISTRY_USERNAME,
} from '../support/docker-registry.ts'
import { localLambdaClient } from '../support/local-lambda-client.ts'
import { newCompanyId, startTestStack, type TestStack } from '../support/test-stack.ts'

let stack: TestStack
let registry: RunningDockerRegistry
let lambda: LambdaClient

beforeAll(async () => {
  ;[stack, registry] = await Promise.all([startTestStack(), startDockerRegistry()])
  lambda = localLambdaClient(stack.lambdaEndpoint, stack.kms.region)
})

afterAll(async () => {
  lambda?.destroy()
  await Promise.all([stack?.close(), registry?.stop()])
})

async function createCredential(key?: string) {
  const response = await stack.request('POST', `/docker-registries?registry_host=${registry.host}`, {
    body: {
      name: 'self-hosted',
      registry: 'custom',
      username: TEST_REGISTRY_USERNAME,
      secret: TEST_REGISTRY_PASSWORD,
    },
    ...(key ? { key } : {}),
  })
  expect(response.status).toBe(201)
  return response.body as { id: string }
}

const activity = (id: string, key?: string) =>
  stack.request('GET', `/docker-registries/${id}/activity`, { ...(key ? { key } : {}) })

const devActor = () => ({ api_key_id: hashApiKey(stack.apiKey), api_key_name: 'local development' })

describe('GET /v3/docker-registries/{id}/activity', () => {
  it('records an update with who made it, the fields it wrote and the rotation, newest first', async () => {
    const { id } = await createCredential()
    await stack.request('PATCH', `/docker-registries/${id}`, { body: { name: 'renamed' } })
    await stack.request('PATCH', `/docker-registries/${id}`, { body: { secret: 'a-rotated-secret-7' } })

    const response = await activity(id)

    expect(response.status).toBe(200)
    const updates = response.body.data.filter((entry: { kind: string }) => entry.kind === 'updated')
    expect(updates).toEqual([
      {
        at: expect.any(String),
        kind: 'updated',
        actor: devActor(),
        changed_fields: ['secret'],
        secret_rotated: true,
      },
      {
        at: expect.any(String),
        kind: 'updated',
        actor: devActor(),
        changed_fields: ['name'],
        secret_rotated: false,
      },
    ])
    expect(response.text).not.toContain(stack.apiKey)
    expect(response.text).not.toContain('a-rotated-secret-7')
  })

  it('records verifications on demand (with the key) and scheduled (without one)', async () => {
    const { id } = await createCredential()
    await stack.request('POST', `/docker-registries/${id}/verify`)
    await lambda.send(
      new InvokeCommand({
        FunctionName: 'health-check',
        Payload: Buffer.from(JSON.stringify({ run_id: `run-${id}` })),
      }),
    )

    const verified = (await activity(id)).body.data.filter(
      (entry: { kind: string }) => entry.kind === 'verified',
    )

    expect(verified).toEqual([
      expect.objectContaining({ kind: 'verified', actor: null, result: 'ok', source: 'schedule' }),
      expect.objectContaining({ kind: 'verified', actor: devActor(), result: 'ok', source: 'api' }),
    ])
  })

  it('records who created and who deleted it, and keeps the records after the delete', async () => {
    const { id } = await createCredential()
    await stack.request('PATCH', `/docker-registries/${id}`, { body: { name: 'renamed' } })
    await stack.request('DELETE', `/docker-registries/${id}`)

    const response = await activity(id)

    expect(response.status).toBe(200)
    expect(response.body.data.map((entry: { kind: string }) => entry.kind)).toEqual([
      'deleted',
      'updated',
      'created',
    ])
    for (const entry of response.body.data) expect(entry.actor).toEqual(devActor())
  })

  it('writes no record for an update that lost its race: the change and its record commit together', async () => {
    const { id } = await createCredential()
    const before = (await activity(id)).body.data.length
    const raw = new DynamoDBClient({
      endpoint: stack.dynamoDb.endpoint,
      region: stack.kms.region,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    })
    const store = createDynamoCredentialStore({
      client: DynamoDBDocumentClient.from(raw),
      tableName: stack.tableName,
    })
    const change = {
      actor: { apiKeyId: 'c'.repeat(64), apiKeyName: 'racer' },
      changedFields: ['name'],
      secretRotated: false,
    }

    // another write moved updated_at since this one read it
    const lost = store.update(
      stack.companyId,
      id,
      { name: 'stale' },
      { updatedAt: '2099-01-01T00:00:00.000Z', expectedUpdatedAt: '2000-01-01T00:00:00.000Z' },
      {},
      change,
    )

    await expect(lost).rejects.toBeInstanceOf(ConcurrentUpdateError)
    raw.destroy()
    const after = await activity(id)
    expect(after.body.data).toHaveLength(before)
    expect(after.text).not.toContain('racer')
    expect((await stack.request('GET', `/docker-registries/${id}`)).body.name).toBe('self-hosted')
  })

  it('expires each record after 90 days (TTL)', async () => {
    const { id } = await createCredential()
    await stack.request('PATCH', `/docker-registries/${id}`, { body: { name: 'renamed' } })

    const records = (await stack.rawItems()).filter(
      (item) =>
        String((item.pk as { S?: string }).S).endsWith(`#${id}`) &&
        String((item.pk as { S?: string }).S).startsWith('ACTIVITY#'),
    )

    expect(records.length).toBeGreaterThan(0)
    for (const record of records) {
      const expiresAt = Number((record.expiration as { N: string }).N)
      const at = Math.floor(Date.parse((record.at as { S: string }).S) / 1000)
      expect(expiresAt - at).toBe(90 * 86_400)
    }
  })

  it('is allowed to read-only keys, and another company gets 404 as for an unknown id', async () => {
    const { id } = await createCredential()
    await stack.request('PATCH', `/docker-registries/${id}`, { body: { name: 'renamed' } })
    const readOnly = await stack.mintKey(stack.companyId, { permissions: ['docker_registries:read'] })
    const other = await stack.mintKey(newCompanyId())

    expect((await activity(id, readOnly)).status).toBe(200)
    const theirs = await activity(id, other)
    const unknown = await activity('019ac6a2-5225-723e-86b1-000000000000')
    expect(theirs.status).toBe(404)
    expect(theirs.body).toEqual(unknown.body)
  })
})
