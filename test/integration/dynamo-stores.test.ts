import { DynamoDBClient, QueryCommand } from '@aws-sdk/client-dynamodb'
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { ensureTable, startDynamoDb } from '../../local/dynamodb.ts'
import { createDynamoCredentialStore } from '../../shared/adapters/docker-registry-store.ts'
import { createIdempotencyGuard } from '../../shared/adapters/idempotency-guard.ts'
import { ConcurrentUpdateError, IdempotentRequestInProgressError } from '../../shared/domain/errors.ts'
import type { StoredCredential } from '../../shared/domain/ports.ts'

let client: DynamoDBClient
const tableName = `stores-test-${crypto.randomUUID()}`

beforeAll(async () => {
  client = new DynamoDBClient({
    endpoint: inject('dynamoDbEndpoint'),
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  })
  await ensureTable(client, tableName)
})

afterAll(async () => {
  client?.destroy()
})

const documents = () =>
  DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } })

function credential(id: string): StoredCredential {
  return {
    companyId: '11111111-1111-4111-8111-111111111111',
    id,
    name: 'n',
    registry: 'dockerHub',
    username: 'u',
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
    secret: {
      version: 1,
      keyId: 'arn:aws:kms:us-east-1:000000000000:key/k',
      encryptedKey: new Uint8Array([1]),
      iv: new Uint8Array(12),
      tag: new Uint8Array(16),
      ciphertext: new Uint8Array([2]),
    },
  }
}

describe('ensureTable', () => {
  it('answers only once the table takes items, also on disk', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs')
    const { tmpdir } = await import('node:os')
    const { join } = await import('node:path')
    const dataDir = mkdtempSync(join(tmpdir(), 'dynamodb-local-'))
    const onDisk = await startDynamoDb({ dataDir })
    const diskClient = new DynamoDBClient({
      endpoint: onDisk.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    })
    try {
      for (let n = 0; n < 5; n += 1) {
        await ensureTable(diskClient, `fresh-${n}`)
        // a read right away: a table still CREATING takes no reads
        const store = createDynamoCredentialStore({
          client: DynamoDBDocumentClient.from(diskClient),
          tableName: `fresh-${n}`,
        })
        await expect(store.find('c', 'i')).resolves.toBeUndefined()
      }
    } finally {
      diskClient.destroy()
      await onDisk.close()
      rmSync(dataDir, { recursive: true, force: true })
    }
  })
})

describe('the DynamoDB credential store update', () => {
  it('writes over the version it was given', async () => {
    const store = createDynamoCredentialStore({ client: documents(), tableName })
    const stored = credential('0195f1f6-8f5e-7000-8000-000000000001')
    await store.create(stored)

    const updated = await store.update(
      stored.companyId,
      stored.id,
      { name: 'new' },
      {
        updatedAt: '2026-01-01T00:00:01.000Z',
        expectedUpdatedAt: stored.updatedAt,
      },
    )

    expect(updated).toBe(true)
    expect(await store.find(stored.companyId, stored.id)).toMatchObject({
      name: 'new',
      updatedAt: '2026-01-01T00:00:01.000Z',
    })
  })

  it('refuses to write over a version that changed since it was read', async () => {
    const store = createDynamoCredentialStore({ client: documents(), tableName })
    const stored = credential('0195f1f6-8f5e-7000-8000-000000000002')
    await store.create(stored)
    await store.update(
      stored.companyId,
      stored.id,
      { name: 'theirs' },
      {
        updatedAt: '2026-01-01T00:00:01.000Z',
        expectedUpdatedAt: stored.updatedAt,
      },
    )

    await expect(
      store.update(
        stored.companyId,
        stored.id,
        { username: 'ours' },
        {
          updatedAt: '2026-01-01T00:00:02.000Z',
          expectedUpdatedAt: stored.updatedAt,
        },
      ),
    ).rejects.toBeInstanceOf(ConcurrentUpdateError)
    expect(await store.find(stored.companyId, stored.id)).toMatchObject({ name: 'theirs', username: 'u' })
  })

  it('answers false for a credential deleted since it was read', async () => {
    const store = createDynamoCredentialStore({ client: documents(), tableName })
    const stored = credential('0195f1f6-8f5e-7000-8000-000000000003')
    await store.create(stored)
    await store.delete(stored.companyId, stored.id)

    await expect(
      store.update(
        stored.companyId,
        stored.id,
        { name: 'x' },
        {
          updatedAt: '2026-01-01T00:00:01.000Z',
          expectedUpdatedAt: stored.updatedAt,
        },
      ),
    ).resolves.toBe(false)
  })
})

describe('the idempotency guard', () => {
  const request = (key: string) => ({ companyId: 'c', key, fingerprint: { name: 'n' } })

  // waits (bounded) until a run has written its in-progress record, however busy the machine
  async function inProgressRecords(keyPrefix: string): Promise<number> {
    for (let attempt = 0; attempt < 500; attempt += 1) {
      const { Count = 0 } = await client.send(
        new QueryCommand({
          TableName: tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
          FilterExpression: '#status = :in_progress',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':pk': { S: 'IDEMPOTENCY' },
            ':prefix': { S: `${keyPrefix}#` },
            ':in_progress': { S: 'INPROGRESS' },
          },
        }),
      )
      if (Count > 0) return Count
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
    throw new Error('no in-progress record was written')
  }

  it('refuses a retry while the first run is within its deadline', async () => {
    const guard = createIdempotencyGuard({ client, tableName, keyPrefix: 'refuse' })
    const key = crypto.randomUUID()
    let finish: (value: string) => void = () => undefined
    const first = guard.once(
      request(key),
      () => new Promise<string>((resolve) => (finish = resolve)),
      () => 60_000,
    )
    await inProgressRecords('refuse')

    await expect(
      guard.once(
        request(key),
        async () => 'second',
        () => 60_000,
      ),
    ).rejects.toBeInstanceOf(IdempotentRequestInProgressError)
    finish('first')
    await expect(first).resolves.toBe('first')
  })

  it('lets a retry run once a run that died has passed its deadline', async () => {
    const key = crypto.randomUUID()
    // a container that starts the run with 50 ms left, then dies without finishing it
    let died: (value: string) => void = () => undefined
    const abandoned = createIdempotencyGuard({ client, tableName, keyPrefix: 'expire' }).once(
      request(key),
      () => new Promise<string>((resolve) => (died = resolve)),
      () => 50,
    )
    await inProgressRecords('expire')
    await new Promise((resolve) => setTimeout(resolve, 100))

    const retried = await createIdempotencyGuard({ client, tableName, keyPrefix: 'expire' }).once(
      request(key),
      async () => 'retried',
      () => 60_000,
    )

    expect(retried).toBe('retried')
    died('too late')
    await abandoned.catch(() => undefined)
  })
})
