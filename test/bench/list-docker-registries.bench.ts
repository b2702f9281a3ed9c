import { DynamoDBClient, QueryCommand } from '@aws-sdk/client-dynamodb'
import { afterAll, beforeAll, test } from 'vitest'
import { validCreateBody } from '../support/credential-inputs.ts'
import { startTestStack, type TestStack } from '../support/test-stack.ts'
import { reportRatio } from './report-ratio.ts'

// baseline: a naive list, one unprojected Query of the partition straight from the SDK (envelopes
// included), over a company of 100 credentials. The API projects only what the page shows.
let stack: TestStack
let dynamo: DynamoDBClient

beforeAll(async () => {
  // no per-key rate limit: the benchmark sends thousands of requests with one key
  stack = await startTestStack({ rateLimit: false })
  dynamo = new DynamoDBClient({
    endpoint: stack.dynamoDb.endpoint,
    region: stack.kms.region,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  })
  for (let n = 0; n < 100; n += 1)
    await stack.request('POST', '/docker-registries', { body: validCreateBody })
})

afterAll(async () => {
  dynamo?.destroy()
  await stack?.close()
})

test('list a page of 25 out of 100', async ({ bench }) => {
  const results = await bench.compare(
    bench('baseline: one unprojected Query of the partition from the SDK', async () => {
      await dynamo.send(
        new QueryCommand({
          TableName: stack.tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
          ExpressionAttributeValues: {
            ':pk': { S: `COMPANY#${stack.companyId}` },
            ':prefix': { S: 'DOCKER_REGISTRY#' },
          },
          ScanIndexForward: false,
        }),
      )
    }),
    bench('GET /v3/docker-registries?limit=25&offset=50 through the local API', async () => {
      await stack.request('GET', '/docker-registries?limit=25&offset=50')
    }),
  )

  reportRatio(
    'list a page of 25 out of 100',
    results.get('GET /v3/docker-registries?limit=25&offset=50 through the local API'),
    results.get('baseline: one unprojected Query of the partition from the SDK'),
  )
})
