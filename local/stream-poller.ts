import { randomUUID } from 'node:crypto'
import type { DynamoDBRecord } from 'aws-lambda'
import { assertSupportedPattern, type EventPattern, matchesEventPattern } from './event-filter.ts'
import { lambdaContext } from './lambda-context.ts'
import type { LambdaHandler } from './local-functions.ts'
import { memoryCheckpoints, type StreamCheckpoints } from './stream-checkpoints.ts'
import { toLambdaStreamRecord } from './stream-event.ts'
import type { ShardPosition, StreamReader, StreamShard } from './stream-reader.ts'

/** The event source mapping's settings the poller honours (infra/publisher-event-source.ts). */
export interface StreamMappingSettings {
  batchSize: number
  retryAttempts: number
  maxRecordAgeSeconds: number
  bisectBatchOnError: boolean
  filterPattern: EventPattern
}

/**
 * What the poller gave up on, as Lambda's on-failure destination receives it: the batch's
 * coordinates in the stream, never its records (they hold the secret envelopes).
 */
export interface StreamFailure {
  condition: 'RetryAttemptsExhausted' | 'RecordAgeExceeded'
  /** How many times the function was invoked with (part of) this batch. */
  approximateInvokeCount: number
  /** `Unhandled` when the last invocation threw, `ReportedItemFailure` when it reported items. */
  functionError?: 'Unhandled' | 'ReportedItemFailure'
  streamArn: string
  shardId: string
  startSequenceNumber: string
  endSequenceNumber: string
  batchSize: number
  approximateArrivalOfFirstRecord: string
  approximateArrivalOfLastRecord: string
}

/** Options of {@link startStreamPoller}. */
export interface StreamPollerOptions {
  reader: StreamReader
  streamArn: string
  /** The function the mapping invokes, by name (for its context), and its handler. */
  functionName: string
  loadHandler: () => Promise<LambdaHandler>
  /** The function's timeout, for its context. @default its deployed one (infra/function-timeouts.ts) */
  timeoutMs?: number
  settings: StreamMappingSettings
  /** Pause between polls of a shard that had nothing new. @default 250 (Lambda polls 4 times a second) */
  pollIntervalMs?: number
  /** Pause between DescribeStream calls looking for new shards. @default 2000 */
  discoverIntervalMs?: number
  /** Pause before retry number `attempt` (1-based). @default 100 ms doubling, at most 2 s */
  retryDelayMs?: (attempt: number) => number
  /** Where on-failure records and polling errors are printed. @default stderr */
  print?: (line: string) => void
  /** The clock record ages are measured with. */
  now?: () => number
  /** Where each shard's position is kept across restarts. @default this run only */
  checkpoints?: StreamCheckpoints
}

/** A running poller. */
export interface StreamPoller {
  /** The local on-failure destination: every batch given up on, in order. */
  readonly failures: readonly StreamFailure[]
  /** Whether every shard read so far has been read to its current end and handed over. */
  caughtUp(): boolean
  close(): Promise<void>
}

type BatchOutcome =
  | { ok: true }
  | { ok: false; failedFrom: number; functionError: 'Unhandled' | 'ReportedItemFailure' }

// Lambda's ReportBatchItemFailures contract: no response, or an empty or absent list, is
// success; an identifier that is empty or not in the batch fails the whole batch; otherwise the
// batch is retried from the lowest failed record.
function outcomeOf(response: unknown, batch: readonly DynamoDBRecord[]): BatchOutcome {
  if (typeof response !== 'object' || response === null) return { ok: true }
  const failures = (response as { batchItemFailures?: unknown }).batchItemFailures
  if (failures === undefined || failures === null || (Array.isArray(failures) && failures.length === 0)) {
    return { ok: true }
  }
  const whole = { ok: false, failedFrom: 0, functionError: 'ReportedItemFailure' } as const
  if (!Array.isArray(failures)) return whole
  const sequenceNumbers = batch.map((record) => record.dynamodb?.SequenceNumber)
  let failedFrom = batch.length
  for (const failure of failures) {
    const identifier = (failure as { itemIdentifier?: unknown } | null)?.itemIdentifier
    const index =
      typeof identifier === 'string' && identifier !== '' ? sequenceNumbers.indexOf(identifier) : -1
    if (index < 0) return whole
    failedFrom = Math.min(failedFrom, index)
  }
  return { ok: false, failedFrom, functionError: 'ReportedItemFailure' }
}

