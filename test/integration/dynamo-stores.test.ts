import { randomBytes } from 'node:crypto'
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb'
import {
  DynamoDBDocumentClient,
  PutCommand as PutDocumentCommand,
  QueryCommand as QueryDocumentCommand,
} from '@aws-sdk/lib-dynamodb'
import { v7 } from 'uuid'
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest'
import { ensureTable } from '../../local/dynamodb.ts'
import {
  COUNT_ATTRIBUTE,
  COUNT_SORT_KEY,
  createDynamoCredentialStore,
} from '../../shared/adapters/docker-registry-store.ts'
import {
  ConcurrentUpdateError,
  CredentialLimitReachedError,
  DependencyUnavailableError,
  IdempotencyKeyReusedError,
} from '../../shared/domain/errors.ts'
import type { StoredCredential } from '../../shared/domain/ports.ts'
import { type FaultProxy, type InjectedFault, startFaultProxy } from '../support/fault-proxy.ts'

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

// on disk across restarts: test/integration/readme.test.ts restarts npm start on LOCAL_DATA_DIR
describe('ensureTable', () => {
  it('creates the table as deployed (ACTIVE, NEW_AND_OLD_IMAGES stream) and leaves it be the second time', async () => {
    const name = `fresh-${crypto.randomUUID()}`
    await ensureTable(client, name)
    await documents().send(new PutDocumentCommand({ TableName: name, Item: { pk: 'p', sk: 's' } }))

    await ensureTable(client, name)

    const { Table } = await client.send(new DescribeTableCommand({ TableName: name }))
    expect(Table).toMatchObject({
      TableStatus: 'ACTIVE',
      StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
    })
    const { Items = [] } = await documents().send(
      new QueryDocumentCommand({
        TableName: name,
        KeyConditionExpression: 'pk = :p',
        ExpressionAttributeValues: { ':p': 'p' },
      }),
    )
    expect(Items).toHaveLength(1)
  })
})

