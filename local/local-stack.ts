import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'
import { createDynamoApiKeyStore } from '../shared/adapters/api-key-store.ts'
import { generateApiKey, hashApiKey, isWellFormedApiKey, permissionsFor } from '../shared/domain/api-key.ts'
import type { RateLimit } from '../shared/http/rate-limit.ts'
import { routeList } from '../shared/http/routes.ts'
import { bundleFunctions } from './bundle-functions.ts'
import { type ChangeEventWorker, startChangeEventWorker } from './change-event-stream.ts'
import { type ChangeEventBus, startChangeEventBus } from './change-events.ts'
import { ensureTable, type LocalDynamoDb, startDynamoDb } from './dynamodb.ts'
import { type HttpGateway, type ProxyHandler, startHttpGateway } from './http-gateway.ts'
import { type KmsEmulator, startKmsEmulator } from './kms-emulator.ts'
import { createLambdaInvokeApi } from './lambda-invoke-api.ts'
import { type LocalFunctions, sourceFunctions } from './local-functions.ts'
import { devStageRateLimit } from './rate-limit-settings.ts'
import { type RequestMeter, startRequestMeter } from './request-meter.ts'
import { LocalSettingError } from './settings.ts'

/** Settings of the local stack; `npm start` reads them from the environment. */
export interface LocalStackOptions {
  host?: string
  /** HTTP port of the API; 0 picks a free one. */
  port?: number
  /** DynamoDB Local's port; 0 picks a free one. */
  dynamoDbPort?: number
  /**
   * A DynamoDB Local that is already running (the test run's one instance): used instead of
   * starting one, and left running on close. Give each stack its own `tableName` on it.
   */
  dynamoDbEndpoint?: string
  /** Most credentials one company may hold (the stage setting `credentialLimit`). */
  credentialLimit?: number
  /** Keeps table data and KMS key material here, so a restart can still decrypt. */
  dataDir?: string
  /** The development API key (`rcs_…`); a new one is minted when absent. */
  apiKey?: string
  /** The development company. */
  companyId?: string
  tableName?: string
  /**
   * Requests per API key per window the gateway accepts before answering 429, as the deployed web
   * ACL does; `false` for none.
   * @default the dev stage's limit in cdk.json (`npm start`: LOCAL_RATE_LIMIT / LOCAL_RATE_WINDOW_SECONDS)
   */
  rateLimit?: RateLimit | false
  /**
   * Test seam: given a service's real endpoint, returns the endpoint the functions should use
   * (a fault-injecting proxy in front of it, say). The stack's own setup uses the real one.
   */
  interpose?: (service: 'dynamodb' | 'kms', endpoint: string) => Promise<string>
  /**
   * A `cdk synth` output folder (`cdk.out`): run the bundles it holds, the artifacts `cdk deploy`
   * uploads, instead of the TypeScript sources.
   */
  bundlesDir?: string
  /** Where change events are POSTed, one per request, like an EventBridge API destination. */
  eventTargetUrl?: string
  /** How long a failing event POST is retried before the event is dropped. @default 60_000 */
  eventRetryWindowMs?: number
  /** Called with one line per API request (`npm start` prints them). */
  requestLog?: (line: string) => void
}

/** A running local stack. */
export interface LocalStack {
  baseUrl: string
  apiKey: string
  companyId: string
  tableName: string
  secretsKeyArn: string
  /** DynamoDB Local's own endpoint, and the calls this stack's functions made to it. */
  dynamoDb: LocalDynamoDb & Pick<RequestMeter, 'requestCount'>
  kms: KmsEmulator
  gateway: HttpGateway
  /** The functions that run (sources or bundles), by name; the Invoke API serves each of them. */
  functions: LocalFunctions
  /**
   * The Lambda Invoke API's endpoint (the gateway's own port), for `LambdaClient({ endpoint })`:
   * what the deploy system and the functions themselves call (the verify route the verifier, a
   * health run the verifier and its own continuation), each function with its deployed timeout.
   */
  lambdaEndpoint: string
  /** The change-event bus: the EventBridge stand-in and its deliveries. */
  events: ChangeEventBus
  /** The table's stream driving the publisher, as the deployed event source mapping does. */
  changeEvents: ChangeEventWorker
  /** The per-key limit the gateway enforces, or `false`. */
  rateLimit: RateLimit | false
  close(): Promise<void>
}

