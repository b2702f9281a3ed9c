import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb'
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams'
import { PUBLISHER_EVENT_SOURCE } from '../infra/publisher-event-source.ts'
import type { LocalFunctions } from './local-functions.ts'
import { fileCheckpoints, memoryCheckpoints } from './stream-checkpoints.ts'
import { type StreamPoller, type StreamPollerOptions, startStreamPoller } from './stream-poller.ts'
import { createStreamReader } from './stream-reader.ts'

/** Options of {@link startChangeEventStream}. */
export interface ChangeEventStreamOptions {
  /** DynamoDB's endpoint; DynamoDB Local serves the Streams API on the same one. */
  dynamoDbEndpoint: string
  region: string
  tableName: string
  functions: LocalFunctions
  /** Keeps the stream position in this file across restarts (under LOCAL_DATA_DIR); this run only when absent. */
  checkpointFile?: string
  /** Test seams of the poller (polling interval, retry delays, where it prints). */
  poller?: Pick<StreamPollerOptions, 'pollIntervalMs' | 'discoverIntervalMs' | 'retryDelayMs' | 'print'>
}

/** The running mapping of the table's stream to the publisher. */
export interface ChangeEventStream {
  streamArn: string
  poller: StreamPoller
  close(): Promise<void>
}

/**
 * Drives the real `publish-credential-events` function (sources or bundle) from the table's
 * stream, with the deployed event source mapping's settings (infra/publisher-event-source.ts).
 */
export async function startChangeEventStream(options: ChangeEventStreamOptions): Promise<ChangeEventStream> {
  const client = {
    endpoint: options.dynamoDbEndpoint,
    region: options.region,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  }
  const dynamo = new DynamoDBClient(client)
  let streamArn: string | undefined
  try {
    const { Table } = await dynamo.send(new DescribeTableCommand({ TableName: options.tableName }))
    streamArn = Table?.LatestStreamArn
  } finally {
    dynamo.destroy()
  }
  if (!streamArn) throw new Error(`table ${options.tableName} has no stream; it must be NEW_AND_OLD_IMAGES`)
  const streams = new DynamoDBStreamsClient(client)
  const { functionName } = PUBLISHER_EVENT_SOURCE
  const poller = startStreamPoller({
    reader: createStreamReader(streams),
    streamArn,
    functionName,
    loadHandler: () => options.functions.load(functionName),
    settings: PUBLISHER_EVENT_SOURCE,
    checkpoints: options.checkpointFile ? fileCheckpoints(options.checkpointFile) : memoryCheckpoints(),
    ...options.poller,
  })
  return {
    streamArn,
    poller,
    async close() {
      await poller.close()
      streams.destroy()
    },
  }
}
