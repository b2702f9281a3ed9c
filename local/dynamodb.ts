import {
  CreateTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  ResourceNotFoundException,
} from '@aws-sdk/client-dynamodb'
import dynalite from 'dynalite'
import { closeServer, listen } from './server-lifecycle.ts'

/** A running in-process DynamoDB (dynalite: the real DynamoDB wire protocol). */
export interface LocalDynamoDb {
  endpoint: string
  /** Requests served, by operation (`PutItem`), or all of them. */
  requestCount(operation?: string): number
  close(): Promise<void>
}

/** Options of {@link startDynamoDb}. */
export interface LocalDynamoDbOptions {
  host?: string
  /** 0 picks a free port. */
  port?: number
  /** LevelDB folder; in memory when absent. */
  dataDir?: string
}

/** Starts dynalite on loopback. */
export async function startDynamoDb({
  host = '127.0.0.1',
  port = 0,
  dataDir,
}: LocalDynamoDbOptions = {}): Promise<LocalDynamoDb> {
  const server = dynalite({
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
    ...(dataDir ? { path: dataDir } : {}),
  })
  const counts = new Map<string, number>()
  server.prependListener('request', (request) => {
    const operation = String(request.headers['x-amz-target'] ?? '').split('.')[1] ?? 'unknown'
    counts.set(operation, (counts.get(operation) ?? 0) + 1)
  })
  const boundPort = await listen(server, host, port)
  return {
    endpoint: `http://${host}:${boundPort}`,
    requestCount: (operation) =>
      operation ? (counts.get(operation) ?? 0) : [...counts.values()].reduce((sum, count) => sum + count, 0),
    close: () => closeServer(server),
  }
}

// dynalite answers CreateTable while the table is still CREATING and flips it to ACTIVE a moment
// later (on disk, a noticeable moment): items cannot be read or written before then.
async function waitUntilActive(client: DynamoDBClient, tableName: string): Promise<void> {
  for (let attempt = 0; attempt < 500; attempt += 1) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }))
    if (Table?.TableStatus === 'ACTIVE') return
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  throw new Error(`table ${tableName} never became ACTIVE; remove the local data directory and start again`)
}

/** Creates the single table (pk/sk, as the CDK stack defines it) unless it exists, and waits until it is ACTIVE. */
export async function ensureTable(client: DynamoDBClient, tableName: string): Promise<void> {
  try {
    await client.send(new DescribeTableCommand({ TableName: tableName }))
  } catch (error) {
    if (!(error instanceof ResourceNotFoundException)) throw error
    await createTable(client, tableName)
  }
  await waitUntilActive(client, tableName)
}

async function createTable(client: DynamoDBClient, tableName: string): Promise<void> {
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
    }),
  )
}
