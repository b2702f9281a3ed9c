import './cold-start/quiet-local-stack.ts'
import { randomUUID } from 'node:crypto'
import { rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { dirname } from 'node:path'
import { startLocalStack } from '../../local/local-stack.ts'
import { activityItem } from '../../shared/adapters/activity-log.ts'
import { API_KEY_SORT_KEY, apiKeyPartitionKey } from '../../shared/adapters/api-key-store.ts'
import {
  COUNT_ATTRIBUTE,
  COUNT_SORT_KEY,
  SUMMARY_NAMES,
  SUMMARY_PROJECTION,
} from '../../shared/adapters/docker-registry-store.ts'
import { hashApiKey } from '../../shared/domain/api-key.ts'
import {
  CREDENTIAL_SORT_KEY_PREFIX,
  companyPartitionKey,
  credentialSortKey,
} from '../../shared/domain/credential-keys.ts'
import { removeCdkOutdirs } from '../support/cdk-outdir.ts'
import { validCreateBody } from '../support/credential-inputs.ts'
import { startFaultProxy } from '../support/fault-proxy.ts'
import {
  type BenchBundle,
  buildFloorBundles,
  buildFunctionBundles,
  buildNaiveBundle,
} from './cold-start/bundles.ts'
import { apiEvent } from './cold-start/events.ts'
import {
  BARE_SCRIPT,
  type ChildMessage,
  importScript,
  measureNode,
  runChild,
} from './cold-start/processes.ts'
import { type Summary, summarize } from './cold-start/stats.ts'

// `npm run bench:cold-start`: the functions' real bundles (built by the RegistryFunction construct,
// as `cdk synth` builds them) against a naive create handler, all measured in this one run on this
// machine, so only ratios are compared. COLD_START_RUNS sets the import pairs (default 20); the
// invocation measurements take half as many runs.
const RUNS = Math.max(3, Number(process.env.COLD_START_RUNS ?? 20))
const INVOKE_RUNS = Math.max(3, Math.ceil(RUNS / 2))
const NAIVE = 'naive create (baseline)'
// the floors: each function's AWS calls of a cold invocation, with the bare SDK and nothing else
const FLOOR = {
  'create-docker-registry': 'create: AWS calls alone',
  'get-docker-registry': 'get: AWS calls alone',
  'list-docker-registries': 'list: AWS calls alone',
} as const
const DYNAMODB_OPERATIONS = [
  'GetItem',
  'PutItem',
  'UpdateItem',
  'DeleteItem',
  'Query',
  'Scan',
  'BatchGetItem',
  'BatchWriteItem',
  'TransactGetItems',
  'TransactWriteItems',
]

async function closedLoopbackPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  await new Promise<void>((resolve) => server.close(() => resolve()))
  if (address === null || typeof address === 'string') throw new Error('no port')
  return address.port
}

process.stdout.write(`cold start: building bundles and starting the local servers…\n`)
const naive = await buildNaiveBundle()
const functionBundles = buildFunctionBundles()
const floors = await buildFloorBundles()
const templateEnvironment = (name: string) =>
  functionBundles.find((bundle) => bundle.name === name)?.environment ?? {}
const bundles: BenchBundle[] = [
  naive,
  ...functionBundles,
  ...Object.entries(FLOOR).map(([functionName, name]) => ({
    ...(functionName === 'create-docker-registry' ? floors.create : floors.reads),
    name,
    environment: templateEnvironment(functionName),
  })),
]
// a local stack of its own (DynamoDB Local included): the bench runs outside vitest, so not on
// the test run's engine. No per-key rate limit: the bench seeds with one key.
const stack = await startLocalStack({ port: 0, dynamoDbPort: 0, rateLimit: false })
const proxy = await startFaultProxy(stack.dynamoDb.endpoint)
const unreachableRegistry = `127.0.0.1:${await closedLoopbackPort()}`

