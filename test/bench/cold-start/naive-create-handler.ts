import { randomUUID } from 'node:crypto'
import { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import { GenerateDataKeyCommand, KMSClient } from '@aws-sdk/client-kms'
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb'
import middy from '@middy/core'
import httpJsonBodyParser from '@middy/http-json-body-parser'
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda'
import * as v from 'valibot'

// the obvious create handler, the cold-start benchmark's baseline: module-scope clients, the SDK's
// defaults, a schema, one data key and one write. Not production code: never deployed.
const dynamo = DynamoDBDocumentClient.from(new DynamoDBClient({}))
const kms = new KMSClient({})

const Body = v.object({
  name: v.pipe(v.string(), v.minLength(1), v.maxLength(128)),
  registry: v.optional(v.picklist(['dockerHub', 'github', 'gitlab', 'digitalOcean', 'gcr', 'ecr', 'custom'])),
  username: v.pipe(v.string(), v.minLength(1), v.maxLength(255)),
  secret: v.pipe(v.string(), v.minLength(8), v.maxLength(128)),
})

/** A naive `POST /v3/docker-registries`. */
export const handler = middy<APIGatewayProxyEvent, APIGatewayProxyResult>()
  .use(httpJsonBodyParser())
  .handler(async (event) => {
    const body = v.parse(Body, event.body)
    const companyId = event.requestContext.authorizer?.companyId ?? 'naive'
    const id = randomUUID()
    const key = await kms.send(
      new GenerateDataKeyCommand({
        KeyId: process.env.SECRETS_KEY_ARN,
        KeySpec: 'AES_256',
        EncryptionContext: { company_id: companyId, credential_id: id, purpose: 'docker-registry-secret' },
      }),
    )
    await dynamo.send(
      new PutCommand({
        TableName: process.env.TABLE_NAME,
        Item: {
          pk: `COMPANY#${companyId}`,
          sk: `NAIVE#${id}`,
          name: body.name,
          username: body.username,
          encrypted_key: key.CiphertextBlob,
        },
      }),
    )
    return { statusCode: 201, body: JSON.stringify({ id, name: body.name }) }
  })
