import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { validCreateBody } from '../support/credential-inputs.ts'
import { newCompanyId, startTestStack, type TestStack } from '../support/test-stack.ts'

let stack: TestStack

beforeAll(async () => {
  stack = await startTestStack()
})

afterAll(async () => {
  await stack?.close()
})

const create = (key: string | undefined, body: Record<string, unknown> = validCreateBody, apiKey?: string) =>
  stack.request('POST', '/docker-registries', {
    body,
    ...(apiKey ? { key: apiKey } : {}),
    headers: key === undefined ? {} : { 'idempotency-key': key },
  })

const storedIds = async () => (await stack.rawCredentialItems()).map((item) => item.id.S as string)

describe('POST /v3/docker-registries with Idempotency-Key', () => {
  it('answers a retry with the first credential instead of creating a second', async () => {
    const key = crypto.randomUUID()

    const first = await create(key)
    const before = await storedIds()
    const retry = await create(key)

    expect(first.status).toBe(201)
    expect(retry.status).toBe(201)
    expect(retry.body).toEqual(first.body)
    expect(await storedIds()).toEqual(before)
  })

  it('refuses the same key with a different request with 422, storing nothing', async () => {
    const key = crypto.randomUUID()
    await create(key)
    const before = await storedIds()

    const reused = await create(key, { ...validCreateBody, name: 'something else' })

    expect(reused.status).toBe(422)
    expect(reused.body).toMatchObject({ status: 422, data: { code: 'idempotency_key_reused' } })
    expect(await storedIds()).toEqual(before)
  })

  it('refuses the same key with a different pin with 422', async () => {
    const key = crypto.randomUUID()
    const first = await stack.request('POST', '/docker-registries?registry_host=docker.io', {
      body: validCreateBody,
      headers: { 'idempotency-key': key },
    })

    const repinned = await stack.request('POST', '/docker-registries?registry_host=index.docker.io', {
      body: validCreateBody,
      headers: { 'idempotency-key': key },
    })
    const otherPin = await stack.request('POST', '/docker-registries', {
      body: validCreateBody,
      headers: { 'idempotency-key': key },
    })

    expect(first.status).toBe(201)
    // index.docker.io is docker.io: the same request
    expect(repinned.body).toEqual(first.body)
    expect(otherPin.status).toBe(422)
  })

  it("keeps companies' keys apart", async () => {
    const key = crypto.randomUUID()
    const otherCompany = await stack.mintKey(newCompanyId())

    const mine = await create(key)
    const theirs = await create(key, validCreateBody, otherCompany)

    expect(theirs.status).toBe(201)
    expect(theirs.body.id).not.toBe(mine.body.id)
    expect(theirs.body.company_id).not.toBe(mine.body.company_id)
  })

  it('creates one credential per request without a key', async () => {
    const first = await create(undefined)
    const second = await create(undefined)

    expect(second.body.id).not.toBe(first.body.id)
  })

  // no "in progress" state: each run tries, one transaction stores, the others answer its credential
  it('answers concurrent requests with the same key with one credential, stored once', async () => {
    const key = crypto.randomUUID()
    const before = (await storedIds()).length

    const responses = await Promise.all([create(key), create(key), create(key), create(key), create(key)])

    for (const response of responses) expect(response.status).toBe(201)
    expect(new Set(responses.map((response) => response.body.id)).size).toBe(1)
    expect((await storedIds()).length).toBe(before + 1)
  })

  it.each(['has space', 'x'.repeat(256), ''])('refuses the key %j with 400', async (key) => {
    const response = await create(key)

    expect(response.status).toBe(400)
    expect(response.body.data.issues).toEqual([{ path: 'idempotency-key', message: expect.any(String) }])
  })

  it('never stores the secret, nor a hash of it, in the idempotency record', async () => {
    const secret = `idem-${crypto.randomUUID()}`

    await create(crypto.randomUUID(), { ...validCreateBody, secret })

    const records = (await stack.rawItems()).filter((item) =>
      (item.sk as { S: string }).S.startsWith('IDEMPOTENCY#'),
    )
    expect(records.length).toBeGreaterThan(0)
    const text = JSON.stringify(records)
    expect(text).not.toContain(secret)
    const { createHash } = await import('node:crypto')
    for (const algorithm of ['md5', 'sha256']) {
      expect(text).not.toContain(createHash(algorithm).update(secret).digest('hex'))
    }
  })
})