/** The company the local stack's development key belongs to, unless told otherwise. */
export const DEFAULT_LOCAL_COMPANY_ID = '0195f1f6-8f5e-7000-8000-000000000001'

/** The per-company credential limit of the local stack, unless told otherwise (the stages' default). */
export const DEFAULT_LOCAL_CREDENTIAL_LIMIT = 1000

/** The table the local stack creates, unless told otherwise. */
export const DEFAULT_LOCAL_TABLE = 'registry-credentials-local'

const SECRETS_KEY_ALIAS = 'alias/registry-credentials-secrets'

/** The local stand-ins for the deployed credential verifier's and resolve function's role ARNs. */
export const LOCAL_ASSUMING_ROLE_ARNS = [
  'arn:aws:iam::000000000000:role/registry-credentials-local-credential-verifier',
  'arn:aws:iam::000000000000:role/registry-credentials-local-resolve-docker-registry',
]

// the handlers read their configuration when first imported, exactly as on Lambda: the
// environment is set before any handler module loads.
function configureEnvironment(settings: Record<string, string>): void {
  for (const [name, value] of Object.entries(settings)) process.env[name] = value
}

/**
 * Starts the whole stack: DynamoDB Local (a Java process), the KMS emulator, the table, a development
 * company and API key, and the route table's real handlers behind a local API Gateway.
 */
