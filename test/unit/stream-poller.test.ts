import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { _Record } from '@aws-sdk/client-dynamodb-streams'
import { marshall } from '@aws-sdk/util-dynamodb'
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda'
import { afterEach, describe, expect, it } from 'vitest'
import { PUBLISHER_EVENT_SOURCE } from '../../infra/publisher-event-source.ts'
import { fileCheckpoints, memoryCheckpoints, type StreamCheckpoints } from '../../local/stream-checkpoints.ts'
import {
  type StreamMappingSettings,
  type StreamPoller,
  startStreamPoller,
} from '../../local/stream-poller.ts'
import { FakeStream } from '../support/fake-stream.ts'
import { apiKeyItem, CANARY, credentialItem } from '../support/stream-records.ts'

const STREAM =
  'arn:aws:dynamodb:local:000000000000:table/registry-credentials-local/stream/2026-12-01T00:00:00.000'

const settings: StreamMappingSettings = { ...PUBLISHER_EVENT_SOURCE, retryAttempts: 3 }

function credentialRecord(name: string, eventName: 'INSERT' | 'MODIFY' | 'REMOVE' = 'INSERT'): _Record {
  const item = credentialItem({ name })
  const image = marshall(item, { removeUndefinedValues: true })
  return {
    eventID: `event-${name}`,
    eventName,
    eventVersion: '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: 'local',
    dynamodb: {
      ApproximateCreationDateTime: new Date(),
      Keys: marshall({ pk: item.pk, sk: item.sk }),
      ...(eventName === 'REMOVE' ? { OldImage: image } : { NewImage: image }),
      StreamViewType: 'NEW_AND_OLD_IMAGES',
      SizeBytes: 100,
    },
  }
}

function apiKeyRecord(): _Record {
  const item = apiKeyItem()
  return {
    eventID: 'event-api-key',
    eventName: 'INSERT',
    dynamodb: {
      ApproximateCreationDateTime: new Date(),
      Keys: marshall({ pk: item.pk, sk: item.sk }),
      NewImage: marshall(item),
    },
  }
}

const names = (records: readonly DynamoDBRecord[]) =>
  records.map((record) => record.dynamodb?.NewImage?.name?.S)

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let attempt = 0; attempt < 400; attempt += 1) {
    if (condition()) return
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
  throw new Error(`never happened: ${what}`)
}

type Handler = (event: DynamoDBStreamEvent) => Promise<DynamoDBBatchResponse | undefined>

let poller: StreamPoller | undefined
const printed: string[] = []

function start(
  stream: FakeStream,
  handler: Handler,
  overrides: Partial<StreamMappingSettings> = {},
  now?: () => number,
  checkpoints?: StreamCheckpoints,
) {
  const batches: DynamoDBRecord[][] = []
  poller = startStreamPoller({
    reader: stream,
    streamArn: STREAM,
    functionName: 'publish-credential-events',
    loadHandler: async () => async (event) => {
      batches.push((event as DynamoDBStreamEvent).Records)
      return handler(event as DynamoDBStreamEvent)
    },
    settings: { ...settings, ...overrides },
    pollIntervalMs: 2,
    discoverIntervalMs: 2,
    retryDelayMs: () => 0,
    print: (line) => printed.push(line),
    ...(now ? { now } : {}),
    ...(checkpoints ? { checkpoints } : {}),
  })
  return batches
}

afterEach(async () => {
  await poller?.close()
  poller = undefined
  printed.length = 0
})

const succeed: Handler = async () => ({ batchItemFailures: [] })

