import { DynamoDBClient, TransactWriteItemsCommand } from '@aws-sdk/client-dynamodb'
import { GenerateDataKeyCommand, KMSClient } from '@aws-sdk/client-kms'
import { afterAll, beforeAll, test } from 'vitest'
import { validCreateBody } from '../support/credential-inputs.ts'
import { startTestStack, type TestStack } from '../support/test-stack.ts'
import { reportRatio } from './report-ratio.ts'

// the baseline is the floor a create cannot go below: the same two AWS calls a warm create makes
// (GenerateDataKey, then TransactWriteItems of the item and the company's count), sent straight
// from the SDK to the same local servers. The ratio of
// the API's time to it is the cost of everything we add: HTTP, Middy, auth, validation, AES-GCM.
let stack: TestStack
let dynamo: DynamoDBClient
let kms: KMSClient
let n = 0

beforeAll(async () => {
  // no per-key rate limit (the benchmark sends thousands of requests with one key), and room for
  // every create it makes in the one company
  stack = await startTestStack({ rateLimit: false, credentialLimit: 10_000 })
  const credentials = { accessKeyId: 'local', secretAccessKey: 'local' }
  dynamo = new DynamoDBClient({ endpoint: stack.dynamoDb.endpoint, region: stack.kms.region, credentials })
  kms = new KMSClient({ endpoint: stack.kms.endpoint, region: stack.kms.region, credentials })
  await stack.request('POST', '/docker-registries', { body: validCreateBody })
})

afterAll(async () => {
  dynamo?.destroy()
  kms?.destroy()
  await stack?.close()
})

test('create a credential', async ({ bench }) => {
  const results = await bench.compare(
    bench('baseline: GenerateDataKey + TransactWriteItems straight from the SDK', async () => {
      n += 1
      await kms.send(
        new GenerateDataKeyCommand({
          KeyId: stack.secretsKeyArn,
          KeySpec: 'AES_256',
          EncryptionContext: {
            company_id: stack.companyId,
            credential_id: `b-${n}`,
            purpose: 'docker-registry-secret',
          },
        }),
      )
      await dynamo.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            {
              Put: {
                TableName: stack.tableName,
                Item: { pk: { S: 'BENCH' }, sk: { S: `BENCH#${n}` }, name: { S: validCreateBody.name } },
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
            {
              Update: {
                TableName: stack.tableName,
                Key: { pk: { S: 'BENCH' }, sk: { S: 'COUNT' } },
                UpdateExpression: 'ADD #count :one',
                ExpressionAttributeNames: { '#count': 'count' },
                ExpressionAttributeValues: { ':one': { N: '1' } },
              },
            },
          ],
        }),
      )
    }),
    bench('POST /v3/docker-registries through the local API', async () => {
      await stack.request('POST', '/docker-registries', { body: validCreateBody })
    }),
  )

  reportRatio(
    'create a credential',
    results.get('POST /v3/docker-registries through the local API'),
    results.get('baseline: GenerateDataKey + TransactWriteItems straight from the SDK'),
  )
})