async function createCredential(query = '', body: object = validCreateBody): Promise<string> {
  const response = await fetch(`${stack.baseUrl}/docker-registries${query}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${stack.apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
  if (response.status !== 201) throw new Error(`seeding a credential answered ${response.status}`)
  return ((await response.json()) as { id: string }).id
}

const stored = await createCredential()
const pinned = await createCredential(`?registry_host=${unreachableRegistry}`, {
  ...validCreateBody,
  registry: 'custom',
})

// the floors send the requests the store sends, to the same items
const tableName = stack.tableName
const apiKeyRead = {
  TableName: tableName,
  Key: { pk: apiKeyPartitionKey(hashApiKey(stack.apiKey)), sk: API_KEY_SORT_KEY },
}
const summaryRead = {
  ProjectionExpression: SUMMARY_PROJECTION,
  ExpressionAttributeNames: SUMMARY_NAMES,
  ConsistentRead: true,
}
const FLOOR_COMPANY = 'cold-start-floor'

/** The events of one measured process: the first succeeds, the others are sent while DynamoDB fails. */
type Scenario = () => Promise<unknown[]>
const apiKey = stack.apiKey
const three = (event: () => unknown) => [event(), event(), event()]
const scenarios: Record<string, Scenario> = {
  [NAIVE]: async () =>
    three(() => apiEvent({ functionName: 'create-docker-registry', body: validCreateBody })),
  'create-docker-registry': async () =>
    three(() => apiEvent({ functionName: 'create-docker-registry', apiKey, body: validCreateBody })),
  'list-docker-registries': async () =>
    three(() => apiEvent({ functionName: 'list-docker-registries', apiKey, query: { limit: '25' } })),
  'get-docker-registry': async () =>
    three(() => apiEvent({ functionName: 'get-docker-registry', apiKey, pathParameters: { id: stored } })),
  'update-docker-registry': async () =>
    three(() =>
      apiEvent({
        functionName: 'update-docker-registry',
        apiKey,
        pathParameters: { id: stored },
        body: { name: 'Renamed by the bench' },
      }),
    ),
  'delete-docker-registry': async () => {
    const id = await createCredential()
    return three(() => apiEvent({ functionName: 'delete-docker-registry', apiKey, pathParameters: { id } }))
  },
  // the credential is pinned to a closed loopback port: the check runs (and fails) without leaving the machine
  'verify-docker-registry': async () =>
    three(() => apiEvent({ functionName: 'verify-docker-registry', apiKey, pathParameters: { id: pinned } })),
  'get-openapi-document': async () => [apiEvent({ functionName: 'get-openapi-document' })],
  'get-external-id': async () => three(() => apiEvent({ functionName: 'get-external-id', apiKey })),
  'resolve-docker-registry': async () =>
    three(() => ({
      company_id: stack.companyId,
      docker_registry_credential_id: stored,
      image: 'docker.io/library/nginx:1.27',
    })),
  [FLOOR['get-docker-registry']]: async () => [
    {
      reads: [
        { get: apiKeyRead },
        {
          get: {
            TableName: tableName,
            Key: { pk: companyPartitionKey(stack.companyId), sk: credentialSortKey(stored) },
            ...summaryRead,
          },
        },
      ],
    },
  ],
  [FLOOR['list-docker-registries']]: async () => [
    {
      reads: [
        { get: apiKeyRead },
        {
          query: {
            TableName: tableName,
            KeyConditionExpression: 'pk = :pk AND sk BETWEEN :first AND :count',
            ExpressionAttributeValues: {
              ':pk': companyPartitionKey(stack.companyId),
              ':first': CREDENTIAL_SORT_KEY_PREFIX,
              ':count': COUNT_SORT_KEY,
            },
            ...summaryRead,
            ProjectionExpression: `sk, ${COUNT_ATTRIBUTE}, ${summaryRead.ProjectionExpression}`,
            ScanIndexForward: false,
            Limit: 26,
          },
        },
      ],
    },
  ],
  [FLOOR['create-docker-registry']]: async () => {
    const id = randomUUID()
    return [
      {
        apiKey: apiKeyRead,
        dataKey: {
          KeyId: stack.secretsKeyArn,
          KeySpec: 'AES_256',
          EncryptionContext: { company_id: FLOOR_COMPANY, credential_id: id },
        },
        secret: validCreateBody.secret,
        put: {
          TableName: tableName,
          Item: {
            pk: companyPartitionKey(FLOOR_COMPANY),
            sk: credentialSortKey(id),
            id,
            company_id: FLOOR_COMPANY,
            name: validCreateBody.name,
            registry: validCreateBody.registry,
            username: validCreateBody.username,
            created_at: new Date().toISOString(),
            updated_at: new Date().toISOString(),
          },
          ConditionExpression: 'attribute_not_exists(pk)',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        },
        // the store's count update, its limit condition included (ADD, so the first one works)
        count: {
          TableName: tableName,
          Key: { pk: companyPartitionKey(FLOOR_COMPANY), sk: COUNT_SORT_KEY },
          UpdateExpression: 'ADD #count :one',
          ConditionExpression: 'attribute_not_exists(#count) OR #count < :limit',
          ExpressionAttributeNames: { '#count': COUNT_ATTRIBUTE },
          ExpressionAttributeValues: { ':one': 1, ':limit': 1_000_000 },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        },
        activity: {
          TableName: tableName,
          Item: activityItem(FLOOR_COMPANY, id, {
            at: new Date().toISOString(),
            kind: 'created',
            actor: { apiKeyId: 'cold-start-floor', apiKeyName: 'cold-start floor' },
          }),
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      },
    ]
  },
}
// the functions whose first logged 5xx is measured: every one that calls DynamoDB past the API
// key lookup (which the warm-up invocation has cached); the verify route only invokes the
// internal verifier, whose DynamoDB the bench does not fail
const withErrors = new Set(
  Object.keys(scenarios).filter(
    (name) =>
      ![
        NAIVE,
        ...Object.values(FLOOR),
        'get-openapi-document',
        'get-external-id',
        'verify-docker-registry',
      ].includes(name),
  ),
)

function childEnv(bundle: BenchBundle, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    TABLE_NAME: stack.tableName,
    SECRETS_KEY_ARN: stack.secretsKeyArn,
    EVENT_BUS_NAME: 'cold-start-bench',
    ASSUMING_ROLE_ARNS: 'arn:aws:iam::000000000000:role/cold-start-bench',
    CREDENTIAL_LIMIT: '1000',
    // the verify route invokes the internal verifier through the local stack, as it does on AWS
    CREDENTIAL_VERIFIER_FUNCTION_NAME: 'credential-verifier',
    AWS_ENDPOINT_URL_LAMBDA: stack.lambdaEndpoint,
    HEALTH_CHECKS_PER_HOST_PER_SECOND: '2',
    AWS_REGION: stack.kms.region,
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_ENDPOINT_URL_DYNAMODB: stack.dynamoDb.endpoint,
    AWS_ENDPOINT_URL_KMS: stack.kms.endpoint,
    // as Lambda sets it for an on-demand container: Powertools counts the cold start (and logs
    // cold_start) only then, so without it the bench would skip work every real cold start does
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    REGISTRY_VERIFY_ALLOW_HTTP: 'true',
    REGISTRY_VERIFY_ALLOW_LOOPBACK: 'true',
    ...bundle.environment,
    BENCH_BUNDLE: bundle.file,
    ...extra,
  }
}

// every measurement in both clocks: CPU time (user + system of the measured process, all its
// threads) decides the goals, since on a shared machine other work stretches wall time far more
// than it changes the CPU a process needs; wall time is printed beside it.
type Clock = 'cpu' | 'wall'
const samples = new Map<string, number[]>()
const key = (metric: string, clock: Clock | 'mib', name: string) => `${metric}/${clock}/${name}`
const push = (metric: string, clock: Clock | 'mib', name: string, value: number) => {
  const at = key(metric, clock, name)
  samples.set(at, [...(samples.get(at) ?? []), value])
}
const summary = (metric: string, clock: Clock | 'mib', name: string): Summary | undefined => {
  const values = samples.get(key(metric, clock, name))
  return values ? summarize(values) : undefined
}

function expectStatus(name: string, what: string, status: unknown, ok: (status: number) => boolean) {
  if (typeof status !== 'number' || !ok(status))
    throw new Error(`${name}: ${what} answered ${String(status)}`)
}

interface Invocation {
  ms: number
  cpuMs: number
  status: number
}

process.stdout.write(`cold start: ${RUNS} paired import runs…\n`)
for (let run = 0; run < RUNS; run += 1) {
  for (const bundle of bundles) {
    const bare = await measureNode(BARE_SCRIPT, { PATH: process.env.PATH })
    const imported = await measureNode(importScript(bundle.file), childEnv(bundle))
    push('import', 'wall', bundle.name, imported.wallMs - bare.wallMs)
    push('import', 'cpu', bundle.name, imported.cpuMs - bare.cpuMs)
  }
}

process.stdout.write(`cold start: ${INVOKE_RUNS} first-invocation and first-5xx runs…\n`)
for (let run = 0; run < INVOKE_RUNS; run += 1) {
  for (const bundle of bundles) {
    const scenario = scenarios[bundle.name]
    if (!scenario) continue
    const events = await scenario()
    const first: ChildMessage = await runChild(
      childEnv(bundle, { BENCH_MODE: 'first', BENCH_EVENTS: JSON.stringify(events.slice(0, 1)) }),
    )
    expectStatus(bundle.name, 'the first invocation', first.status, (status) => status < 300)
    push('first', 'wall', bundle.name, Number(first.sinceStart))
    push('first', 'cpu', bundle.name, Number(first.cpuMs))
    push('rss', 'mib', bundle.name, Number(first.maxRssKiB) / 1024)

    if (!withErrors.has(bundle.name)) continue
    const fresh = await scenario()
    const errors: ChildMessage = await runChild(
      childEnv(bundle, {
        BENCH_MODE: 'errors',
        BENCH_EVENTS: JSON.stringify(fresh),
        AWS_ENDPOINT_URL_DYNAMODB: proxy.endpoint,
      }),
      () => {
        for (const operation of DYNAMODB_OPERATIONS) {
          proxy.fail(operation, { status: 400, type: 'com.amazon.coral.validate#ValidationException' })
        }
      },
    )
    proxy.heal()
    const { warm, first: firstError, second } = errors as unknown as Record<string, Invocation>
    expectStatus(bundle.name, 'the warm-up invocation', warm?.status, (status) => status < 300)
    expectStatus(bundle.name, 'the first failing invocation', firstError?.status, (status) => status >= 500)
    expectStatus(bundle.name, 'the second failing invocation', second?.status, (status) => status >= 500)
    push('5xx', 'wall', bundle.name, (firstError?.ms ?? 0) - (second?.ms ?? 0))
    push('5xx', 'cpu', bundle.name, (firstError?.cpuMs ?? 0) - (second?.cpuMs ?? 0))
    push('rss-5xx', 'mib', bundle.name, Number(errors.maxRssKiB) / 1024)
  }
}

await proxy.close()
await stack.close()
removeCdkOutdirs()
rmSync(dirname(naive.file), { recursive: true, force: true })
rmSync(floors.dir, { recursive: true, force: true })

const median = (metric: string, clock: Clock | 'mib', name: string) =>
  summary(metric, clock, name)?.median ?? Number.NaN
const fixed = (value: number, digits = 0) => (Number.isFinite(value) ? value.toFixed(digits) : '—')
const spread = (s: Summary | undefined, digits = 0) =>
  s ? `${fixed(s.median, digits)} [${fixed(s.p25, digits)}–${fixed(s.p75, digits)}]` : '—'
const ratio = (metric: string, clock: Clock, name: string) =>
  median(metric, clock, name) / median(metric, clock, NAIVE)

const columns: [string, number, (bundle: BenchBundle) => string][] = [
  ['function', -26, (bundle) => bundle.name],
  ['loaded KB', 9, (bundle) => fixed(bundle.loadedBytes / 1024)],
  ['asset KB', 8, (bundle) => fixed(bundle.bytes / 1024)],
  ['map KB', 6, (bundle) => fixed(bundle.mapBytes / 1024)],
  ['import CPU ms', 15, (bundle) => spread(summary('import', 'cpu', bundle.name))],
  ['ratio', 5, (bundle) => fixed(ratio('import', 'cpu', bundle.name), 2)],
  ['(wall)', 6, (bundle) => fixed(ratio('import', 'wall', bundle.name), 2)],
  ['1st invocation CPU ms', 21, (bundle) => spread(summary('first', 'cpu', bundle.name))],
  ['ratio', 5, (bundle) => fixed(ratio('first', 'cpu', bundle.name), 2)],
  ['(wall)', 6, (bundle) => fixed(ratio('first', 'wall', bundle.name), 2)],
  ['peak MiB', 8, (bundle) => fixed(median('rss', 'mib', bundle.name))],
  ['after 5xx', 9, (bundle) => fixed(median('rss-5xx', 'mib', bundle.name))],
  ['1st 5xx +CPU ms', 16, (bundle) => spread(summary('5xx', 'cpu', bundle.name), 1)],
  ['(wall)', 6, (bundle) => fixed(median('5xx', 'wall', bundle.name), 1)],
]
const cell = (text: string, width: number) => (width < 0 ? text.padEnd(-width) : text.padStart(width))
const table = [
  columns.map(([title, width]) => cell(title, width)).join('  '),
  ...bundles.map((bundle) => columns.map(([, width, value]) => cell(value(bundle), width)).join('  ')),
]

interface Goal {
  text: string
  met: boolean
}
const goals: Goal[] = []
const ratioGoal = (metric: 'import' | 'first', what: string, name: string, limit: number) => {
  const value = ratio(metric, 'cpu', name)
  const floor = FLOOR[name as keyof typeof FLOOR]
  const floorText = floor ? `; its AWS calls alone: ${fixed(ratio(metric, 'cpu', floor), 2)}` : ''
  goals.push({
    text: `${what} of ${name}: ${fixed(value, 2)} of naive (at most ${limit}; wall ${fixed(ratio(metric, 'wall', name), 2)}${floorText})`,
    met: value <= limit,
  })
}
for (const name of [
  'list-docker-registries',
  'get-docker-registry',
  'delete-docker-registry',
  'get-openapi-document',
])
  ratioGoal('import', 'import cost', name, 0.5)
for (const name of [
  'create-docker-registry',
  'update-docker-registry',
  'verify-docker-registry',
  'resolve-docker-registry',
  'publish-credential-events',
])
  ratioGoal('import', 'import cost', name, 0.6)
ratioGoal('first', 'first invocation', 'create-docker-registry', 0.75)
ratioGoal('first', 'first invocation', 'get-docker-registry', 0.6)
ratioGoal('first', 'first invocation', 'list-docker-registries', 0.6)
const naiveRss = median('rss', 'mib', NAIVE)
for (const name of withErrors) {
  const extra = median('5xx', 'cpu', name)
  goals.push({
    text: `first logged 5xx of ${name}: +${fixed(extra, 1)} ms CPU over the second (at most 20; wall +${fixed(median('5xx', 'wall', name), 1)})`,
    met: extra <= 20,
  })
  const rss = Math.max(median('rss', 'mib', name), median('rss-5xx', 'mib', name))
  goals.push({
    text: `peak memory of ${name}: ${fixed(rss)} MiB, a logged 5xx included (at most naive's ${fixed(naiveRss)} MiB)`,
    met: rss <= naiveRss,
  })
}

process.stdout.write(
  [
    '',
    `cold start: medians [25th–75th percentile] of ${RUNS} paired import runs and ${INVOKE_RUNS} invocation runs;`,
    'ratios are of medians, to the naive create measured in this run (CPU time; wall time in brackets)',
    ...table,
    '',
    'goals:',
    ...goals.map((goal) => `  ${goal.met ? 'met    ' : 'NOT MET'}  ${goal.text}`),
    '',
  ].join('\n'),
)
if (goals.some((goal) => !goal.met)) process.exitCode = 1
