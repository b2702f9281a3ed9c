import { CREDENTIAL_SORT_KEY_PREFIX, companyPartitionKey } from '../shared/domain/credential-keys.ts'

/**
 * How the table's stream drives the change-event publisher: the one definition the deployed
 * event source mapping (infra/internal-stack.ts) and the local stack's stream poller both read,
 * so the local stack batches, filters and gives up exactly as Lambda is configured to. No CDK
 * import here: the local stack loads it.
 */
export const PUBLISHER_EVENT_SOURCE = {
  /** The function the stream drives (its `functions/` folder). */
  functionName: 'publish-credential-events',
  /**
   * Records per invocation of the publisher: one PutEvents call (ten entries at most), so a bus
   * failure makes Lambda redeliver at most this many records.
   */
  batchSize: 10,
  /**
   * Redeliveries of a failed record before it is dead-lettered. Each attempt already includes the
   * SDK's own retries with backoff, so this rides out throttling and short bus outages, while a
   * record the publisher can never read blocks its shard for a bounded time only.
   */
  retryAttempts: 20,
  /**
   * Oldest record the publisher is still given, in seconds; older ones are dead-lettered whatever
   * the retry count. Well inside the stream's 24-hour retention, so the sequence numbers in a
   * dead letter can still be read back from the stream for a replay.
   */
  maxRecordAgeSeconds: 3600,
  /** A thrown error (not a reported item failure) splits the batch in two before retrying. */
  bisectBatchOnError: true,
  /**
   * Lambda's event filter (the pattern language of EventBridge, on the record as the function
   * receives it): credential items only, so API key records never invoke the publisher (nor show
   * it their hashes); the handler checks the keys again, the filter only saves invocations.
   */
  filterPattern: {
    dynamodb: {
      Keys: {
        pk: { S: [{ prefix: companyPartitionKey('') }] },
        sk: { S: [{ prefix: CREDENTIAL_SORT_KEY_PREFIX }] },
      },
    },
  },
} as const