describe('the DynamoDB credential store update', () => {
  it('writes over the version it was given', async () => {
    const store = createDynamoCredentialStore({ client: documents(), tableName })
    const stored = credential('0195f1f6-8f5e-7000-8000-000000000001')
    await store.create(stored, { limit: 1000 })

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
    await store.create(stored, { limit: 1000 })
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
    await store.create(stored, { limit: 1000 })
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

const LIMIT = { limit: 1000 }

// a store of its own, on a company of its own, optionally behind a fault proxy
async function storeFor(options: { proxy?: FaultProxy; clock?: () => Date } = {}) {
  const endpoint = options.proxy?.endpoint ?? inject('dynamoDbEndpoint')
  const own = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 2,
  })
  cleanups.push(() => own.destroy())
  return createDynamoCredentialStore({
    client: DynamoDBDocumentClient.from(own, { marshallOptions: { removeUndefinedValues: true } }),
    tableName,
    ...(options.clock ? { clock: options.clock } : {}),
  })
}
const cleanups: (() => void | Promise<void>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup()
})

async function proxy(): Promise<FaultProxy> {
  const started = await startFaultProxy(inject('dynamoDbEndpoint'))
  cleanups.push(() => started.close())
  return started
}

function freshCredential(companyId: string = crypto.randomUUID()): StoredCredential {
  return {
    ...credential(v7()),
    companyId,
    secret: { ...credential('x').secret, iv: randomBytes(12), encryptedKey: randomBytes(32) },
  }
}

async function partition(companyId: string): Promise<Record<string, any>[]> {
  const { Items = [] } = await documents().send(
    new QueryDocumentCommand({
      TableName: tableName,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': `COMPANY#${companyId}` },
    }),
  )
  return Items
}
const countOf = async (companyId: string) =>
  (await partition(companyId)).find((item) => item.sk === COUNT_SORT_KEY)?.[COUNT_ATTRIBUTE]
const credentialsOf = async (companyId: string) =>
  (await partition(companyId)).filter((item) => String(item.sk).startsWith('DOCKER_REGISTRY#'))

describe('the DynamoDB credential store count', () => {
  it('counts creates and deletes in the same transaction, and lists the total from it', async () => {
    const store = await storeFor()
    const companyId = crypto.randomUUID()
    const [oldest, middle, newest] = [
      freshCredential(companyId),
      freshCredential(companyId),
      freshCredential(companyId),
    ]
    for (const one of [oldest, middle, newest]) await store.create(one, LIMIT)
    await store.delete(companyId, oldest.id)

    expect(await countOf(companyId)).toBe(2)
    expect(await store.list(companyId, { limit: 25, offset: 0 })).toMatchObject({
      total: 2,
      items: [{ id: newest.id }, { id: middle.id }],
    })
  })

  it('counts a company written before counts existed on its first write, and lists it right before', async () => {
    const store = await storeFor()
    const companyId = crypto.randomUUID()
    // items as the previous version wrote them: credentials, no count item
    for (let n = 0; n < 3; n += 1) {
      const old = freshCredential(companyId)
      await documents().send(
        new PutDocumentCommand({
          TableName: tableName,
          Item: {
            pk: `COMPANY#${companyId}`,
            sk: `DOCKER_REGISTRY#${old.id}`,
            id: old.id,
            company_id: companyId,
            name: 'old',
            registry: 'dockerHub',
            username: 'u',
            created_at: old.createdAt,
            updated_at: old.updatedAt,
          },
        }),
      )
    }

    const listed = await store.list(companyId, { limit: 2, offset: 0 })
    await store.create(freshCredential(companyId), LIMIT)

    expect(listed.total).toBe(3)
    expect(listed.items).toHaveLength(2)
    expect(await countOf(companyId)).toBe(4)
    expect((await store.list(companyId, { limit: 25, offset: 0 })).total).toBe(4)
  })

  it('counts a company without a count item on its first delete too', async () => {
    const store = await storeFor()
    const companyId = crypto.randomUUID()
    const [first, second] = [v7(), v7()]
    for (const id of [first, second]) {
      await documents().send(
        new PutDocumentCommand({
          TableName: tableName,
          Item: { pk: `COMPANY#${companyId}`, sk: `DOCKER_REGISTRY#${id}`, id },
        }),
      )
    }

    await expect(store.delete(companyId, first)).resolves.toBe(true)

    expect(await countOf(companyId)).toBe(1)
  })

  it('refuses a create beyond the limit, storing nothing and counting nothing', async () => {
    const store = await storeFor()
    const companyId = crypto.randomUUID()
    await store.create(freshCredential(companyId), { limit: 2 })
    await store.create(freshCredential(companyId), { limit: 2 })

    await expect(store.create(freshCredential(companyId), { limit: 2 })).rejects.toBeInstanceOf(
      CredentialLimitReachedError,
    )
    expect(await credentialsOf(companyId)).toHaveLength(2)
    expect(await countOf(companyId)).toBe(2)
  })

  it('refuses a first create beyond the limit for a company without a count item', async () => {
    const store = await storeFor()
    const companyId = crypto.randomUUID()
    await documents().send(
      new PutDocumentCommand({
        TableName: tableName,
        Item: { pk: `COMPANY#${companyId}`, sk: `DOCKER_REGISTRY#${v7()}` },
      }),
    )

    await expect(store.create(freshCredential(companyId), { limit: 1 })).rejects.toBeInstanceOf(
      CredentialLimitReachedError,
    )
    expect(await credentialsOf(companyId)).toHaveLength(1)
  })

  it('stores exactly one of 50 parallel creates at limit - 1', async () => {
    const store = await storeFor()
    const companyId = crypto.randomUUID()
    for (let n = 0; n < 4; n += 1) await store.create(freshCredential(companyId), { limit: 5 })

    const results = await Promise.allSettled(
      Array.from({ length: 50 }, () => store.create(freshCredential(companyId), { limit: 5 })),
    )

    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1)
    for (const result of results) {
      if (result.status === 'rejected') expect(result.reason).toBeInstanceOf(CredentialLimitReachedError)
    }
    expect(await credentialsOf(companyId)).toHaveLength(5)
    expect(await countOf(companyId)).toBe(5)
  })

  it('reads at most offset + limit credentials for a page, past the end none at all', async () => {
    const faults = await proxy()
    const store = await storeFor({ proxy: faults })
    const companyId = crypto.randomUUID()
    for (let n = 0; n < 12; n += 1) await store.create(freshCredential(companyId), LIMIT)

    const page = await store.list(companyId, { limit: 3, offset: 4 })
    const beyond = await store.list(companyId, { limit: 3, offset: 40 })

    expect(page.total).toBe(12)
    expect(page.items).toHaveLength(3)
    // (the first create counted the new company with a Query of its own)
    const [first, second] = faults.requests('Query').filter((body) => body.ScanIndexForward === false)
    // the count item, then offset + limit credentials; past the end only the first page is read
    expect(first).toMatchObject({ Limit: 8, ScanIndexForward: false })
    expect(String(first?.ProjectionExpression)).not.toContain('secret_envelope')
    expect(second).toMatchObject({ Limit: 44 })
    expect(beyond).toEqual({ items: [], total: 12 })
  })
})

