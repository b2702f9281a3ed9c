import { createServer } from 'node:net'
import { validCreateBody } from '../support/credential-inputs.ts'
import { startFaultProxy } from '../support/fault-proxy.ts'
import { startTestStack } from '../support/test-stack.ts'
import { type BenchBundle, buildFunctionBundles, buildNaiveBundle } from './cold-start/bundles.ts'
import { apiEvent } from './cold-start/events.ts'
import { BARE_NODE_ARGS, type ChildMessage, importArgs, runChild, timeNode } from './cold-start/processes.ts'
import { type Summary, summarize } from './cold-start/stats.ts'

// `npm run bench:cold-start`: the functions' real bundles (built by the RegistryFunction construct,
// as `cdk synth` builds them) against a naive create handler, all measured in this one run on this
// machine, so only ratios are compared. COLD_START_RUNS sets the import pairs (default 20); the
// invocation measurements take half as many runs.
const RUNS = Math.max(3, Number(process.env.COLD_START_RUNS ?? 20))
const INVOKE_RUNS = Math.max(3, Math.ceil(RUNS / 2))
const NAIVE = 'naive create (baseline)'
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
const bundles: BenchBundle[] = [await buildNaiveBundle(), ...buildFunctionBundles()]
const stack = await startTestStack()
const proxy = await startFaultProxy(stack.dynamoDb.endpoint)
const unreachableRegistry = `127.0.0.1:${await closedLoopbackPort()}`

async function createCredential(query = '', body: object = validCreateBody): Promise<string> {
  const response = await stack.request<{ id: string }>('POST', `/docker-registries${query}`, { body })
  if (response.status !== 201) throw new Error(`seeding a credential answered ${response.status}`)
  return response.body.id
}

const stored = await createCredential()
const pinned = await createCredential(`?registry_host=${unreachableRegistry}`, {
  ...validCreateBody,
  registry: 'custom',
})

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
  'resolve-docker-registry': async () =>
    three(() => ({
      company_id: stack.companyId,
      docker_registry_credential_id: stored,
      image: 'docker.io/library/nginx:1.27',
    })),
}
// the functions whose first logged 5xx is measured: every one that calls DynamoDB
const withErrors = new Set(
  Object.keys(scenarios).filter((name) => name !== NAIVE && name !== 'get-openapi-document'),
)

function childEnv(bundle: BenchBundle, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    TABLE_NAME: stack.tableName,
    SECRETS_KEY_ARN: stack.secretsKeyArn,
    EVENT_BUS_NAME: 'cold-start-bench',
    AWS_REGION: stack.kms.region,
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_ENDPOINT_URL_DYNAMODB: stack.dynamoDb.endpoint,
    AWS_ENDPOINT_URL_KMS: stack.kms.endpoint,
    REGISTRY_VERIFY_ALLOW_HTTP: 'true',
    REGISTRY_VERIFY_ALLOW_LOOPBACK: 'true',
    ...bundle.environment,
    BENCH_BUNDLE: bundle.file,
    ...extra,
  }
}

const importMs = new Map<string, number[]>()
const firstMs = new Map<string, number[]>()
const peakRss = new Map<string, number[]>()
const errorRss = new Map<string, number[]>()
const firstErrorExtraMs = new Map<string, number[]>()
const push = (map: Map<string, number[]>, name: string, value: number) =>
  map.set(name, [...(map.get(name) ?? []), value])

function expectStatus(name: string, what: string, status: unknown, ok: (status: number) => boolean) {
  if (typeof status !== 'number' || !ok(status))
    throw new Error(`${name}: ${what} answered ${String(status)}`)
}

process.stdout.write(`cold start: ${RUNS} paired import runs…\n`)
for (let run = 0; run < RUNS; run += 1) {
  for (const bundle of bundles) {
    const env = childEnv(bundle)
    const bare = await timeNode(BARE_NODE_ARGS, { PATH: process.env.PATH })
    const imported = await timeNode(importArgs(bundle.file), env)
    push(importMs, bundle.name, imported - bare)
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
    push(firstMs, bundle.name, Number(first.sinceStart))
    push(peakRss, bundle.name, Number(first.maxRssKiB) / 1024)

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
    const { warm, first: firstError, second } = errors as Record<string, { ms: number; status: number }>
    expectStatus(bundle.name, 'the warm-up invocation', warm?.status, (status) => status < 300)
    expectStatus(bundle.name, 'the first failing invocation', firstError?.status, (status) => status >= 500)
    expectStatus(bundle.name, 'the second failing invocation', second?.status, (status) => status >= 500)
    push(firstErrorExtraMs, bundle.name, (firstError?.ms ?? 0) - (second?.ms ?? 0))
    push(errorRss, bundle.name, Number(errors.maxRssKiB) / 1024)
  }
}

