import { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import {
  DynamoDBDocumentClient,
  GetCommand,
  type GetCommandInput,
  QueryCommand,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb'
import { AWS_CLIENT_CONFIG } from '../../../../shared/runtime/aws-client-config.ts'

// a floor of the cold-start bench, not production code: the DynamoDB reads a cold get or list
// makes (the API key, then the item or the page), sent with the bare SDK and nothing else: no
// validation, middleware, logging or metrics. Bundled like the functions, so the first invocation
// of a real handler can never cost less than this one's.
const dynamo = DynamoDBDocumentClient.from(new DynamoDBClient(AWS_CLIENT_CONFIG))

/** The reads to send, in order (the bench builds them with the store's own keys). */
export interface ReadCallsEvent {
  reads: ({ get: GetCommandInput } | { query: QueryCommandInput })[]
}

// 404 when a read finds nothing: a key the bench's items do not have would make this floor
// lighter than the real handler, and the bench accepts only a 2xx
export async function handler(event: ReadCallsEvent): Promise<{ statusCode: number }> {
  for (const read of event.reads) {
    const found =
      'get' in read
        ? (await dynamo.send(new GetCommand(read.get))).Item !== undefined
        : ((await dynamo.send(new QueryCommand(read.query))).Count ?? 0) > 0
    if (!found) return { statusCode: 404 }
  }
  return { statusCode: 200 }
}