describe('the stream poller (the event source mapping, locally)', () => {
  it('hands the records over in order, in batches of the mapping size, as Lambda delivers them', async () => {
    const stream = new FakeStream()
    stream.addShard('shard-1')
    for (let index = 0; index < 25; index += 1) stream.append('shard-1', credentialRecord(`c${index}`))

    const batches = start(stream, succeed)
    await until(() => batches.flat().length === 25, '25 records delivered')

    expect(batches.map((batch) => batch.length)).toEqual([10, 10, 5])
    expect(batches.flat().map((record) => record.dynamodb?.NewImage?.name?.S)).toEqual(
      Array.from({ length: 25 }, (_, index) => `c${index}`),
    )
    const first = batches[0]?.[0] as DynamoDBRecord
    expect(first.eventSourceARN).toBe(STREAM)
    expect(typeof first.dynamodb?.ApproximateCreationDateTime).toBe('number')
    // binary attributes as base64 strings, as in Lambda's JSON
    expect(typeof first.dynamodb?.NewImage?.secret_envelope?.M?.ciphertext?.B).toBe('string')
  })

  it("skips records the mapping's filter refuses (API key items)", async () => {
    const stream = new FakeStream()
    stream.addShard('shard-1')
    stream.append('shard-1', apiKeyRecord())
    stream.append('shard-1', credentialRecord('after-key'))

    const batches = start(stream, succeed)
    await until(() => batches.length === 1, 'one batch')
    await until(() => poller?.caughtUp() === true, 'caught up')

    expect(batches.map(names)).toEqual([['after-key']])
  })

  it('retries from the first reported failure, without redelivering the records before it', async () => {
    const stream = new FakeStream()
    stream.addShard('shard-1')
    const sequenceNumbers = ['a', 'b', 'c', 'd', 'e'].map((name) =>
      stream.append('shard-1', credentialRecord(name)),
    )
    let calls = 0
    const handler: Handler = async () => {
      calls += 1
      return calls === 1
        ? {
            batchItemFailures: [
              { itemIdentifier: sequenceNumbers[3] as string },
              { itemIdentifier: sequenceNumbers[2] as string },
            ],
          }
        : { batchItemFailures: [] }
    }

    const batches = start(stream, handler)
    await until(() => batches.length === 2, 'a retry')

    expect(batches.map(names)).toEqual([
      ['a', 'b', 'c', 'd', 'e'],
      ['c', 'd', 'e'],
    ])
  })

  it('retries the whole batch when a reported identifier is not in it', async () => {
    const stream = new FakeStream()
    stream.addShard('shard-1')
    stream.append('shard-1', credentialRecord('a'))
    stream.append('shard-1', credentialRecord('b'))
    let calls = 0
    const handler: Handler = async () => {
      calls += 1
      return calls === 1 ? { batchItemFailures: [{ itemIdentifier: '' }] } : undefined
    }

    const batches = start(stream, handler)
    await until(() => batches.length === 2, 'a retry')

    expect(batches.map(names)).toEqual([
      ['a', 'b'],
      ['a', 'b'],
    ])
  })

  it('gives a failing record the retries of the mapping, then puts its batch on the printed on-failure list and moves on', async () => {
    const stream = new FakeStream()
    stream.addShard('shard-1')
    const poison = stream.append('shard-1', credentialRecord('poison'))
    stream.append('shard-1', credentialRecord('rest-of-batch'))
    const handler: Handler = async (event) =>
      event.Records[0]?.dynamodb?.SequenceNumber === poison
        ? { batchItemFailures: [{ itemIdentifier: poison }] }
        : undefined

    const batches = start(stream, handler, { batchSize: 2 })
    await until(() => (poller?.failures.length ?? 0) === 1, 'a dead letter')
    stream.append('shard-1', credentialRecord('next'))
    await until(() => batches.at(-1)?.[0]?.dynamodb?.NewImage?.name?.S === 'next', 'the next record')

    // the first invocation and three retries
    expect(batches.filter((batch) => names(batch)[0] === 'poison')).toHaveLength(1 + 3)
    expect(poller?.failures[0]).toMatchObject({
      condition: 'RetryAttemptsExhausted',
      approximateInvokeCount: 4,
      functionError: 'ReportedItemFailure',
      shardId: 'shard-1',
      startSequenceNumber: poison,
      batchSize: 2,
    })
    expect(printed).toHaveLength(1)
    expect(printed[0]).toContain(`shard shard-1 sequence numbers ${poison}..`)
    expect(printed.join('\n')).not.toContain(CANARY)
    expect(printed.join('\n')).not.toContain('poison')
  })

  it('splits a batch whose invocation throws, so only the failing record is given up on', async () => {
    const stream = new FakeStream()
    stream.addShard('shard-1')
    for (const name of ['a', 'b', 'poison', 'c']) stream.append('shard-1', credentialRecord(name))
    const delivered: string[] = []
    const handler: Handler = async (event) => {
      if (names(event.Records).includes('poison')) throw new Error('cannot publish')
      delivered.push(...(names(event.Records) as string[]))
      return undefined
    }

    start(stream, handler)
    await until(() => (poller?.failures.length ?? 0) === 1 && delivered.includes('c'), 'the split')

    expect(delivered).toEqual(['a', 'b', 'c'])
    expect(poller?.failures[0]).toMatchObject({
      condition: 'RetryAttemptsExhausted',
      functionError: 'Unhandled',
      batchSize: 1,
    })
  })

  it('gives up on records older than the maximum record age without invoking the function', async () => {
    const stream = new FakeStream()
    stream.addShard('shard-1')
    stream.append('shard-1', credentialRecord('stale'))
    const later = () => Date.now() + (PUBLISHER_EVENT_SOURCE.maxRecordAgeSeconds + 60) * 1000

    const batches = start(stream, succeed, {}, later)
    await until(() => (poller?.failures.length ?? 0) === 1, 'a dead letter')

    expect(batches).toHaveLength(0)
    expect(poller?.failures[0]?.condition).toBe('RecordAgeExceeded')
  })

  it('reads a child shard only after its parent is read to its end, and picks up new shards', async () => {
    const stream = new FakeStream()
    stream.addShard('parent')
    stream.append('parent', credentialRecord('p1'))
    const batches = start(stream, succeed)
    await until(() => batches.length === 1, 'the parent record')

    stream.addShard('child', 'parent')
    stream.append('child', credentialRecord('c1'))
    stream.append('parent', credentialRecord('p2'))
    await until(() => batches.flat().length === 2, 'the second parent record')
    expect(batches.flat().map((record) => record.dynamodb?.NewImage?.name?.S)).toEqual(['p1', 'p2'])

    stream.closeShard('parent')
    await until(() => batches.flat().length === 3, 'the child record')
    expect(names(batches.flat())).toEqual(['p1', 'p2', 'c1'])
  })

  it('reads on after the checkpoint when its iterator expires, delivering nothing twice', async () => {
    const stream = new FakeStream()
    stream.addShard('shard-1')
    stream.append('shard-1', credentialRecord('before'))
    const batches = start(stream, succeed)
    await until(() => batches.length === 1, 'the first record')

    stream.expireIterators()
    stream.append('shard-1', credentialRecord('after'))
    await until(() => batches.length === 2, 'the second record')

    expect(batches.map(names)).toEqual([['before'], ['after']])
  })

  it('reads on after the checkpoint a previous run left, publishing nothing twice across a restart', async () => {
    const stream = new FakeStream()
    stream.addShard('shard-1')
    stream.append('shard-1', credentialRecord('first-run'))
    const checkpoints = memoryCheckpoints()
    const first = start(stream, succeed, {}, undefined, checkpoints)
    await until(() => first.length === 1, 'the first run')
    await poller?.close()

    stream.append('shard-1', credentialRecord('second-run'))
    const second = start(stream, succeed, {}, undefined, checkpoints)
    await until(() => second.length === 1, 'the second run')

    expect(second.map(names)).toEqual([['second-run']])
  })

  it('reads from the oldest record when its checkpoint is no longer in the stream', async () => {
    const stream = new FakeStream()
    stream.addShard('shard-1')
    stream.append('shard-1', credentialRecord('kept'))
    const checkpoints = memoryCheckpoints()
    checkpoints.set(STREAM, 'shard-1', '1')

    const batches = start(stream, succeed, {}, undefined, checkpoints)
    await until(() => batches.length === 1, 'the record')

    expect(batches.map(names)).toEqual([['kept']])
    expect(printed.join('\n')).toContain('checkpoint of shard shard-1 is gone (TrimmedDataAccessException)')
  })

  it('keeps checkpoints in a file across instances', () => {
    const folder = mkdtempSync(join(tmpdir(), 'checkpoints-'))
    try {
      const path = join(folder, 'stream-checkpoints.json')
      fileCheckpoints(path).set(STREAM, 'shard-1', '1042')

      expect(fileCheckpoints(path).get(STREAM, 'shard-1')).toBe('1042')
      expect(fileCheckpoints(path).get(STREAM, 'shard-2')).toBeUndefined()
    } finally {
      rmSync(folder, { recursive: true, force: true })
    }
  })
})
