import type { APIGatewayProxyEvent, Context } from 'aws-lambda'
import { describe, expect, it, vi } from 'vitest'
import { type ApiKeyRecord, generateApiKey } from '../../shared/domain/api-key.ts'
import { apiHandler } from '../../shared/http/api-handler.ts'
import { json } from '../../shared/http/responses.ts'
import { routes } from '../../shared/http/routes.ts'

const { key, hash } = generateApiKey()
const record: ApiKeyRecord = {
  hash,
  companyId: '11111111-1111-4111-8111-111111111111',
  name: 'test',
  permissions: ['docker_registries:read', 'docker_registries:write'],
  enabled: true,
  createdAt: '2026-01-01T00:00:00.000Z',
}
const keys = { find: async (candidate: string) => (candidate === hash ? record : undefined) }
const quietLogger = {
  info: () => undefined,
  error: () => undefined,
  addContext: () => undefined,
  resetKeys: () => undefined,
  setCorrelationId: () => undefined,
} as never

function event(overrides: Partial<APIGatewayProxyEvent> = {}): APIGatewayProxyEvent {
  return {
    httpMethod: 'GET',
    path: '/v3/docker-registries',
    resource: '/v3/docker-registries',
    headers: { Authorization: `Bearer ${key}` },
    multiValueHeaders: {},
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: null,
    stageVariables: null,
    body: null,
    isBase64Encoded: false,
    requestContext: { requestId: 'req-1' } as APIGatewayProxyEvent['requestContext'],
    ...overrides,
  }
}

function lambdaContext(remainingMs: number): never {
  const deadline = Date.now() + remainingMs
  // the middlewares add the rest of the context
  return { getRemainingTimeInMillis: () => deadline - Date.now() } as Context as never
}

describe('apiHandler', () => {
  it('answers 503 with Retry-After shortly before Lambda would time out, not 500', async () => {
    const handler = apiHandler(routes.listDockerRegistries, {
      schemas: {},
      keys,
      logger: quietLogger,
    }).handler(() => new Promise(() => undefined))

    // fake timers: the deadline arithmetic is checked without depending on how busy the machine is
    vi.useFakeTimers()
    let settled = false
    const answer = handler(event(), lambdaContext(2_000)).finally(() => {
      settled = true
    })
    await vi.advanceTimersByTimeAsync(1_499)
    const beforeTheEarlyTimeout = settled
    await vi.advanceTimersByTimeAsync(1)
    const response = await answer
    vi.useRealTimers()

    // answered half a second before the deadline, leaving API Gateway time to relay it
    expect(beforeTheEarlyTimeout).toBe(false)
    expect(response.statusCode).toBe(503)
    expect(response.headers?.['retry-after']).toBe('1')
    expect(response.headers?.['x-request-id']).toBe('req-1')
    expect(JSON.parse(response.body)).toMatchObject({ status: 503, data: { code: 'service_unavailable' } })
  })

  it('authenticates before it reads the body', async () => {
    const handler = apiHandler(routes.createDockerRegistry, {
      schemas: {},
      keys,
      logger: quietLogger,
    }).handler(async () => json(201, {}))

    const response = await handler(
      event({ httpMethod: 'POST', headers: { 'Content-Type': 'text/plain' }, body: 'not json' }),
      lambdaContext(10_000),
    )

    expect(response.statusCode).toBe(401)
  })

  it('refuses a route without a permission', () => {
    expect(() => apiHandler(routes.getOpenApiDocument, { schemas: {}, keys })).toThrow(/not authenticated/)
  })
})