export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const {
    host = '127.0.0.1',
    port = 0,
    dynamoDbPort = 0,
    dataDir,
    companyId: givenCompanyId = DEFAULT_LOCAL_COMPANY_ID,
    tableName = DEFAULT_LOCAL_TABLE,
    credentialLimit = DEFAULT_LOCAL_CREDENTIAL_LIMIT,
  } = options
  // stored lower-case, as every company id is
  const companyId = givenCompanyId.toLowerCase()
  if (options.apiKey !== undefined && !isWellFormedApiKey(options.apiKey)) {
    throw new LocalSettingError(
      'LOCAL_API_KEY',
      'LOCAL_API_KEY must be rcs_ followed by 43 base64url characters',
    )
  }
  // read before anything starts, so a cdk.json without the dev limit fails at once
  const rateLimit = options.rateLimit ?? devStageRateLimit()
  if (dataDir) mkdirSync(dataDir, { recursive: true })

  const engine: LocalDynamoDb = options.dynamoDbEndpoint
    ? { endpoint: options.dynamoDbEndpoint, close: async () => undefined }
    : await startDynamoDb({
        port: dynamoDbPort,
        ...(dataDir ? { dataDir: join(dataDir, 'dynamodb') } : {}),
      })
  const meter = await startRequestMeter(engine.endpoint)
  const dynamoDb = {
    endpoint: engine.endpoint,
    requestCount: meter.requestCount,
    async close() {
      await meter.close()
      await engine.close()
    },
  }
  const kms = await startKmsEmulator({ host, ...(dataDir ? { dataDir } : {}) })
  const { arn: secretsKeyArn } = await kms.ensureKey({
    alias: SECRETS_KEY_ALIAS,
    description: 'docker registry secrets (local)',
  })

  const functions = options.bundlesDir ? bundleFunctions(options.bundlesDir) : sourceFunctions()
  const events = await startChangeEventBus({
    host,
    region: kms.region,
    ...(options.eventTargetUrl === undefined ? {} : { eventTargetUrl: options.eventTargetUrl }),
    ...(options.eventRetryWindowMs === undefined ? {} : { eventRetryWindowMs: options.eventRetryWindowMs }),
  })

  const interpose = options.interpose ?? (async (_service: string, endpoint: string) => endpoint)
  configureEnvironment({
    ...events.environment,
    AWS_REGION: kms.region,
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_ENDPOINT_URL_DYNAMODB: await interpose('dynamodb', meter.endpoint),
    AWS_ENDPOINT_URL_KMS: await interpose('kms', kms.endpoint),
    TABLE_NAME: tableName,
    SECRETS_KEY_ARN: secretsKeyArn,
    CREDENTIAL_LIMIT: String(credentialLimit),
    POWERTOOLS_SERVICE_NAME: 'registry-credentials-local',
    // as Lambda sets it: the first invocation of each function is its cold start (metrics, logs)
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    // local only: verification may reach a registry on this machine's loopback, over plain http
    REGISTRY_VERIFY_ALLOW_HTTP: 'true',
    REGISTRY_VERIFY_ALLOW_LOOPBACK: 'true',
    CREDENTIAL_VERIFIER_FUNCTION_NAME: 'credential-verifier',
    HEALTH_CHECKS_PER_HOST_PER_SECOND: '2',
    // what the deployed stack names: the roles that assume customers' ECR roles
    ASSUMING_ROLE_ARNS: LOCAL_ASSUMING_ROLE_ARNS.join(','),
  })

  const dynamoClient = new DynamoDBClient({ endpoint: engine.endpoint, region: kms.region })
  await ensureTable(dynamoClient, tableName)
  const apiKey = await ensureDevelopmentKey(
    DynamoDBDocumentClient.from(dynamoClient),
    tableName,
    companyId,
    options.apiKey,
  )
  dynamoClient.destroy()

  const changeEvents = await startChangeEventWorker({
    dynamoDbEndpoint: engine.endpoint,
    region: kms.region,
    tableName,
    ...(options.bundlesDir ? { bundlesDir: options.bundlesDir } : {}),
    ...(dataDir ? { checkpointFile: join(dataDir, 'stream-checkpoints.json') } : {}),
  })
  const gateway = await startHttpGateway({
    routes: routeList,
    loadHandler: (route) => functions.load(route.functionName) as Promise<ProxyHandler>,
    timeoutMs: (name) => functions.timeoutMs(name),
    mounts: [createLambdaInvokeApi({ functions, region: kms.region })],
    host,
    port,
    ...(rateLimit === false ? {} : { rateLimit }),
    ...(options.requestLog ? { requestLog: options.requestLog } : {}),
  })
  // the functions reach each other as on AWS, through Lambda Invoke (by folder name): here the
  // gateway's Invoke API, known once it listens and before any handler module has loaded
  configureEnvironment({ AWS_ENDPOINT_URL_LAMBDA: gateway.baseUrl })

  return {
    baseUrl: `${gateway.baseUrl}/v3`,
    apiKey,
    companyId,
    tableName,
    secretsKeyArn,
    dynamoDb,
    kms,
    gateway,
    functions,
    lambdaEndpoint: gateway.baseUrl,
    events,
    changeEvents,
    rateLimit,
    async close() {
      await gateway.close()
      await changeEvents.close()
      await events.close()
      await kms.close()
      await dynamoDb.close()
    },
  }
}

async function ensureDevelopmentKey(
  client: DynamoDBDocumentClient,
  tableName: string,
  companyId: string,
  fixedKey: string | undefined,
): Promise<string> {
  const store = createDynamoApiKeyStore({ client, tableName })
  const { key, hash } = fixedKey ? { key: fixedKey, hash: hashApiKey(fixedKey) } : generateApiKey()
  const existing = await store.find(hash)
  if (existing) {
    if (existing.companyId !== companyId) {
      throw new LocalSettingError(
        'LOCAL_API_KEY',
        'LOCAL_API_KEY already belongs to another company in LOCAL_DATA_DIR; set LOCAL_COMPANY_ID to that company, or use another key',
      )
    }
    return key
  }
  await store.create({
    hash,
    companyId,
    name: 'local development',
    permissions: permissionsFor({ readOnly: false }),
    enabled: true,
    createdAt: new Date().toISOString(),
  })
  return key
}
