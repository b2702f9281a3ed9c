import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Context } from 'aws-lambda'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { routes } from '../../shared/http/routes.ts'
import { logger } from '../../shared/runtime/logger.ts'
import { CANARY, credentialItem, streamRecord } from '../support/stream-records.ts'
import { captureOutput, startTestStack, type TestStack } from '../support/test-stack.ts'

// vitest.config.ts turns metrics off for the other files; the handlers read this when first
// imported, which happens on their first request, after this line.
process.env.POWERTOOLS_METRICS_DISABLED = 'false'

const SECRET = 'metrics-test-secret-4f1c'
const USERNAME = 'metrics-test-user'

interface Emf {
  _aws: {
    CloudWatchMetrics: {
      Namespace: string
      Dimensions: string[][]
      Metrics: { Name: string; Unit: string }[]
    }[]
  }
  [key: string]: unknown
}

// every EMF document in the captured output
function emfDocuments(text: string): Emf[] {
  return text
    .split('\n')
    .filter((line) => line.includes('"_aws"'))
    .map((line) => JSON.parse(line) as Emf)
}

function metricNames(documents: Emf[]): string[] {
  return documents.flatMap((document) =>
    document._aws.CloudWatchMetrics.flatMap((entry) => entry.Metrics.map((metric) => metric.Name)),
  )
}

function ofOperation(documents: Emf[], operation: string): Emf[] {
  return documents.filter((document) => document.operation === operation)
}

let stack: TestStack
let output: ReturnType<typeof captureOutput>
let text: string
let documents: Emf[]
let eventBus: Server
let credentialId: string
const answers: Record<string, { status: number; body: any; requestId: string | null }> = {}

async function call(
  label: string,
  method: string,
  path: string,
  options: Parameters<TestStack['request']>[2] = {},
) {
  const response = await stack.request(method, path, options)
  answers[label] = {
    status: response.status,
    body: response.body,
    requestId: response.headers.get('x-request-id'),
  }
  return response
}

function lambdaContext(functionName: string, requestId: string): Context {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:eu-west-1:000000000000:function:${functionName}`,
    memoryLimitInMB: '512',
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'test',
    getRemainingTimeInMillis: () => 10_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  }
}

beforeAll(async () => {
  // an EventBridge stand-in that accepts every entry of PutEvents
  eventBus = createServer((request, response) => {
    let body = ''
    request.on('data', (chunk) => {
      body += chunk
    })
    request.on('end', () => {
      const entries = (JSON.parse(body) as { Entries: unknown[] }).Entries
      response.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' })
      response.end(
        JSON.stringify({
          FailedEntryCount: 0,
          Entries: entries.map((_, index) => ({ EventId: `e-${index}` })),
        }),
      )
    })
  })
  await new Promise<void>((resolve) => eventBus.listen(0, '127.0.0.1', resolve))
  stack = await startTestStack()
  process.env.AWS_ENDPOINT_URL_EVENTBRIDGE = `http://127.0.0.1:${(eventBus.address() as AddressInfo).port}`
  process.env.EVENT_BUS_NAME = 'registry-credentials-test'

  logger.setLogLevel('INFO')
  output = captureOutput()
  try {
    const idempotent = { headers: { 'idempotency-key': 'metrics-test-key' } }
    const body = { name: 'metrics', registry: 'dockerHub', username: USERNAME, secret: SECRET }
    const created = await call('create', 'POST', '/docker-registries', { body, ...idempotent })
    credentialId = created.body.id
    await call('replay', 'POST', '/docker-registries', { body, ...idempotent })
    await call('list', 'GET', '/docker-registries')
    await call('get', 'GET', `/docker-registries/${credentialId}`)
    await call('notFound', 'GET', '/docker-registries/019ac6a2-5225-723e-86b1-6818a883a106')
    await call('unauthorized', 'GET', '/docker-registries', { key: null })
    await call('invalid', 'POST', '/docker-registries', { body: { name: 'x' } })
    await call('update', 'PATCH', `/docker-registries/${credentialId}`, {
      body: { name: 'metrics (renamed)' },
    })
    // a custom credential pinned to a closed loopback port: its check fails, and is counted
    const pinned = await call('createPinned', 'POST', '/docker-registries?registry_host=127.0.0.1:9', {
      body: { name: 'pinned', registry: 'custom', username: USERNAME, secret: SECRET },
    })
    await call('verify', 'POST', `/docker-registries/${pinned.body.id}/verify`)
    await call('openapi', 'GET', '/openapi.json', { key: null })
    await call('externalId', 'GET', '/docker-registries/external-id')

    const resolve = (await import('../../functions/resolve-docker-registry/handler.ts')).handler
    await resolve(
      { company_id: stack.companyId, docker_registry_credential_id: credentialId, image: 'nginx:1.27' },
      lambdaContext('resolve', 'resolve-request-1'),
    )
    await resolve({ company_id: 'not-a-uuid' }, lambdaContext('resolve', 'resolve-request-2'))

    const publish = (await import('../../functions/publish-credential-events/handler.ts')).handler
    await publish(
      { Records: [streamRecord({ eventName: 'INSERT', newItem: credentialItem(), sequenceNumber: '1' })] },
      lambdaContext('publish', 'publish-request-1'),
    )
    await call('delete', 'DELETE', `/docker-registries/${credentialId}`)
  } finally {
    output.restore()
    logger.setLogLevel('WARN')
  }
  text = output.text()
  documents = emfDocuments(text)
})

afterAll(async () => {
  await stack?.close()
  await new Promise((resolve) => eventBus?.close(resolve))
})

