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

/** A company with `count` credentials, created one after another (so ids are in order). */
async function companyWith(count: number) {
  const companyId = newCompanyId()
  const key = await stack.mintKey(companyId)
  const ids: string[] = []
  for (let n = 0; n < count; n += 1) {
    const response = await stack.request('POST', '/docker-registries', {
      key,
      body: { ...validCreateBody, name: `credential ${n}` },
    })
    ids.push(response.body.id)
  }
  return { key, newestFirst: ids.reverse() }
}

const list = (key: string, query = '') => stack.request('GET', `/docker-registries${query}`, { key })

describe('GET /v3/docker-registries paging', () => {
  it.each([0, 1, 25, 26])('pages %i credentials with the defaults (limit 25, offset 0)', async (count) => {
    const { key, newestFirst } = await companyWith(count)

    const response = await list(key)

    expect(response.status).toBe(200)
    expect(response.body).toEqual({
      data: expect.any(Array),
      total: count,
      offset: 0,
      limit: 25,
    })
    expect(response.body.data.map((item: { id: string }) => item.id)).toEqual(newestFirst.slice(0, 25))
  })

  it('walks 101 credentials page by page, newest first, with the right total on every page', async () => {
    const { key, newestFirst } = await companyWith(101)
    const seen: string[] = []

    for (let offset = 0; offset < 101; offset += 25) {
      const response = await list(key, `?limit=25&offset=${offset}`)
      expect(response.body.total).toBe(101)
      expect(response.body.offset).toBe(offset)
      seen.push(...response.body.data.map((item: { id: string }) => item.id))
    }

    expect(seen).toEqual(newestFirst)
  })

  it('answers a page of 100 (the maximum limit)', async () => {
    const { key, newestFirst } = await companyWith(101)

    const response = await list(key, '?limit=100&offset=1')

    expect(response.body.data.map((item: { id: string }) => item.id)).toEqual(newestFirst.slice(1, 101))
    expect(response.body.total).toBe(101)
  })

  it('answers an empty page with the right total at and past the end', async () => {
    const { key } = await companyWith(3)

    const atEnd = await list(key, '?offset=3')
    const pastEnd = await list(key, '?offset=10000')

    expect(atEnd.body).toEqual({ data: [], total: 3, offset: 3, limit: 25 })
    expect(pastEnd.body).toEqual({ data: [], total: 3, offset: 10000, limit: 25 })
  })

  it('keeps total right while credentials are created and deleted between pages', async () => {
    const { key, newestFirst } = await companyWith(5)

    const first = await list(key, '?limit=2')
    await stack.request('DELETE', `/docker-registries/${newestFirst[4]}`, { key })
    await stack.request('POST', '/docker-registries', { key, body: validCreateBody })
    await stack.request('POST', '/docker-registries', { key, body: validCreateBody })
    const second = await list(key, '?limit=2&offset=2')

    expect(first.body.total).toBe(5)
    expect(second.body.total).toBe(6)
  })

  it('shows list items without company_id or any secret material', async () => {
    const { key } = await companyWith(1)

    const response = await list(key)

    expect(Object.keys(response.body.data[0]).sort()).toEqual(
      ['created_at', 'id', 'name', 'registry', 'updated_at', 'username'].sort(),
    )
  })

  it('makes one DynamoDB call and no KMS call for a page, on a warm container', async () => {
    const { key } = await companyWith(30)
    await list(key)
    const dynamo = stack.dynamoDb.requestCount()
    const kms = stack.kms.requestCount()

    await list(key, '?limit=5&offset=10')

    expect(stack.dynamoDb.requestCount('Query')).toBeGreaterThan(0)
    expect(stack.dynamoDb.requestCount() - dynamo).toBe(1)
    expect(stack.kms.requestCount()).toBe(kms)
  })
})

describe('GET /v3/docker-registries query validation', () => {
  it.each([
    '?limit=0',
    '?limit=101',
    '?limit=-1',
    '?limit=2.5',
    '?limit=ten',
    '?limit=',
    '?offset=-1',
    '?offset=10001',
    '?offset=abc',
    '?page=2',
    '?limit=5&limit=6',
  ])('answers 400 for %s', async (query) => {
    const response = await stack.request('GET', `/docker-registries${query}`)

    expect(response.status).toBe(400)
    expect(response.body).toMatchObject({
      status: 400,
      data: { code: 'validation_failed', issues: expect.any(Array) },
    })
  })

  it('accepts the bounds limit=1, limit=100, offset=0 and offset=10000', async () => {
    for (const query of ['?limit=1', '?limit=100', '?offset=0', '?offset=10000']) {
      expect((await stack.request('GET', `/docker-registries${query}`)).status).toBe(200)
    }
  })
})
