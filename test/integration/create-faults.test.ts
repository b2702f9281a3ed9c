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
  it('answers 503 when the transaction is throttled, leaving no item', async () => {
    proxies.dynamodb?.fail('TransactWriteItems', {
      status: 400,
      type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException',
      message: 'injected throttle',
    })

    const response = await createExpectingFailure(503)

    expect(response.headers.get('retry-after')).toBe('1')
  })

  it('answers 503 when DynamoDB is unavailable', async () => {
    proxies.dynamodb?.fail('TransactWriteItems', {
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
    // sealing fails before anything is written: nothing may stick
    proxies.kms?.fail('GenerateDataKey', { status: 500, type: 'KMSInternalException' })
    const failed = await stack.request('POST', '/docker-registries', { body: validCreateBody, headers })
    proxies.kms?.heal()

    const retried = await stack.request('POST', '/docker-registries', { body: validCreateBody, headers })

    expect(failed.status).toBe(503)
    expect(retried.status).toBe(201)
  })

  it('recovers once the dependency is back', async () => {
    proxies.dynamodb?.fail('TransactWriteItems', { status: 500, type: 'InternalServerError' })
    await createExpectingFailure(503)
    proxies.dynamodb?.heal()

    const response = await stack.request('POST', '/docker-registries', { body: validCreateBody })

    expect(response.status).toBe(201)
  })
})

const credentialIds = async () => (await stack.rawCredentialItems()).map((item) => item.id.S as string)
const idempotencyRecords = async () =>
  (await stack.rawItems()).filter((item) => (item.sk as { S: string }).S.startsWith('IDEMPOTENCY#'))
const countItem = async (companyId: string) =>
  (await stack.rawItems()).find(
    (item) =>
      (item.pk as { S: string }).S === `COMPANY#${companyId}` &&
      (item.sk as { S: string }).S === 'DOCKER_REGISTRY~COUNT',
  )?.credential_count

// a company of its own, with one credential already (so its count item exists)
async function freshCompany() {
  const companyId = newCompanyId()
  const key = await stack.mintKey(companyId)
  const first = await stack.request('POST', '/docker-registries', { body: validCreateBody, key })
  expect(first.status).toBe(201)
  return { companyId, key, ids: async () => (await credentialIds()).filter((id) => id !== first.body.id) }
}

async function createIn(company: { key: string }, headers: Record<string, string> = {}) {
  return stack.request('POST', '/docker-registries', { body: validCreateBody, key: company.key, headers })
}

const throttled = {
  status: 400,
  type: 'com.amazonaws.dynamodb.v20120810#ThrottlingException',
  message: 'injected throttle',
}

describe('POST /v3/docker-registries when an answer is lost', () => {
  it('answers 201 when the transaction committed and its answer was lost (the SDK retry is recognised)', async () => {
    const company = await freshCompany()
    const before = new Set(await credentialIds())
    proxies.dynamodb?.dropAnswer('TransactWriteItems', { times: 1 })

    const response = await createIn(company)

    expect(response.status).toBe(201)
    const added = (await credentialIds()).filter((id) => !before.has(id))
    expect(added).toEqual([response.body.id])
    expect(await countItem(company.companyId)).toEqual({ N: '2' })
  })

  it('answers the first credential to a retry with the same key when every answer was lost', async () => {
    const company = await freshCompany()
    const before = new Set(await credentialIds())
    const headers = { 'idempotency-key': crypto.randomUUID() }
    proxies.dynamodb?.dropAnswer('TransactWriteItems')

    const failed = await createIn(company, headers)
    proxies.dynamodb?.heal()
    const retried = await createIn(company, headers)

    expect(failed.status).toBe(503)
    expect(failed.headers.get('retry-after')).toBe('1')
    expect(retried.status).toBe(201)
    const added = (await credentialIds()).filter((id) => !before.has(id))
    expect(added).toEqual([retried.body.id])
    expect(await countItem(company.companyId)).toEqual({ N: '2' })
  })

  it('answers 201 when the answer comes after the client timeout: the retry has the same token', async () => {
    const company = await freshCompany()
    const before = new Set(await credentialIds())
    // carried out at once, answered after the 3 s request timeout
    proxies.dynamodb?.holdAnswer('TransactWriteItems', 4_000, { times: 1 })

    const response = await createIn(company)

    expect(response.status).toBe(201)
    expect(proxies.dynamodb?.forwarded('TransactWriteItems')).toBeGreaterThanOrEqual(2)
    const added = (await credentialIds()).filter((id) => !before.has(id))
    expect(added).toEqual([response.body.id])
  })
})