describe('metrics (EMF)', () => {
  it('flushes one EMF document per invocation, in the stage namespace, with only service and operation', () => {
    expect(documents.length).toBeGreaterThanOrEqual(14)
    for (const document of documents) {
      for (const entry of document._aws.CloudWatchMetrics) {
        expect(entry.Namespace).toBe('RegistryCredentials')
        expect(entry.Dimensions).toEqual([['service', 'operation']])
      }
      expect(document.service).toBe('registry-credentials-local')
      // no other top-level key than the dimensions, the metric values and _aws: no metadata
      const names = new Set(
        document._aws.CloudWatchMetrics.flatMap((entry) => entry.Metrics.map((metric) => metric.Name)),
      )
      expect(
        Object.keys(document)
          .filter((key) => !names.has(key))
          .sort(),
      ).toEqual(['_aws', 'operation', 'service'])
    }
  })

  it('never carries a secret, a username, a company id, a credential id or an API key', () => {
    const emf = documents.map((document) => JSON.stringify(document)).join('\n')

    for (const forbidden of [SECRET, USERNAME, stack.companyId, credentialId, stack.apiKey, CANARY]) {
      expect(emf).not.toContain(forbidden)
    }
  })

  it.each([
    ['create', routes.createDockerRegistry.operationId, ['ColdStart', 'Success']],
    ['list', routes.listDockerRegistries.operationId, ['ColdStart', 'Success']],
    ['get', routes.getDockerRegistry.operationId, ['ColdStart', 'Success', 'Error.not_found']],
    ['update', routes.updateDockerRegistry.operationId, ['ColdStart', 'Success']],
    ['delete', routes.deleteDockerRegistry.operationId, ['ColdStart', 'Success']],
    ['openapi', routes.getOpenApiDocument.operationId, ['ColdStart', 'Success']],
    ['externalId', routes.getExternalId.operationId, ['ColdStart', 'Success']],
  ])('counts %s by outcome under its operation (%s)', (_label, operation, expected) => {
    const names = metricNames(ofOperation(documents, operation))

    expect(names).toEqual(expect.arrayContaining(expected))
    // one cold start per function, whatever the number of invocations
    expect(names.filter((name) => name === 'ColdStart')).toHaveLength(1)
  })

  it('counts each error code of an operation, and an idempotent replay', () => {
    const names = metricNames(ofOperation(documents, routes.createDockerRegistry.operationId))
    const listNames = metricNames(ofOperation(documents, routes.listDockerRegistries.operationId))

    expect(answers.invalid?.body.data.code).toBe('validation_failed')
    expect(names).toContain('Error.validation_failed')
    expect(names.filter((name) => name === 'IdempotentReplay')).toHaveLength(1)
    expect(names.filter((name) => name === 'Success')).toHaveLength(3) // create, replay, pinned create
    expect(answers.unauthorized?.status).toBe(401)
    expect(listNames).toContain('Error.unauthorized')
  })

  it('counts the verification by its result, in the internal verifier that made it', () => {
    const result = answers.verify?.body.result
    expect(result).toMatch(/^[a-z_]+$/)

    expect(metricNames(ofOperation(documents, routes.verifyDockerRegistry.operationId))).toEqual(
      expect.arrayContaining(['ColdStart', 'Success']),
    )
    expect(metricNames(ofOperation(documents, 'credentialVerifier'))).toEqual(
      expect.arrayContaining(['ColdStart', `Verification.${result}`]),
    )
  })

  it('counts resolves by code and by registry', () => {
    const names = metricNames(ofOperation(documents, 'resolveDockerRegistry'))

    expect(names).toEqual(
      expect.arrayContaining(['ColdStart', 'Resolve.ok', 'Resolve.dockerHub.ok', 'Resolve.invalid_request']),
    )
    // an invalid request looked nothing up: no provider to count it under
    expect(names.filter((name) => name.endsWith('.invalid_request'))).toEqual(['Resolve.invalid_request'])
  })

  it('counts published change events', () => {
    const published = ofOperation(documents, 'publishCredentialEvents')

    expect(metricNames(published)).toEqual(
      expect.arrayContaining(['ColdStart', 'EventsPublished', 'EventsNotPublished']),
    )
    // the stack's own stream poller publishes this file's writes too (in its worker, whose EMF
    // lines land in the same output): the one-record invocation above is the document counting 1
    const counts = published.filter((document) => 'EventsPublished' in document)
    expect(counts).toContainEqual(expect.objectContaining({ EventsPublished: 1, EventsNotPublished: 0 }))
  })
})

describe('logs', () => {
  const lines = () =>
    text
      .split('\n')
      .filter((line) => line.startsWith('{') && !line.includes('"_aws"'))
      .map((line) => JSON.parse(line) as Record<string, unknown>)

  it("carries the Lambda context and the x-request-id as correlation id on the API's lines", () => {
    const rejected = lines().filter((line) => line.message === 'request rejected')
    const notFound = rejected.find((line) => line.correlation_id === answers.notFound?.requestId)

    expect(answers.notFound?.requestId).toBeTruthy()
    expect(notFound).toMatchObject({
      correlation_id: answers.notFound?.requestId,
      function_request_id: answers.notFound?.requestId,
      function_name: 'get-docker-registry',
      cold_start: expect.any(Boolean),
    })
  })

  it("carries the Lambda context on the internal functions' lines", () => {
    const resolved = lines().find((line) => line.message === 'credential resolved')

    expect(resolved).toMatchObject({
      function_request_id: 'resolve-request-1',
      function_name: 'resolve',
      // the logger was made when this file imported it, before the stack set the Lambda
      // environment: its cold start flag says nothing here
      cold_start: expect.any(Boolean),
    })
  })

  it('clears the correlation id after each request', () => {
    const resolved = lines().find((line) => line.message === 'credential resolved')

    expect(resolved).not.toHaveProperty('correlation_id')
  })
})
