import {
  type _Record,
  DescribeStreamCommand,
  type DynamoDBStreamsClient,
  ExpiredIteratorException,
  GetRecordsCommand,
  GetShardIteratorCommand,
} from '@aws-sdk/client-dynamodb-streams'

/** One shard of a stream, as DescribeStream lists it. */
export interface StreamShard {
  shardId: string
  parentShardId?: string
  /** A closed shard takes no new records; once read to its end, its children may be read. */
  closed: boolean
}

/** Where to start reading a shard. */
export type ShardPosition =
  | { type: 'TRIM_HORIZON' }
  | { type: 'AFTER_SEQUENCE_NUMBER'; sequenceNumber: string }

/** A page of records and where the next one starts (absent once a closed shard is read to its end). */
export interface RecordPage {
  records: _Record[]
  nextIterator?: string
}

/**
 * What the stream poller reads: the DynamoDB Streams API's DescribeStream, GetShardIterator and
 * GetRecords, in the API's own terms. {@link createStreamReader} is the SDK adapter.
 */
export interface StreamReader {
  shards(streamArn: string): Promise<StreamShard[]>
  iterator(streamArn: string, shardId: string, position: ShardPosition): Promise<string>
  /** Resolves `'expired'` when the iterator has expired (after 15 minutes unused). */
  records(iterator: string): Promise<RecordPage | 'expired'>
}

/** The stream reader over `@aws-sdk/client-dynamodb-streams` (DynamoDB Local's streams API locally). */
export function createStreamReader(client: DynamoDBStreamsClient): StreamReader {
  return {
    async shards(streamArn) {
      const shards: StreamShard[] = []
      let ExclusiveStartShardId: string | undefined
      do {
        const { StreamDescription } = await client.send(
          new DescribeStreamCommand({
            StreamArn: streamArn,
            ...(ExclusiveStartShardId ? { ExclusiveStartShardId } : {}),
          }),
        )
        for (const shard of StreamDescription?.Shards ?? []) {
          if (!shard.ShardId) continue
          shards.push({
            shardId: shard.ShardId,
            ...(shard.ParentShardId ? { parentShardId: shard.ParentShardId } : {}),
            closed: shard.SequenceNumberRange?.EndingSequenceNumber !== undefined,
          })
        }
        ExclusiveStartShardId = StreamDescription?.LastEvaluatedShardId
      } while (ExclusiveStartShardId)
      return shards
    },
    async iterator(streamArn, shardId, position) {
      const { ShardIterator } = await client.send(
        new GetShardIteratorCommand({
          StreamArn: streamArn,
          ShardId: shardId,
          ShardIteratorType: position.type,
          ...(position.type === 'AFTER_SEQUENCE_NUMBER' ? { SequenceNumber: position.sequenceNumber } : {}),
        }),
      )
      if (!ShardIterator) throw new Error(`GetShardIterator returned no iterator for ${shardId}`)
      return ShardIterator
    },
    async records(iterator) {
      try {
        const { Records = [], NextShardIterator } = await client.send(
          new GetRecordsCommand({ ShardIterator: iterator }),
        )
        return NextShardIterator
          ? { records: Records, nextIterator: NextShardIterator }
          : { records: Records }
      } catch (error) {
        if (error instanceof ExpiredIteratorException) return 'expired'
        throw error
      }
    },
  }
}
