import { BatchWriteItemCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { validCreateBody } from '../support/credential-inputs.ts'
import { newCompanyId, startTestStack, type TestStack } from '../support/test-stack.ts'

const LIMIT = 5
let stack: TestStack
let raw: DynamoDBClient

beforeAll(async () => {
  stack = await startTestStack({ credentialLimit: LIMIT })
  raw = new DynamoDBClient({
    endpoint: stack.dynamoDb.endpoint,
    region: stack.kms.region,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  })
})

afterAll(async () => {
  raw?.destroy()
  await stack?.close()
})

const create = (key: string) => stack.request('POST', '/docker-registries', { body: validCreateBody, key })
const list = (key: string) => stack.request('GET', '/docker-registries?limit=100', { key })

async function storedFor(companyId: string): Promise<number> {
  return (await stack.rawCredentialItems()).filter((item) => item.company_id.S === companyId).length
}

describe('the per-company credential limit', () => {
  it('answers 409 credential_limit_reached beyond the limit, storing nothing', async () => {
    const companyId = newCompanyId()
    const key = await stack.mintKey(companyId)
    for (let n = 0; n < LIMIT; n += 1) expect((await create(key)).status).toBe(201)

    const refused = await create(key)

    expect(refused.status).toBe(409)
    expect(refused.body).toMatchObject({
      status: 409,
      message: 'Conflict',
      data: { code: 'credential_limit_reached', message: expect.stringContaining(String(LIMIT)) },
    })
    expect(await storedFor(companyId)).toBe(LIMIT)
    expect((await list(key)).body.total).toBe(LIMIT)
  })

  it('lets a company create again after a delete', async () => {
    const companyId = newCompanyId()
    const key = await stack.mintKey(companyId)
    const ids: string[] = []
    for (let n = 0; n < LIMIT; n += 1) ids.push((await create(key)).body.id)

    await stack.request('DELETE', `/docker-registries/${ids[0]}`, { key })
    const again = await create(key)

    expect(again.status).toBe(201)
    expect((await create(key)).status).toBe(409)
    expect((await list(key)).body.total).toBe(LIMIT)
  })

  it('stores exactly one of 50 parallel creates at limit - 1; the others answer 409 or 503, never 500', async () => {
    const companyId = newCompanyId()
    const key = await stack.mintKey(companyId)
    for (let n = 0; n < LIMIT - 1; n += 1) await create(key)

    const responses = await Promise.all(Array.from({ length: 50 }, () => create(key)))

    const statuses = responses.map((response) => response.status)
    expect(statuses.filter((status) => status === 201)).toHaveLength(1)
    for (const status of statuses) expect([201, 409, 503]).toContain(status)
    expect(await storedFor(companyId)).toBe(LIMIT)
    expect((await list(key)).body.total).toBe(LIMIT)
  })

  it('keeps other companies apart: one at its limit does not limit another', async () => {
    const full = await stack.mintKey(newCompanyId())
    for (let n = 0; n < LIMIT; n += 1) await create(full)
    const other = await stack.mintKey(newCompanyId())

    expect((await create(full)).status).toBe(409)
    expect((await create(other)).status).toBe(201)
  })

  it('counts a company written before counts existed correctly on its first write', async () => {
    const companyId = newCompanyId()
    const key = await stack.mintKey(companyId)
    // three credentials as the previous version stored them: no count item
    await raw.send(
      new BatchWriteItemCommand({
        RequestItems: {
          [stack.tableName]: [1, 2, 3].map((n) => ({
            PutRequest: {
              Item: {
                pk: { S: `COMPANY#${companyId}` },
                sk: { S: `DOCKER_REGISTRY#0190000${n}-0000-7000-8000-000000000000` },
                id: { S: `0190000${n}-0000-7000-8000-000000000000` },
                company_id: { S: companyId },
                name: { S: `old ${n}` },
                registry: { S: 'dockerHub' },
                username: { S: 'u' },
                created_at: { S: '2025-01-01T00:00:00.000Z' },
                updated_at: { S: '2025-01-01T00:00:00.000Z' },
              },
            },
          })),
        },
      }),
    )

    const before = await list(key)
    const created = await Promise.all([create(key), create(key)])
    const beyond = await create(key)

    expect(before.body.total).toBe(3)
    expect(created.map((response) => response.status)).toEqual([201, 201])
    expect(beyond.status).toBe(409)
    expect((await list(key)).body.total).toBe(LIMIT)
  })
})