await proxy.close()
await stack.close()

const summary = (map: Map<string, number[]>, name: string): Summary | undefined => {
  const values = map.get(name)
  return values ? summarize(values) : undefined
}
const naiveImport = summary(importMs, NAIVE)?.median ?? Number.NaN
const naiveFirst = summary(firstMs, NAIVE)?.median ?? Number.NaN
const naiveRss = summary(peakRss, NAIVE)?.median ?? Number.NaN
const fixed = (value: number, digits = 0) => (Number.isFinite(value) ? value.toFixed(digits) : '—')
const spread = (s: Summary | undefined, digits = 0) =>
  s ? `${fixed(s.median, digits)} [${fixed(s.p25, digits)}–${fixed(s.p75, digits)}]` : '—'
const ratio = (s: Summary | undefined, baseline: number) => (s ? fixed(s.median / baseline, 2) : '—')

const header = [
  'function'.padEnd(26),
  'loaded KB'.padStart(9),
  'asset KB'.padStart(8),
  'map KB'.padStart(7),
  'import ms'.padStart(16),
  'ratio'.padStart(6),
  'first invocation ms'.padStart(20),
  'ratio'.padStart(6),
  'peak RSS MiB'.padStart(13),
  'after 5xx MiB'.padStart(14),
  'first 5xx +ms'.padStart(16),
]
const lines = [header.join('  ')]
for (const bundle of bundles) {
  const imported = summary(importMs, bundle.name)
  const invoked = summary(firstMs, bundle.name)
  lines.push(
    [
      bundle.name.padEnd(26),
      fixed(bundle.loadedBytes / 1024).padStart(9),
      fixed(bundle.bytes / 1024).padStart(8),
      fixed(bundle.mapBytes / 1024).padStart(7),
      spread(imported).padStart(16),
      ratio(imported, naiveImport).padStart(6),
      spread(invoked).padStart(20),
      ratio(invoked, naiveFirst).padStart(6),
      fixed(summary(peakRss, bundle.name)?.median ?? Number.NaN).padStart(13),
      fixed(summary(errorRss, bundle.name)?.median ?? Number.NaN).padStart(14),
      spread(summary(firstErrorExtraMs, bundle.name), 1).padStart(16),
    ].join('  '),
  )
}

interface Goal {
  text: string
  met: boolean
}
const goals: Goal[] = []
const importGoal = (name: string, limit: number) => {
  const value = (summary(importMs, name)?.median ?? Number.NaN) / naiveImport
  goals.push({
    text: `import cost of ${name}: ${fixed(value, 2)} of naive (at most ${limit})`,
    met: value <= limit,
  })
}
for (const name of [
  'list-docker-registries',
  'get-docker-registry',
  'delete-docker-registry',
  'get-openapi-document',
])
  importGoal(name, 0.5)
for (const name of [
  'create-docker-registry',
  'update-docker-registry',
  'verify-docker-registry',
  'resolve-docker-registry',
  'publish-credential-events',
])
  importGoal(name, 0.6)
for (const [name, limit] of [
  ['create-docker-registry', 0.75],
  ['get-docker-registry', 0.6],
  ['list-docker-registries', 0.6],
] as const) {
  const value = (summary(firstMs, name)?.median ?? Number.NaN) / naiveFirst
  goals.push({
    text: `first invocation of ${name}: ${fixed(value, 2)} of naive (at most ${limit})`,
    met: value <= limit,
  })
}
for (const name of withErrors) {
  const extra = summary(firstErrorExtraMs, name)?.median ?? Number.NaN
  goals.push({
    text: `first logged 5xx of ${name}: +${fixed(extra, 1)} ms over the second (at most 20)`,
    met: extra <= 20,
  })
  const rss = Math.max(
    summary(peakRss, name)?.median ?? Number.NaN,
    summary(errorRss, name)?.median ?? Number.NaN,
  )
  goals.push({
    text: `peak memory of ${name}: ${fixed(rss)} MiB, after a logged 5xx included (naive: ${fixed(naiveRss)} MiB)`,
    met: rss <= naiveRss,
  })
}

process.stdout.write(
  [
    '',
    `cold start: medians [25th–75th percentile]; import ${RUNS} paired runs, invocations ${INVOKE_RUNS} runs`,
    ...lines,
    '',
    'goals (ratios of medians measured in this run):',
    ...goals.map((goal) => `  ${goal.met ? 'met    ' : 'NOT MET'}  ${goal.text}`),
    '',
  ].join('\n'),
)
if (goals.some((goal) => !goal.met)) process.exitCode = 1
