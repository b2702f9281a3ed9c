import middy from '@middy/core'
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { DependencyUnavailableError } from '../../shared/domain/errors.ts'
import type { CredentialStore, CredentialSummary } from '../../shared/domain/ports.ts'
import { errorResponse } from '../../shared/http/middleware/error-response.ts'
import { observability } from '../../shared/http/middleware/observability.ts'
import { operationMetrics } from '../../shared/http/middleware/operation-metrics.ts'
import { requestId } from '../../shared/http/middleware/request-id.ts'
import { json } from '../../shared/http/responses.ts'
import { createMetrics, METRIC } from '../../shared/runtime/metrics.ts'
import { countDependencyFailures, countIdempotentReplays } from '../../shared/runtime/observed-ports.ts'
import { captureOutput } from '../support/test-stack.ts'

const quietLogger = {
  info: () => undefined,
  error: () => undefined,
  addContext: () => undefined,
  resetKeys: () => undefined,
} as never

const event = {
  httpMethod: 'POST',
  resource: '/v3/docker-registries',
  requestContext: { requestId: 'r-1' },
} as never
const context = { functionName: 'f', getRemainingTimeInMillis: () => 10_000 } as Context & {
  requestId: string
}

// the names in the EMF documents written while `act` ran
async function emittedNames(act: () => Promise<unknown>): Promise<string[]> {
  const output = captureOutput()
  try {
    await act()
  } finally {
    output.restore()
  }
  return output
    .text()
    .split('\n')
    .filter((line) => line.includes('"_aws"'))
    .flatMap((line) =>
      JSON.parse(line)._aws.CloudWatchMetrics[0].Metrics.map((metric: { Name: string }) => metric.Name),
    )
}

function chain(metrics: ReturnType<typeof createMetrics>, answer: () => Promise<APIGatewayProxyResult>) {
  return middy<APIGatewayProxyEvent, APIGatewayProxyResult, Error, Context & { requestId: string }>()
    .use(observability({ logger: quietLogger, metrics }))
    .use(requestId())
    .use(operationMetrics({ metrics }))
    .use(errorResponse({ logger: quietLogger }))
    .handler(answer)
}

describe('operationMetrics', () => {
  let disabled: string | undefined
  beforeEach(() => {
    disabled = process.env.POWERTOOLS_METRICS_DISABLED
    process.env.POWERTOOLS_METRICS_DISABLED = 'false'
  })
  afterEach(() => {
    process.env.POWERTOOLS_METRICS_DISABLED = disabled
  })

  it("counts ColdStart once, on the first invocation of an on-demand container, in that invocation's one document", async () => {
    const initialization = process.env.AWS_LAMBDA_INITIALIZATION_TYPE
    process.env.AWS_LAMBDA_INITIALIZATION_TYPE = 'on-demand'
    const metrics = createMetrics('createDockerRegistryV3')
    if (initialization === undefined) delete process.env.AWS_LAMBDA_INITIALIZATION_TYPE
    else process.env.AWS_LAMBDA_INITIALIZATION_TYPE = initialization
    const handler = chain(metrics, async () => json(201, {}))
    const documents = async () => {
      const output = captureOutput()
      try {
        await handler(event, context)
      } finally {
        output.restore()
      }
      return output
        .text()
        .split('\n')
        .filter((line) => line.includes('"_aws"'))
        .map((line) => JSON.parse(line) as Record<string, unknown>)
    }

    const first = await documents()
    const second = await documents()

    expect(first).toHaveLength(1)
    expect(first[0]).toMatchObject({
      [METRIC.coldStart]: 1,
      [METRIC.success]: 1,
      operation: 'createDockerRegistryV3',
    })
    expect(second).toHaveLength(1)
    expect(second[0]).not.toHaveProperty(METRIC.coldStart)
    expect(second[0]).toMatchObject({ [METRIC.success]: 1 })
  })

  it('counts no ColdStart where Powertools sees no on-demand cold start (provisioned concurrency)', async () => {
    const initialization = process.env.AWS_LAMBDA_INITIALIZATION_TYPE
    process.env.AWS_LAMBDA_INITIALIZATION_TYPE = 'provisioned-concurrency'
    const metrics = createMetrics('createDockerRegistryV3')
    if (initialization === undefined) delete process.env.AWS_LAMBDA_INITIALIZATION_TYPE
    else process.env.AWS_LAMBDA_INITIALIZATION_TYPE = initialization

    const names = await emittedNames(() => chain(metrics, async () => json(201, {}))(event, context))

    expect(names).toEqual([METRIC.success])
  })

  it('counts a KMS failure both as the 503 it answers and as the dependency that failed', async () => {
    const metrics = createMetrics('createDockerRegistryV3')
    const handler = chain(metrics, async () => {
      throw new DependencyUnavailableError('KMS', 1)
    })

    const names = await emittedNames(() => handler(event, context))

    expect(names).toEqual(expect.arrayContaining(['Error.service_unavailable', 'DependencyUnavailable.KMS']))
  })

  it('counts a refusal at the per-company credential limit as LimitRefused too', async () => {
    const metrics = createMetrics('createDockerRegistryV3')
    const limitReached = json(409, {
      message: 'Conflict',
      status: 409,
      data: { code: 'credential_limit_reached', message: 'limit' },
    })
    const handler = chain(metrics, async () => limitReached)

    const names = await emittedNames(() => handler(event, context))

    expect(names).toEqual(['Error.credential_limit_reached', METRIC.limitRefused])
  })

  it('never turns anything but one of our codes into a metric name', async () => {
    const metrics = createMetrics('createDockerRegistryV3')
    const handler = chain(metrics, async () => json(400, { data: { code: 'secret value/../x' } }))

    expect(await emittedNames(() => handler(event, context))).toEqual(['Error.unknown'])
  })
})