describe('POST /v3/docker-registries when a call hangs', () => {
  it('answers 503 when DynamoDB hangs past the timeout, and nothing is stored then or later', async () => {
    const company = await freshCompany()
    const before = (await credentialIds()).length
    const headers = { 'idempotency-key': crypto.randomUUID() }
    proxies.dynamodb?.hang('TransactWriteItems')

    const response = await createIn(company, headers)
    proxies.dynamodb?.heal()

    expect(response.status).toBe(503)
    expect(response.headers.get('retry-after')).toBe('1')
    // both SDK attempts timed out on our side; neither was ever forwarded
    expect(proxies.dynamodb?.attempts('TransactWriteItems')).toBeGreaterThanOrEqual(2)
    expect((await credentialIds()).length).toBe(before)
    const retried = await createIn(company, headers)
    expect(retried.status).toBe(201)
    expect((await credentialIds()).length).toBe(before + 1)
  })

  it('answers 503 when KMS hangs past the timeout, writing nothing', async () => {
    const company = await freshCompany()
    const before = (await credentialIds()).length
    const writes = proxies.dynamodb?.attempts('TransactWriteItems') ?? 0
    proxies.kms?.hang('GenerateDataKey')

    const response = await createIn(company)

    expect(response.status).toBe(503)
    expect(proxies.dynamodb?.attempts('TransactWriteItems')).toBe(writes)
    expect((await credentialIds()).length).toBe(before)
  })
})

describe('POST /v3/docker-registries with an Idempotency-Key when a write fails', () => {
  it('stores neither the credential nor the record when the transaction holding both fails', async () => {
    const company = await freshCompany()
    const before = (await credentialIds()).length
    const records = (await idempotencyRecords()).length
    const headers = { 'idempotency-key': crypto.randomUUID() }
    // the record's part of the transaction is refused: the whole transaction is
    proxies.dynamodb?.fail('TransactWriteItems', {
      status: 400,
      type: 'com.amazonaws.dynamodb.v20120810#TransactionCanceledException',
      message: 'Transaction cancelled [None, None, ThrottlingError]',
      fields: {
        CancellationReasons: [
          { Code: 'None' },
          { Code: 'None' },
          { Code: 'ThrottlingError', Message: 'injected' },
        ],
      },
    })

    const failed = await createIn(company, headers)
    proxies.dynamodb?.heal()

    expect(failed.status).toBe(503)
    expect(failed.headers.get('retry-after')).toBe('1')
    expect((await credentialIds()).length).toBe(before)
    expect((await idempotencyRecords()).length).toBe(records)
    const first = await createIn(company, headers)
    const replay = await createIn(company, headers)
    expect(first.status).toBe(201)
    expect(replay.body).toEqual(first.body)
    expect((await credentialIds()).length).toBe(before + 1)
  })

  it('answers 503, never 500, when concurrent transactions keep conflicting', async () => {
    const company = await freshCompany()
    const before = (await credentialIds()).length
    proxies.dynamodb?.fail('TransactWriteItems', {
      status: 400,
      type: 'com.amazonaws.dynamodb.v20120810#TransactionCanceledException',
      message: 'Transaction cancelled [TransactionConflict, None]',
      fields: { CancellationReasons: [{ Code: 'TransactionConflict' }, { Code: 'None' }] },
    })

    const response = await createIn(company)

    expect(response.status).toBe(503)
    expect((await credentialIds()).length).toBe(before)
  })

  it('answers concurrent creates sharing a key whose first run fails with one credential, never 500', async () => {
    const company = await freshCompany()
    const before = (await credentialIds()).length
    const headers = { 'idempotency-key': crypto.randomUUID() }
    // whichever run gets there first fails both its attempts
    proxies.dynamodb?.fail('TransactWriteItems', throttled, { times: 2 })

    const responses = await Promise.all([
      createIn(company, headers),
      createIn(company, headers),
      createIn(company, headers),
    ])
    proxies.dynamodb?.heal()
    const settled = await createIn(company, headers)

    for (const response of responses) expect([201, 503]).toContain(response.status)
    const created = [...responses, settled].filter((response) => response.status === 201)
    expect(settled.status).toBe(201)
    expect(new Set(created.map((response) => response.body.id))).toEqual(new Set([settled.body.id]))
    expect((await credentialIds()).length).toBe(before + 1)
  })
})

describe('DELETE /v3/docker-registries/{id} when an answer is lost', () => {
  it('answers 200 when the delete committed and its answer was lost; a second DELETE answers 404', async () => {
    const company = await freshCompany()
    const created = await createIn(company)
    proxies.dynamodb?.dropAnswer('TransactWriteItems', { times: 1 })

    const deleted = await stack.request('DELETE', `/docker-registries/${created.body.id}`, {
      key: company.key,
    })
    const again = await stack.request('DELETE', `/docker-registries/${created.body.id}`, { key: company.key })

    expect(deleted.status).toBe(200)
    expect(again.status).toBe(404)
    expect(await credentialIds()).not.toContain(created.body.id)
    expect(await countItem(company.companyId)).toEqual({ N: '1' })
  })
})
