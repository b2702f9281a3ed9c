import type { _Record } from '@aws-sdk/client-dynamodb-streams'
import type { RecordPage, ShardPosition, StreamReader, StreamShard } from '../../local/stream-reader.ts'

interface FakeShard {
  shardId: string
  parentShardId?: string
  closed: boolean
  records: _Record[]
}

/**
 * An in-memory DynamoDB stream behind the {@link StreamReader} port, with the API's semantics:
 * shards listed in creation order, iterators as positions, a closed shard's last page without a
 * next iterator, pages of at most `pageSize` records, and iterators that can be made to expire.
 */
export class FakeStream implements StreamReader {
  readonly shardList: FakeShard[] = []
  private iterators = new Map<string, { shardId: string; index: number }>()
  private nextSequence = 1000
  pageSize = 1000
  /** Iterators handed out before this call count expire on their next use. */
  expireIteratorsBefore = 0
  private issued = 0
  readonly calls = { shards: 0, iterator: 0, records: 0 }

  addShard(shardId: string, parentShardId?: string): void {
    this.shardList.push({ shardId, ...(parentShardId ? { parentShardId } : {}), closed: false, records: [] })
  }

  closeShard(shardId: string): void {
    this.shard(shardId).closed = true
  }

  /** Appends a record with the next sequence number (numeric strings, as DynamoDB's grow). */
  append(shardId: string, record: _Record): string {
    this.nextSequence += 1
    const sequenceNumber = String(this.nextSequence)
    this.shard(shardId).records.push({
      ...record,
      dynamodb: { ...record.dynamodb, SequenceNumber: sequenceNumber },
    })
    return sequenceNumber
  }

  private shard(shardId: string): FakeShard {
    const shard = this.shardList.find((candidate) => candidate.shardId === shardId)
    if (!shard) throw new Error(`no shard ${shardId}`)
    return shard
  }

  private issue(shardId: string, index: number): string {
    this.issued += 1
    const iterator = `iterator-${this.issued}`
    this.iterators.set(iterator, { shardId, index })
    return iterator
  }

  async shards(): Promise<StreamShard[]> {
    this.calls.shards += 1
    return this.shardList.map(({ shardId, parentShardId, closed }) => ({
      shardId,
      ...(parentShardId ? { parentShardId } : {}),
      closed,
    }))
  }

  async iterator(_streamArn: string, shardId: string, position: ShardPosition): Promise<string> {
    this.calls.iterator += 1
    const shard = this.shard(shardId)
    if (position.type === 'TRIM_HORIZON') return this.issue(shardId, 0)
    const index = shard.records.findIndex(
      (record) => record.dynamodb?.SequenceNumber === position.sequenceNumber,
    )
    if (index < 0) {
      // what DynamoDB Streams answers for a position it no longer holds
      throw Object.assign(new Error(`no record ${position.sequenceNumber} in ${shardId}`), {
        name: 'TrimmedDataAccessException',
      })
    }
    return this.issue(shardId, index + 1)
  }

  async records(iterator: string): Promise<RecordPage | 'expired'> {
    this.calls.records += 1
    const position = this.iterators.get(iterator)
    if (!position) throw new Error(`unknown iterator ${iterator}`)
    if (Number(iterator.split('-')[1]) <= this.expireIteratorsBefore) return 'expired'
    const shard = this.shard(position.shardId)
    const records = shard.records.slice(position.index, position.index + this.pageSize)
    const index = position.index + records.length
    if (shard.closed && index >= shard.records.length) return { records }
    return { records, nextIterator: this.issue(shard.shardId, index) }
  }

  /** Expires every iterator issued so far. */
  expireIterators(): void {
    this.expireIteratorsBefore = this.issued
  }
}