describe('countIdempotentReplays', () => {
  it('counts a create answered from an earlier record or a concurrent winner, and only those', async () => {
    process.env.POWERTOOLS_METRICS_DISABLED = 'false'
    const metrics = createMetrics('createDockerRegistryV3')
    const summary = (id: string) => ({ id }) as CredentialSummary
    const answers = { found: [summary('first'), 'mismatch', undefined] as const, created: ['mine', 'winner'] }
    let found = 0
    let created = 0
    const store = {
      findIdempotent: async () => answers.found[found++],
      create: async () => summary(answers.created[created++] as string),
    } as unknown as CredentialStore
    const counted = countIdempotentReplays(store, metrics)
    const claim = { key: 'k', fingerprint: {} }

    await counted.findIdempotent('c', claim) // replayed
    await counted.findIdempotent('c', claim) // refused: another request
    await counted.findIdempotent('c', claim) // unused
    await counted.create({ id: 'mine' } as never, { limit: 10 }) // stored
    await counted.create({ id: 'mine' } as never, { limit: 10 }) // a concurrent winner's credential
    const output = captureOutput()
    try {
      metrics.publishStoredMetrics()
    } finally {
      output.restore()
    }
    const emitted = output
      .text()
      .split('\n')
      .filter((line) => line.includes('"_aws"'))
      .map((line) => JSON.parse(line))

    expect(
      emitted.flatMap((line) => line._aws.CloudWatchMetrics[0].Metrics.map((m: { Name: string }) => m.Name)),
    ).toEqual(['IdempotentReplay'])
    expect([emitted[0].IdempotentReplay].flat().reduce((sum: number, value: number) => sum + value, 0)).toBe(
      2,
    )
    process.env.POWERTOOLS_METRICS_DISABLED = 'true'
  })
})

describe('countDependencyFailures', () => {
  it('counts a dependency failure of a port and rethrows it unchanged', async () => {
    process.env.POWERTOOLS_METRICS_DISABLED = 'false'
    const metrics = createMetrics('resolveDockerRegistry')
    const failure = new DependencyUnavailableError('KMS', 1)
    const opener = countDependencyFailures(
      {
        async open(): Promise<string> {
          throw failure
        },
      },
      metrics,
    )

    await expect(opener.open()).rejects.toBe(failure)
    const names = await emittedNames(async () => metrics.publishStoredMetrics())

    expect(names).toEqual(['DependencyUnavailable.KMS'])
    process.env.POWERTOOLS_METRICS_DISABLED = 'true'
  })
})

describe('countDependencyFailures on a class instance', () => {
  it('wraps the methods of its class too', async () => {
    process.env.POWERTOOLS_METRICS_DISABLED = 'false'
    const metrics = createMetrics('resolveDockerRegistry')
    class Store {
      readonly dependency = 'DynamoDB'
      async find(): Promise<string> {
        throw new DependencyUnavailableError(this.dependency, 1)
      }
    }
    const store = countDependencyFailures(new Store(), metrics)

    await expect(store.find()).rejects.toBeInstanceOf(DependencyUnavailableError)
    const names = await emittedNames(async () => metrics.publishStoredMetrics())

    expect(names).toEqual(['DependencyUnavailable.DynamoDB'])
    process.env.POWERTOOLS_METRICS_DISABLED = 'true'
  })
})
