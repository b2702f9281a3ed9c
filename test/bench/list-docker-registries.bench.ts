import { readFileSync } from 'node:fs'
import {
  BatchWriteItemCommand,
  type BatchWriteItemCommandInput,
  type BatchWriteItemCommandOutput,
  DynamoDBClient,
  PutItemCommand,
  QueryCommand,
} from '@aws-sdk/client-dynamodb'
import { v7 } from 'uuid'
import { afterAll, beforeAll, inject, test } from 'vitest'
import { COUNT_ATTRIBUTE, COUNT_SORT_KEY } from '../../shared/adapters/docker-registry-store.ts'
import { newCompanyId, startTestStack, type TestStack } from '../support/test-stack.ts'
import { reportRatio } from './report-ratio.ts'

// each size is its own company, seeded straight into the table with BatchWriteItem (not through
// KMS 10,000 times) and given the count item the store keeps, so the data is what the API writes.
// The baseline is the cheapest read of a page there is: one Query of 25 items from the SDK.
const SIZES = [10, 1_000, 10_000]
let stack: TestStack
let dynamo: DynamoDBClient
const companies = new Map<number, { companyId: string; key: string }>()

async function seed(companyId: string, size: number): Promise<void> {
  const items = Array.from({ length: size }, () => {
    const id = v7()
    return {
      PutRequest: {
        Item: {
          pk: { S: `COMPANY#${companyId}` },
          sk: { S: `DOCKER_REGISTRY#${id}` },
          id: { S: id },
          company_id: { S: companyId },
          name: { S: 'Seeded registry' },
          registry: { S: 'dockerHub' },
          username: { S: 'seeded-user' },
          created_at: { S: '2026-01-01T00:00:00.000Z' },
          updated_at: { S: '2026-01-01T00:00:00.000Z' },
          // about the size of a real envelope: the list must never read it
          secret_envelope: {
            M: {
              version: { N: '1' },
              key_id: { S: stack.secretsKeyArn },
              encrypted_key: { B: new Uint8Array(184) },
              iv: { B: new Uint8Array(12) },
              tag: { B: new Uint8Array(16) },
              ciphertext: { B: new Uint8Array(64) },
            },
          },
        },
      },
    }
  })
  for (let start = 0; start < items.length; start += 25) {
    let pending: BatchWriteItemCommandInput['RequestItems'] = {
      [stack.tableName]: items.slice(start, start + 25),
    }
    while (pending && Object.keys(pending).length > 0) {
      const answer: BatchWriteItemCommandOutput = await dynamo.send(
        new BatchWriteItemCommand({ RequestItems: pending }),
      )
      pending = answer.UnprocessedItems
    }
  }
  await dynamo.send(
    new PutItemCommand({
      TableName: stack.tableName,
      Item: {
        pk: { S: `COMPANY#${companyId}` },
        sk: { S: COUNT_SORT_KEY },
        [COUNT_ATTRIBUTE]: { N: String(size) },
      },
    }),
  )
}

beforeAll(async () => {
  // no per-key rate limit: the benchmark sends thousands of requests with one key
  stack = await startTestStack({ rateLimit: false })
  dynamo = new DynamoDBClient({
    endpoint: stack.dynamoDb.endpoint,
    region: stack.kms.region,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  })
  for (const size of SIZES) {
    const companyId = newCompanyId()
    await seed(companyId, size)
    companies.set(size, { companyId, key: await stack.mintKey(companyId) })
  }
}, 600_000)

afterAll(async () => {
  dynamo?.destroy()
  await stack?.close()
})

for (const size of SIZES) {
  test(`list 25 at offset 0 out of ${size.toLocaleString('en')}`, async ({ bench }) => {
    const company = companies.get(size)
    if (!company) throw new Error('not seeded')
    const baseline = 'baseline: one Query with Limit=25 from the SDK'
    const subject = `GET /v3/docker-registries?limit=25 with ${size.toLocaleString('en')} credentials`
    const results = await bench.compare(
      bench(baseline, async () => {
        await dynamo.send(
          new QueryCommand({
            TableName: stack.tableName,
            KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
            ExpressionAttributeValues: {
              ':pk': { S: `COMPANY#${company.companyId}` },
              ':prefix': { S: 'DOCKER_REGISTRY#' },
            },
            ScanIndexForward: false,
            Limit: 25,
          }),
        )
      }),
      // a bare fetch: the test client's OpenAPI check of every answer is not the service's time
      bench(subject, async () => {
        const response = await fetch(`${stack.baseUrl}/docker-registries?limit=25`, {
          headers: { authorization: `Bearer ${company.key}` },
        })
        const body = (await response.json()) as { total: number }
        if (body.total !== size) throw new Error(`total ${body.total}, not ${size}`)
      }),
      // a shared machine is noisy: longer runs, and medians rather than means
      { time: 3_000, warmupTime: 500 },
    )

    reportRatio(`list 25 of ${size.toLocaleString('en')}`, results.get(subject), results.get(baseline), {
      within: 2,
    })
  })
}

// the resident memory of a process, in MiB (Linux /proc)
function rssMiB(pid: number | 'self'): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((entry) => entry.startsWith('VmRSS:'))
  return Number(line?.replace(/\D+/g, '') ?? 0) / 1024
}

test('memory over 20,000 list requests', { timeout: 900_000 }, async () => {
  const company = companies.get(1_000)
  if (!company) throw new Error('not seeded')
  const jvm = inject('dynamoDbPid')
  const REQUESTS = 20_000
  const CONCURRENCY = 8
  const samples: { done: number; stack: number; engine: number }[] = []
  const sample = (done: number) => {
    samples.push({ done, stack: rssMiB('self'), engine: jvm ? rssMiB(jvm) : 0 })
    const last = samples.at(-1)
    process.stdout.write(
      `  after ${String(done).padStart(6)} lists: local stack RSS ${last?.stack.toFixed(0)} MiB, DynamoDB Local RSS ${last?.engine.toFixed(0)} MiB\n`,
    )
  }
  process.stdout.write('\nRSS over 20,000 GET /v3/docker-registries?limit=25 (1,000 credentials)\n')
  sample(0)
  let started = 0
  let finished = 0
  const worker = async () => {
    while (started < REQUESTS) {
      started += 1
      const response = await stack.request('GET', '/docker-registries?limit=25', { key: company.key })
      if (response.status !== 200) throw new Error(`list answered ${response.status}`)
      finished += 1
      if (finished % 2_000 === 0) sample(finished)
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, worker))
  // growth over the second half against the first: a leak grows in both
  const at = (count: number) => samples.find((entry) => entry.done >= count) ?? samples[0]
  const mid = at(REQUESTS / 2)
  const end = samples.at(-1)
  const first = at(2_000)
  if (!mid || !end || !first) return
  process.stdout.write(
    `  local stack: +${(mid.stack - first.stack).toFixed(0)} MiB from 2,000 to 10,000 lists, ` +
      `+${(end.stack - mid.stack).toFixed(0)} MiB from 10,000 to 20,000\n` +
      `  DynamoDB Local: +${(mid.engine - first.engine).toFixed(0)} MiB, then +${(end.engine - mid.engine).toFixed(0)} MiB\n`,
  )
})
