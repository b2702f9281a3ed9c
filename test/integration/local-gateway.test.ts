import { connect } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type HttpGateway, type ProxyHandler, startHttpGateway } from '../../local/http-gateway.ts'
import { routeList } from '../../shared/http/routes.ts'
import { assertMatchesOpenApi } from '../support/openapi-validator.ts'
import { captureOutput, startTestStack, type TestStack } from '../support/test-stack.ts'

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

  it.each([
    ['a query parameter', '/v3/docker-registries?constructor=1', {}],
    ['a query parameter', '/v3/docker-registries?__proto__=1', {}],
    ['a query parameter', '/v3/docker-registries?toString=1&hasOwnProperty=2', {}],
    ['a header', '/v3/docker-registries', { constructor: 'x' }],
    ['a header', '/v3/docker-registries', { toString: 'x' }],
    ['a header', '/v3/docker-registries', { __proto__: 'x' }],
  ])('treats %s named after an Object.prototype member as a name (%s)', async (_what, path, headers) => {
    const response = await fetch(`${stack.gateway.baseUrl}${path}`, { headers })

    // no key: the function's own 401, not a gateway crash
    expect(response.status).toBe(401)
    expect(response.headers.get('x-request-id')).toBeTruthy()
  })

  it('refuses a query parameter named __proto__ as unknown once authenticated', async () => {
    const response = await stack.request('GET', '/docker-registries?__proto__=1')

    expect(response.status).toBe(400)
    expect(response.body.data.issues).toEqual([{ path: '__proto__', message: 'is not a known property' }])
  })

  it('documents its own 413 truthfully: API Gateway’s request id header, no x-request-id', async () => {
    const response = await raw('POST', '/v3/docker-registries', 'x'.repeat(10 * 1024 * 1024 + 1))
    const body = await response.json()

    expect(response.headers.get('x-request-id')).toBeNull()
    assertMatchesOpenApi('createDockerRegistryV3', response.status, body, response.headers)
  })

  it("adds API Gateway's request id header to the functions' responses", async () => {
    const response = await raw('GET', '/v3/docker-registries')

    expect(response.headers.get('x-amzn-requestid')).toBe(response.headers.get('x-request-id'))
  })
})

describe('the local API gateway in front of a function that throws', () => {
  let gateway: HttpGateway

  beforeAll(async () => {
    const failing: ProxyHandler = async () => {
      throw new Error('the function failed')
    }
    gateway = await startHttpGateway({ routes: routeList, loadHandler: async () => failing })
  })
  afterAll(async () => {
    await gateway?.close()
  })

  it.each([
    ['without a body', 'GET', '/v3/docker-registries', undefined],
    ['with a body', 'POST', '/v3/docker-registries', '{"name":"x"}'],
  ])('answers 500 internal_error, as an integration failure, %s', async (_what, method, path, body) => {
    const output = captureOutput()
    let response: Response
    try {
      response = await fetch(`${gateway.baseUrl}${path}`, {
        method,
        headers: { 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body }),
      })
    } finally {
      output.restore()
    }

    expect(response.status).toBe(500)
    expect(((await response.json()) as { data: { code: string } }).data.code).toBe('internal_error')
    expect(output.text()).toContain('local gateway: handler failed (Error)')
  })
})

// the context a route's function gets: its name, and the time left of its own timeout
describe('the local API gateway’s Lambda context', () => {
  let gateway: HttpGateway
  const remaining: ProxyHandler = async (_event, context) => ({
    statusCode: 200,
    body: JSON.stringify({ name: context.functionName, ms: context.getRemainingTimeInMillis() }),
  })

  afterAll(async () => {
    await gateway?.close()
  })

  it('counts down from the timeout it is told (a bundle’s, from its template)', async () => {
    gateway = await startHttpGateway({
      routes: routeList,
      loadHandler: async () => remaining,
      timeoutMs: (name) => (name === 'list-docker-registries' ? 4_321 : 0),
    })

    const body = (await (await fetch(`${gateway.baseUrl}/v3/docker-registries`)).json()) as {
      name: string
      ms: number
    }

    expect(body.name).toBe('list-docker-registries')
    // list's own timeout is 10 s: only the one it was told gives at most 4.321 s
    expect(body.ms).toBeLessThanOrEqual(4_321)
  })
})

// a bare gateway with small bounds, in front of a function that answers at once
describe('the local API gateway’s connection bounds', () => {
  const LIMIT = 1024
  let gateway: HttpGateway
  const answer: ProxyHandler = async () => ({ statusCode: 200, body: '{}', headers: {} })

  beforeAll(async () => {
    gateway = await startHttpGateway({
      routes: routeList,
      loadHandler: async () => answer,
      maxBodyBytes: LIMIT,
      requestTimeoutMs: 300,
    })
  })
  afterAll(async () => {
    await gateway?.close()
  })

  // everything the server sends on one connection until it closes it
  function exchange(write: (socket: ReturnType<typeof connect>) => void): Promise<string> {
    const { port } = new URL(gateway.baseUrl)
    return new Promise((resolve, reject) => {
      const socket = connect(Number(port), '127.0.0.1', () => write(socket))
      let received = ''
      socket.on('data', (chunk) => {
        received += chunk.toString('latin1')
      })
      socket.on('error', reject)
      socket.on('close', () => resolve(received))
    })
  }

  it('closes the connection after a 413 for a body over its limit, so a next request cannot hang on it', async () => {
    const received = await exchange((socket) => {
      const body = 'x'.repeat(LIMIT + 1)
      socket.write(
        `POST /v3/docker-registries HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body}`,
      )
      socket.write('GET /v3/openapi.json HTTP/1.1\r\nhost: localhost\r\n\r\n')
    })

    expect(received).toMatch(/^HTTP\/1\.1 413 /)
    expect(received.toLowerCase()).toContain('connection: close')
    expect(received.match(/HTTP\/1\.1 \d{3}/g)).toEqual(['HTTP/1.1 413'])
  })

  it('closes a connection whose body stops arriving', async () => {
    const received = await exchange((socket) => {
      socket.write(
        'POST /v3/docker-registries HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"na',
      )
    })

    expect(received).not.toMatch(/HTTP\/1\.1 200/)
  })

  it('closes a connection whose headers stop arriving', async () => {
    const received = await exchange((socket) => {
      socket.write('GET /v3/openapi.json HTTP/1.1\r\nhost: local')
    })

    expect(received).not.toMatch(/HTTP\/1\.1 200/)
  })
})
