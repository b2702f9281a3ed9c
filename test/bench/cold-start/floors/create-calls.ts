import { createCipheriv, randomBytes, randomUUID } from 'node:crypto'
import { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import { GenerateDataKeyCommand, type GenerateDataKeyCommandInput, KMSClient } from '@aws-sdk/client-kms'
import {
  DynamoDBDocumentClient,
  GetCommand,
  type GetCommandInput,
  TransactWriteCommand,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb'
import { AWS_CLIENT_CONFIG } from '../../../../shared/runtime/aws-client-config.ts'

// a floor of the cold-start bench, not production code: the AWS calls a cold create makes (the API
// key read, GenerateDataKey, one TransactWriteItems of the credential, its company's count and its
// activity record, as the store sends it) and the secret's AES-GCM encryption, with the bare SDK
// and nothing else. Bundled like the
// functions, so the first invocation of the real create can never cost less than this one's.
const dynamo = DynamoDBDocumentClient.from(new DynamoDBClient(AWS_CLIENT_CONFIG))
const kms = new KMSClient(AWS_CLIENT_CONFIG)

type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number]

/** The calls to make (the bench builds them with the store's own keys). */
export interface CreateCallsEvent {
  apiKey: GetCommandInput
  dataKey: GenerateDataKeyCommandInput
  secret: string
  /** The credential item, which gets the encrypted secret and its data key. */
  put: NonNullable<TransactItem['Put']>
  count: NonNullable<TransactItem['Update']>
  activity: NonNullable<TransactItem['Put']>
}

export async function handler(event: CreateCallsEvent): Promise<{ statusCode: number }> {
  // a key the bench's stack does not hold would make this floor lighter than the real create
  const { Item } = await dynamo.send(new GetCommand(event.apiKey))
  if (!Item) return { statusCode: 404 }
  const { Plaintext, CiphertextBlob } = await kms.send(new GenerateDataKeyCommand(event.dataKey))
  if (!Plaintext || !CiphertextBlob) throw new Error('GenerateDataKey answered no key')
  const iv = randomBytes(12)
  const cipher = createCipheriv('aes-256-gcm', Plaintext, iv)
  const ciphertext = Buffer.concat([cipher.update(event.secret, 'utf8'), cipher.final()])
  await dynamo.send(
    new TransactWriteCommand({
      TransactItems: [
        {
          Put: {
            ...event.put,
            Item: {
              ...event.put.Item,
              secret_envelope: { encrypted_key: CiphertextBlob, iv, ciphertext, tag: cipher.getAuthTag() },
            },
          },
        },
        { Update: event.count },
        { Put: event.activity },
      ],
      ClientRequestToken: randomUUID(),
    }),
  )
  return { statusCode: 201 }
}
