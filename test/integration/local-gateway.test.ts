import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestStack, type TestStack } from '../support/test-stack.ts'

let stack: TestStack

beforeAll(async () => {
  stack = await startTestStack()
})

afterAll(async () => {
  await stack?.close()
})

const raw = (method: string, path: string, body?: string) =>
  fetch(`${stack.gateway.baseUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${stack.apiKey}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body }),
  })

// the local gateway answers what the deployed API's gateway responses answer
describe('the local API gateway', () => {
  it.each([
    ['an unknown path', 'GET', '/v3/nothing-here'],
    ['a known path with another method', 'PUT', '/v3/docker-registries'],
  ])('answers %s with 404 not_found and the request id', async (_what, method, path) => {
    const response = await raw(method, path)
    const body = await response.json()

    expect(response.status).toBe(404)
    const requestId = response.headers.get('x-amzn-requestid')
    expect(requestId).toBeTruthy()
    expect(body).toEqual({
      message: 'Not found',
      status: 404,
      data: {
        code: 'not_found',
        message: `No operation matches this method and path. Request id: ${requestId}.`,
      },
    })
  })

  it('answers a path it cannot decode with 400', async () => {
    const response = await raw('GET', '/v3/docker-registries/%E0%A4%A')

    expect(response.status).toBe(400)
  })

  it("refuses a body over API Gateway's 10 MB before any function runs", async () => {
    const response = await raw('POST', '/v3/docker-registries', 'x'.repeat(10 * 1024 * 1024 + 1))

    expect(response.status).toBe(413)
    expect(((await response.json()) as { data: { code: string } }).data.code).toBe('payload_too_large')
  })

  it("adds API Gateway's request id header to the functions' responses", async () => {
    const response = await raw('GET', '/v3/docker-registries')

    expect(response.headers.get('x-amzn-requestid')).toBe(response.headers.get('x-request-id'))
  })
})