const arrival = (record: DynamoDBRecord) =>
  new Date((record.dynamodb?.ApproximateCreationDateTime ?? 0) * 1000).toISOString()

/**
 * Reads a table's stream the way Lambda's event source mapping does and hands the batches to a
 * function: every shard from TRIM_HORIZON, a child shard only after its parent has been read to
 * its end (so a credential's changes stay in order across shard splits), new shards as
 * DescribeStream lists them; records that fail the mapping's filter are skipped; up to
 * `batchSize` records a batch, one batch per shard at a time. `ReportBatchItemFailures` is
 * honoured (the batch is retried from the lowest failed record), a thrown error splits the batch
 * in two when `bisectBatchOnError` is set, and a record is retried `retryAttempts` times (or until
 * it is older than `maxRecordAgeSeconds`) before its batch goes to the on-failure list, which is
 * printed: coordinates only, never a record.
 */
export function startStreamPoller(options: StreamPollerOptions): StreamPoller {
  const {
    reader,
    streamArn,
    functionName,
    loadHandler,
    settings,
    pollIntervalMs = 250,
    discoverIntervalMs = 2000,
    retryDelayMs = (attempt) => Math.min(100 * 2 ** (attempt - 1), 2000),
    print = (line) => process.stderr.write(`${line}\n`),
    now = Date.now,
    checkpoints = memoryCheckpoints(),
  } = options
  assertSupportedPattern(settings.filterPattern)

  const failures: StreamFailure[] = []
  const started = new Map<string, Promise<void>>()
  const finished = new Set<string>()
  const behind = new Set<string>()
  let discovered = false
  let stopped = false
  const controller = new AbortController()

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      if (stopped) return resolve()
      const timer = setTimeout(resolve, ms)
      controller.signal.addEventListener('abort', () => {
        clearTimeout(timer)
        resolve()
      })
    })

  function giveUp(
    shardId: string,
    batch: readonly DynamoDBRecord[],
    condition: StreamFailure['condition'],
    invocations: number,
    functionError?: StreamFailure['functionError'],
  ) {
    const first = batch[0] as DynamoDBRecord
    const last = batch.at(-1) as DynamoDBRecord
    const failure: StreamFailure = {
      condition,
      approximateInvokeCount: invocations,
      ...(functionError ? { functionError } : {}),
      streamArn,
      shardId,
      startSequenceNumber: first.dynamodb?.SequenceNumber ?? '',
      endSequenceNumber: last.dynamodb?.SequenceNumber ?? '',
      batchSize: batch.length,
      approximateArrivalOfFirstRecord: arrival(first),
      approximateArrivalOfLastRecord: arrival(last),
    }
    failures.push(failure)
    print(
      `stream on-failure: ${condition} after ${invocations} invocations of ${functionName}` +
        `${functionError ? ` (${functionError})` : ''}: shard ${shardId} sequence numbers ` +
        `${failure.startSequenceNumber}..${failure.endSequenceNumber} (${batch.length} records)`,
    )
  }

  async function invoke(batch: readonly DynamoDBRecord[]): Promise<BatchOutcome> {
    try {
      const handler = await loadHandler()
      const response = await handler(
        { Records: batch },
        lambdaContext(functionName, randomUUID(), options.timeoutMs),
      )
      return outcomeOf(response, batch)
    } catch {
      // the handler logs its own failure; the records are never printed here
      return { ok: false, failedFrom: 0, functionError: 'Unhandled' }
    }
  }

  // one batch until it succeeds or is given up on; `invocations` counts the calls made for the
  // batch's first record so far (bisected halves carry it on).
  async function deliver(
    shardId: string,
    records: readonly DynamoDBRecord[],
    invocations = 0,
  ): Promise<void> {
    let batch = records
    let count = invocations
    while (batch.length > 0 && !stopped) {
      const oldest = (batch[0]?.dynamodb?.ApproximateCreationDateTime ?? 0) * 1000
      if (now() - oldest > settings.maxRecordAgeSeconds * 1000) {
        return giveUp(shardId, batch, 'RecordAgeExceeded', count)
      }
      count += 1
      const outcome = await invoke(batch)
      if (outcome.ok) return
      if (outcome.failedFrom > 0) {
        // progress: the records before the failed one are done; the failed one starts its retries
        batch = batch.slice(outcome.failedFrom)
        count = 1
      }
      if (count > settings.retryAttempts) {
        return giveUp(shardId, batch, 'RetryAttemptsExhausted', count, outcome.functionError)
      }
      await sleep(retryDelayMs(count))
      if (outcome.functionError === 'Unhandled' && settings.bisectBatchOnError && batch.length > 1) {
        const middle = Math.ceil(batch.length / 2)
        await deliver(shardId, batch.slice(0, middle), count)
        return deliver(shardId, batch.slice(middle), count)
      }
    }
  }

  // a checkpoint the stream no longer holds (trimmed after 24 hours, or a recreated table) is
  // read from the oldest record instead, as a new mapping would
  async function iteratorAt(shardId: string, position: ShardPosition): Promise<string> {
    if (position.type === 'TRIM_HORIZON') return reader.iterator(streamArn, shardId, position)
    try {
      return await reader.iterator(streamArn, shardId, position)
    } catch (error) {
      const name = (error as Error)?.name
      if (name !== 'TrimmedDataAccessException' && name !== 'ValidationException') throw error
      print(`stream poller: checkpoint of shard ${shardId} is gone (${name}); reading from its oldest record`)
      return reader.iterator(streamArn, shardId, { type: 'TRIM_HORIZON' })
    }
  }

  async function readShard(shard: StreamShard): Promise<void> {
    const { shardId } = shard
    let checkpoint = checkpoints.get(streamArn, shardId)
    const position = () =>
      checkpoint === undefined
        ? ({ type: 'TRIM_HORIZON' } as const)
        : ({ type: 'AFTER_SEQUENCE_NUMBER', sequenceNumber: checkpoint } as const)
    let iterator: string | undefined
    behind.add(shardId)
    while (!stopped) {
      try {
        iterator ??= await iteratorAt(shardId, position())
        const page = await reader.records(iterator)
        if (page === 'expired') {
          iterator = undefined
          continue
        }
        const records = page.records.map((record) => toLambdaStreamRecord(record, streamArn))
        const matching = records.filter((record) => matchesEventPattern(settings.filterPattern, record))
        for (let start = 0; start < matching.length && !stopped; start += settings.batchSize) {
          await deliver(shardId, matching.slice(start, start + settings.batchSize))
        }
        if (stopped) return
        const last = records.at(-1)?.dynamodb?.SequenceNumber
        if (last !== undefined) {
          checkpoint = last
          checkpoints.set(streamArn, shardId, last)
        }
        if (!page.nextIterator) {
          finished.add(shardId)
          behind.delete(shardId)
          return
        }
        iterator = page.nextIterator
        if (records.length === 0) {
          behind.delete(shardId)
          await sleep(pollIntervalMs)
        } else {
          behind.add(shardId)
        }
      } catch (error) {
        // DynamoDB Streams unreachable or refusing: read again from the checkpoint
        print(`stream poller: reading shard ${shardId} failed (${(error as Error)?.name}); retrying`)
        iterator = undefined
        await sleep(pollIntervalMs)
      }
    }
  }

  async function discover(): Promise<void> {
    while (!stopped) {
      try {
        const shards = await reader.shards(streamArn)
        const listed = new Set(shards.map((shard) => shard.shardId))
        for (const shard of shards) {
          if (started.has(shard.shardId)) continue
          // a parent no longer listed has been trimmed from the stream: nothing of it is left to read
          const parent = shard.parentShardId
          if (parent !== undefined && listed.has(parent) && !finished.has(parent)) continue
          started.set(shard.shardId, readShard(shard))
        }
        discovered = true
      } catch (error) {
        print(`stream poller: DescribeStream failed (${(error as Error)?.name}); retrying`)
      }
      await sleep(discoverIntervalMs)
    }
  }

  const discovering = discover()

  return {
    failures,
    caughtUp: () => discovered && behind.size === 0,
    async close() {
      stopped = true
      controller.abort()
      await discovering
      await Promise.all(started.values())
    },
  }
}