describe('the DynamoDB credential store under faults', () => {
  it('recognises its own committed create when a retry finds it (the answer was lost)', async () => {
    const store = await storeFor()
    const mine = freshCredential()

    await store.create(mine, LIMIT)
    // what a retry of the same write, under a new transaction token, meets
    await expect(store.create(mine, LIMIT)).resolves.toMatchObject({ id: mine.id })

    expect(await credentialsOf(mine.companyId)).toHaveLength(1)
    expect(await countOf(mine.companyId)).toBe(1)
  })

  it('does not take another envelope under the same id for its own', async () => {
    const store = await storeFor()
    const mine = freshCredential()
    await store.create(mine, LIMIT)

    await expect(store.create({ ...freshCredential(mine.companyId), id: mine.id }, LIMIT)).rejects.toThrow(
      /already exists/,
    )
  })

  it('answers a create whose answer was lost with the credential, stored once', async () => {
    const faults = await proxy()
    const store = await storeFor({ proxy: faults })
    const earlier = freshCredential()
    await store.create(earlier, LIMIT)
    const mine = freshCredential(earlier.companyId)
    const before = faults.forwarded('TransactWriteItems')
    faults.dropAnswer('TransactWriteItems', { times: 1 })

    await expect(store.create(mine, LIMIT)).resolves.toMatchObject({ id: mine.id })

    // the SDK retried with the same token: DynamoDB answered the first outcome again
    const sent = faults.requests('TransactWriteItems').slice(before)
    expect(sent).toHaveLength(2)
    expect(sent[1]?.ClientRequestToken).toBe(sent[0]?.ClientRequestToken)
    expect(await credentialsOf(mine.companyId)).toHaveLength(2)
    expect(await countOf(mine.companyId)).toBe(2)
  })

  it('answers a delete whose answer was lost with success; deleting again finds nothing', async () => {
    const faults = await proxy()
    const store = await storeFor({ proxy: faults })
    const mine = freshCredential()
    await store.create(mine, LIMIT)
    faults.dropAnswer('TransactWriteItems', { times: 1 })

    await expect(store.delete(mine.companyId, mine.id)).resolves.toBe(true)
    await expect(store.delete(mine.companyId, mine.id)).resolves.toBe(false)

    expect(await credentialsOf(mine.companyId)).toHaveLength(0)
    expect(await countOf(mine.companyId)).toBe(0)
  })

  it('tries again when a concurrent transaction got in the way, with a new token', async () => {
    const faults = await proxy()
    const store = await storeFor({ proxy: faults })
    const mine = freshCredential()
    faults.fail('TransactWriteItems', transactionConflict, { times: 2 })

    await expect(store.create(mine, LIMIT)).resolves.toMatchObject({ id: mine.id })

    const tokens = faults.requests('TransactWriteItems').map((body) => body.ClientRequestToken)
    expect(new Set(tokens).size).toBe(tokens.length)
    expect(await credentialsOf(mine.companyId)).toHaveLength(1)
  })

  it('gives up with a retryable error when conflicts go on, storing nothing', async () => {
    const faults = await proxy()
    const store = await storeFor({ proxy: faults })
    const mine = freshCredential()
    faults.fail('TransactWriteItems', transactionConflict)

    await expect(store.create(mine, LIMIT)).rejects.toBeInstanceOf(DependencyUnavailableError)

    expect(faults.attempts('TransactWriteItems')).toBe(4)
    expect(await credentialsOf(mine.companyId)).toHaveLength(0)
  })

  it('rethrows a transaction refused as invalid (our fault, a 500), not as unavailable', async () => {
    const faults = await proxy()
    const store = await storeFor({ proxy: faults })
    faults.fail('TransactWriteItems', {
      status: 400,
      type: 'com.amazonaws.dynamodb.v20120810#TransactionCanceledException',
      message: 'Transaction cancelled [ValidationError, None]',
      fields: { CancellationReasons: [{ Code: 'ValidationError' }, { Code: 'None' }] },
    })

    const refused = await store.create(freshCredential(), LIMIT).catch((error: unknown) => error)

    expect(refused).toBeInstanceOf(Error)
    expect(refused).not.toBeInstanceOf(DependencyUnavailableError)
    expect((refused as Error).name).toBe('TransactionCanceledException')
  })

  it('sends no write when too little time is left to see its answer', async () => {
    const faults = await proxy()
    const store = await storeFor({ proxy: faults })
    const mine = freshCredential()

    await expect(store.create(mine, { ...LIMIT, remainingMs: () => 3_249 })).rejects.toBeInstanceOf(
      DependencyUnavailableError,
    )
    await expect(store.delete(mine.companyId, mine.id, { remainingMs: () => 1_000 })).rejects.toBeInstanceOf(
      DependencyUnavailableError,
    )

    expect(faults.attempts('TransactWriteItems')).toBe(0)
    expect(await credentialsOf(mine.companyId)).toHaveLength(0)
  })

  it('sends no retry once the time left would not see its answer', async () => {
    const faults = await proxy()
    const store = await storeFor({ proxy: faults })
    const mine = freshCredential()
    faults.fail('TransactWriteItems', {
      status: 500,
      type: 'com.amazonaws.dynamodb.v20120810#InternalServerError',
    })
    // enough time for the first attempt, not for the SDK's second
    const remainingMs = () => (faults.attempts('TransactWriteItems') === 0 ? 10_000 : 3_000)

    await expect(store.create(mine, { ...LIMIT, remainingMs })).rejects.toBeInstanceOf(
      DependencyUnavailableError,
    )

    expect(faults.attempts('TransactWriteItems')).toBe(1)
  })
})

