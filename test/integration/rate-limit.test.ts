import { connect } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { devStageRateLimit } from '../../local/rate-limit-settings.ts'
import { LocalSettingError, localStackSettings } from '../../local/settings.ts'
import { cdkJsonContext } from '../infra/infra-app.ts'
import { startTestStack, type TestStack } from '../support/test-stack.ts'

const OTHER_COMPANY = '6f1c8c1e-2f43-4a4e-9d1a-6f2b1c0d9e11'
const LIMIT = 3

let stack: TestStack

beforeAll(async () => {
  stack = await startTestStack({ rateLimit: { limit: LIMIT, windowSeconds: 60 } })
})

afterAll(async () => {
  await stack?.close()
})

describe('the local per-API-key rate limit', () => {
  it("refuses a key's request over the limit with 429 in the Sevalla shape and Retry-After", async () => {
    // Arrange
    const key = await stack.mintKey(stack.companyId)
    for (let request = 0; request < LIMIT; request += 1) {
      expect((await stack.request('GET', '/docker-registries', { key })).status).toBe(200)
    }

    // Act: request() also checks the answer against the OpenAPI document
    const refused = await stack.request('GET', '/docker-registries', { key })

    // Assert
    expect(refused.status).toBe(429)
    expect(refused.body).toEqual({
      message: 'Too many requests',
      status: 429,
      data: { code: 'rate_limited', message: expect.stringContaining('Retry-After') },
    })
    const retryAfter = Number(refused.headers.get('retry-after'))
    expect(retryAfter).toBeGreaterThanOrEqual(1)
    expect(retryAfter).toBeLessThanOrEqual(60)
  })

  it("does not limit another key when one key's burst is refused", async () => {
    // Arrange: one key, of the same company, uses up its limit
    const noisy = await stack.mintKey(stack.companyId)
    const quiet = await stack.mintKey(stack.companyId)
    const other = await stack.mintKey(OTHER_COMPANY)
    for (let request = 0; request <= LIMIT; request += 1)
      await stack.request('GET', '/docker-registries', { key: noisy })
    expect((await stack.request('GET', '/docker-registries', { key: noisy })).status).toBe(429)

    // Act
    const quietAnswers = await Promise.all(
      Array.from({ length: LIMIT }, () => stack.request('GET', '/docker-registries', { key: quiet })),
    )
    const otherAnswer = await stack.request('GET', '/docker-registries', { key: other })

    // Assert
    expect(quietAnswers.map((answer) => answer.status)).toEqual(Array(LIMIT).fill(200))
    expect(otherAnswer.status).toBe(200)
  })

  it('counts every spelling of one key in its bucket: a re-spelt key is limited or refused, never let through', async () => {
    // Arrange: the key's limit used up with the usual spelling
    const key = await stack.mintKey(stack.companyId)
    for (let request = 0; request < LIMIT; request += 1) {
      expect((await stack.request('GET', '/docker-registries', { key })).status).toBe(200)
    }

    // Act
    const statuses: Record<string, number> = {}
    for (const spelling of ['bearer ', 'BEARER ', 'BeArEr ', 'Bearer  ', 'bEARER   ']) {
      for (const trailing of ['', ' ']) {
        const header = `${spelling}${key}${trailing}`
        const answer = await stack.request('GET', '/docker-registries', {
          key: null,
          headers: { authorization: header },
        })
        statuses[JSON.stringify(header.replace(key, 'KEY'))] = answer.status
      }
    }

    // Assert: the scheme's case shares the bucket (429; HTTP drops trailing white space before
    // anyone counts); other spellings are refused (401)
    for (const [header, status] of Object.entries(statuses)) {
      expect([header, status]).toEqual([header, /^"bearer KEY *"$/i.test(header) ? 429 : 401])
    }
  })

  it('refuses a request with two Authorization headers (the web ACL could count the other one)', async () => {
    const key = await stack.mintKey(stack.companyId)
    const url = new URL(`${stack.baseUrl}/docker-registries`)

    // a raw request: fetch would join the two values into one
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(url.port), url.hostname, () => {
        socket.write(
          `GET ${url.pathname} HTTP/1.1\r\nHost: ${url.host}\r\n` +
            'Authorization: Bearer rcs_made-up-key-counted-by-the-firewall\r\n' +
            `authorization: Bearer ${key}\r\nConnection: close\r\n\r\n`,
        )
      })
      let text = ''
      socket.on('data', (chunk) => {
        text += chunk
      })
      socket.on('end', () => resolve(text))
      socket.on('error', reject)
    })

    expect(answer.split('\r\n')[0]).toBe('HTTP/1.1 401 Unauthorized')
  })

  it('counts a request before routing and authentication, as the web ACL does', async () => {
    const unknownKey = 'rcs_unknown-key-that-the-table-does-not-hold-aaaaaaaaaa'
    const statuses: number[] = []
    for (let request = 0; request <= LIMIT; request += 1) {
      statuses.push((await stack.request('GET', '/docker-registries', { key: unknownKey })).status)
    }

    expect(statuses).toEqual([...Array(LIMIT).fill(401), 429])
  })

  it('does not count requests without a key (the deployed per-IP rule covers those)', async () => {
    const statuses: number[] = []
    for (let request = 0; request <= LIMIT; request += 1) {
      statuses.push((await stack.request('GET', '/docker-registries', { key: null })).status)
    }

    expect(statuses).toEqual(Array(LIMIT + 1).fill(401))
  })
})

describe('the local rate limit settings', () => {
  it("default to the dev stage's per-key limit and window in cdk.json", () => {
    const dev = (cdkJsonContext().stages as Record<string, Record<string, number>>).dev

    expect(devStageRateLimit()).toEqual({
      limit: dev?.rateLimitPerKey,
      windowSeconds: dev?.rateLimitWindowSeconds,
    })
    expect(localStackSettings({}).rateLimit).toEqual({ limit: 300, windowSeconds: 60 })
  })

  it('take LOCAL_RATE_LIMIT and LOCAL_RATE_WINDOW_SECONDS over cdk.json', () => {
    expect(localStackSettings({ LOCAL_RATE_LIMIT: '5', LOCAL_RATE_WINDOW_SECONDS: '2' }).rateLimit).toEqual({
      limit: 5,
      windowSeconds: 2,
    })
  })

  it.each(['0', '-1', '1.5', 'ten'])('refuse LOCAL_RATE_LIMIT=%j, naming the variable', (value) => {
    expect(() => localStackSettings({ LOCAL_RATE_LIMIT: value })).toThrow(LocalSettingError)
    expect(() => localStackSettings({ LOCAL_RATE_LIMIT: value })).toThrow(/LOCAL_RATE_LIMIT/)
  })

  it('are what a stack started without options enforces', async () => {
    const defaults = await startTestStack()
    try {
      expect(defaults.rateLimit).toEqual({ limit: 300, windowSeconds: 60 })
    } finally {
      await defaults.close()
    }
  })
})
