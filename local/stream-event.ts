import type { _Record } from '@aws-sdk/client-dynamodb-streams'
import type { DynamoDBRecord } from 'aws-lambda'

// the SDK hands binary attributes over as bytes and the creation time as a Date; Lambda's JSON
// has base64 strings and epoch seconds.
function toLambdaJson(value: unknown): unknown {
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64')
  if (value instanceof Date) return Math.floor(value.getTime() / 1000)
  if (Array.isArray(value)) return value.map(toLambdaJson)
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([, inner]) => inner !== undefined)
        .map(([key, inner]) => [key, toLambdaJson(inner)]),
    )
  }
  return value
}

/**
 * A record read with the DynamoDB Streams API, in the shape Lambda's event source mapping hands
 * a function (`aws-lambda`'s DynamoDBRecord): the same fields, binary attributes base64-encoded,
 * ApproximateCreationDateTime in epoch seconds, and the stream's ARN as `eventSourceARN`.
 */
export function toLambdaStreamRecord(record: _Record, streamArn: string): DynamoDBRecord {
  return { ...(toLambdaJson(record) as DynamoDBRecord), eventSourceARN: streamArn }
}