const transactionConflict: InjectedFault = {
  status: 400,
  type: 'com.amazonaws.dynamodb.v20120810#TransactionCanceledException',
  message:
    'Transaction cancelled, please refer cancellation reasons for specific reasons [TransactionConflict, None]',
  fields: {
    CancellationReasons: [
      { Code: 'TransactionConflict', Message: 'Transaction is ongoing for the item' },
      { Code: 'None' },
    ],
  },
}

describe('the DynamoDB credential store with an Idempotency-Key', () => {
  const claim = (key: string, name = 'n') => ({ key, fingerprint: { name } })

  it('writes the record with the credential, and answers the first credential for a second run', async () => {
    const store = await storeFor()
    const companyId = crypto.randomUUID()
    const key = crypto.randomUUID()
    const first = freshCredential(companyId)

    await store.create(first, { ...LIMIT, idempotency: claim(key) })
    const second = await store.create(freshCredential(companyId), { ...LIMIT, idempotency: claim(key) })

    expect(second.id).toBe(first.id)
    expect(await credentialsOf(companyId)).toHaveLength(1)
    expect(await countOf(companyId)).toBe(1)
    await expect(store.findIdempotent(companyId, claim(key))).resolves.toMatchObject({ id: first.id })
  })

  it('refuses the key for another request', async () => {
    const store = await storeFor()
    const companyId = crypto.randomUUID()
    const key = crypto.randomUUID()
    await store.create(freshCredential(companyId), { ...LIMIT, idempotency: claim(key) })

    await expect(
      store.create(freshCredential(companyId), { ...LIMIT, idempotency: claim(key, 'other') }),
    ).rejects.toBeInstanceOf(IdempotencyKeyReusedError)
    await expect(store.findIdempotent(companyId, claim(key, 'other'))).resolves.toBe('mismatch')
    expect(await credentialsOf(companyId)).toHaveLength(1)
  })

  it('stores neither the credential nor the record when the transaction fails', async () => {
    const faults = await proxy()
    const store = await storeFor({ proxy: faults })
    const companyId = crypto.randomUUID()
    const key = crypto.randomUUID()
    faults.fail('TransactWriteItems', {
      status: 500,
      type: 'com.amazonaws.dynamodb.v20120810#InternalServerError',
    })

    await expect(
      store.create(freshCredential(companyId), { ...LIMIT, idempotency: claim(key) }),
    ).rejects.toBeInstanceOf(DependencyUnavailableError)

    expect(await partition(companyId)).toEqual([])
    await expect(store.findIdempotent(companyId, claim(key))).resolves.toBeUndefined()
  })

  it('lets an expired record go, even before TTL has deleted it', async () => {
    const companyId = crypto.randomUUID()
    const key = crypto.randomUUID()
    let now = new Date('2026-01-01T00:00:00Z')
    const store = await storeFor({ clock: () => now })
    const first = await store.create(freshCredential(companyId), { ...LIMIT, idempotency: claim(key) })
    now = new Date('2026-01-02T00:00:01Z')

    await expect(store.findIdempotent(companyId, claim(key))).resolves.toBeUndefined()
    const second = await store.create(freshCredential(companyId), { ...LIMIT, idempotency: claim(key) })

    expect(second.id).not.toBe(first.id)
    await expect(store.findIdempotent(companyId, claim(key))).resolves.toMatchObject({ id: second.id })
  })
})
