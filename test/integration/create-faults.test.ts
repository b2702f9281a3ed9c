import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { logger } from '../../shared/runtime/logger.ts'
import { validCreateBody } from '../support/credential-inputs.ts'
import { type FaultProxy, startFaultProxy } from '../support/fault-proxy.ts'
import { captureOutput, newCompanyId, startTestStack, type TestStack } from '../support/test-stack.ts'

let stack: TestStack
const proxies: Partial<Record<'dynamodb' | 'kms', FaultProxy>> = {}

beforeAll(async () => {
  stack = await startTestStack({
    interpose: async (service, endpoint) => {
      const proxy = await startFaultProxy(endpoint)
      proxies[service] = proxy
      return proxy.endpoint
    },
  })
})

afterEach(() => {
  proxies.dynamodb?.heal()
  proxies.kms?.heal()
})

afterAll(async () => {
  await stack?.close()
  await proxies.dynamodb?.close()
  await proxies.kms?.close()
})

const canary = `CANARY-${crypto.randomUUID()}`

async function createExpectingFailure(status: number) {
  const before = (await stack.rawCredentialItems()).length
  logger.setLogLevel('DEBUG')
  const output = captureOutput()
  let response: Awaited<ReturnType<TestStack['request']>> & { body: any }
  try {
    response = await stack.request('POST', '/docker-registries', {
      body: { ...validCreateBody, secret: canary },
    })
  } finally {
    output.restore()
    logger.setLogLevel('WARN')
  }
  expect(response.status).toBe(status)
  expect(response.headers.get('x-request-id')).toBeTruthy()
  expect(response.body).toMatchObject({
    status,
    data: { code: expect.any(String), message: expect.any(String) },
  })
  expect(response.text).not.toContain('injected')
  expect(response.text).not.toContain(canary)
  expect(output.text()).toContain('request failed')
  expect(output.text()).not.toContain(canary)
  expect((await stack.rawCredentialItems()).length).toBe(before)
  return response
}

describe('POST /v3/docker-registries when KMS fails', () => {
  it('answers 503 with Retry-After when KMS throttles, after the SDK retried', async () => {
    proxies.kms?.fail('GenerateDataKey', {
      status: 400,
      type: 'ThrottlingException',
      message: 'injected throttle',
    })

    const response = await createExpectingFailure(503)

    expect(response.headers.get('retry-after')).toBe('1')
    expect(response.body.data.code).toBe('service_unavailable')
    expect(proxies.kms?.attempts('GenerateDataKey')).toBeGreaterThan(1)
  })

  it('answers 503 when KMS has an internal error', async () => {
    proxies.kms?.fail('GenerateDataKey', { status: 500, type: 'KMSInternalException', message: 'injected' })

    await createExpectingFailure(503)
  })

  it('answers 503 when KMS cannot be reached', async () => {
    proxies.kms?.drop('GenerateDataKey')

    await createExpectingFailure(503)
  })

  it('answers a generic 500 when KMS refuses the key (a configuration fault, not worth retrying)', async () => {
    proxies.kms?.fail('GenerateDataKey', {
      status: 400,
      type: 'AccessDeniedException',
      message: 'injected denial',
    })

    const response = await createExpectingFailure(500)

    expect(response.body.data.code).toBe('internal_error')
    expect(response.headers.get('retry-after')).toBeNull()
  })
})

describe('POST /v3/docker-registries when DynamoDB fails', () => {
  it('answers 503 when PutItem is throttled, leaving no item', async () => {
    proxies.dynamodb?.fail('PutItem', {
      status: 400,
      type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException',
      message: 'injected throttle',
    })

    const response = await createExpectingFailure(503)

    expect(response.headers.get('retry-after')).toBe('1')
  })

  it('answers 503 when DynamoDB is unavailable', async () => {
    proxies.dynamodb?.fail('PutItem', {
      status: 500,
      type: 'com.amazonaws.dynamodb.v20120810#InternalServerError',
      message: 'injected outage',
    })

    await createExpectingFailure(503)
  })

  it('answers 503 when the API key lookup cannot reach DynamoDB', async () => {
    const key = await stack.mintKey(newCompanyId())
    proxies.dynamodb?.drop('GetItem')

    const response = await stack.request('POST', '/docker-registries', { body: validCreateBody, key })

    expect(response.status).toBe(503)
    expect(response.body.data.code).toBe('service_unavailable')
  })

  it('forgets a failed create, so a retry with the same Idempotency-Key creates the credential', async () => {
    const headers = { 'idempotency-key': crypto.randomUUID() }
    // the idempotency record is written, then sealing fails: the record must not stick
    proxies.kms?.fail('GenerateDataKey', { status: 500, type: 'KMSInternalException' })
    const failed = await stack.request('POST', '/docker-registries', { body: validCreateBody, headers })
    proxies.kms?.heal()

    const retried = await stack.request('POST', '/docker-registries', { body: validCreateBody, headers })

    expect(failed.status).toBe(503)
    expect(retried.status).toBe(201)
  })

  it('recovers once the dependency is back', async () => {
    proxies.dynamodb?.fail('PutItem', { status: 500, type: 'InternalServerError' })
    await createExpectingFailure(503)
    proxies.dynamodb?.heal()

    const response = await stack.request('POST', '/docker-registries', { body: validCreateBody })

    expect(response.status).toBe(201)
  })
})
