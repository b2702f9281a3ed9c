import { once } from 'node:events'
import { createServer, type Server } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runNpmStart, runNpmStartToExit, type StartedLocalStack } from '../support/npm-start.ts'

// something else already listening, as a developer's other service would
let occupied: Server
let busyPort: number

beforeAll(async () => {
  occupied = createServer()
  occupied.listen(0, '127.0.0.1')
  await once(occupied, 'listening')
  busyPort = (occupied.address() as { port: number }).port
})

afterAll(async () => {
  await new Promise((resolve) => occupied?.close(resolve))
})

describe('npm start with a setting a person must fix', () => {
  it.each([
    ['a PORT that is not a port', () => ({ PORT: 'abc' }), 'PORT', 'must be a port number'],
    ['a PORT out of range', () => ({ PORT: '70000' }), 'PORT', 'must be a port number'],
    ['a PORT in use', () => ({ PORT: String(busyPort) }), 'PORT', 'is already in use'],
    [
      'a DynamoDB port in use',
      () => ({ LOCAL_DYNAMODB_PORT: String(busyPort) }),
      'LOCAL_DYNAMODB_PORT',
      'is already in use',
    ],
    [
      'the Lambda port of earlier versions',
      () => ({ LOCAL_LAMBDA_PORT: '3001' }),
      'LOCAL_LAMBDA_PORT',
      'the Lambda Invoke API is on the API port',
    ],
    ['a malformed LOCAL_API_KEY', () => ({ LOCAL_API_KEY: 'rcs_short' }), 'LOCAL_API_KEY', 'must be rcs_'],
    [
      'a LOCAL_RATE_LIMIT that is not a whole number',
      () => ({ LOCAL_RATE_LIMIT: '1.5' }),
      'LOCAL_RATE_LIMIT',
      'must be a whole number',
    ],
    [
      'a LOCAL_COMPANY_ID that is not a UUID',
      () => ({ LOCAL_COMPANY_ID: 'acme' }),
      'LOCAL_COMPANY_ID',
      'must be a UUID',
    ],
    [
      'a LOCAL_BUNDLES folder without a cloud assembly',
      () => ({ LOCAL_BUNDLES: '/nonexistent/cdk.out' }),
      'LOCAL_BUNDLES',
      'run npm run synth',
    ],
    [
      'a LOCAL_EVENT_TARGET_URL that is not an http URL',
      () => ({ LOCAL_EVENT_TARGET_URL: 'ftp://127.0.0.1/events' }),
      'LOCAL_EVENT_TARGET_URL',
      'must be an http:// or https:// URL',
    ],
  ])(
    'prints one line naming the variable for %s, and exits non-zero',
    async (_what, env, variable, problem) => {
      const { code, stdout, stderr } = await runNpmStartToExit(env())

      expect(code).not.toBe(0)
      expect(code).not.toBeNull()
      expect(stdout).toBe('')
      const lines = stderr.trimEnd().split('\n')
      expect(lines).toHaveLength(1)
      expect(lines[0]).toContain(variable)
      expect(lines[0]).toContain(problem)
      expect(stderr).not.toMatch(/\n\s+at /)
    },
  )

  it('never quotes a malformed LOCAL_API_KEY', async () => {
    const { stderr } = await runNpmStartToExit({ LOCAL_API_KEY: 'rcs_not-a-real-key-but-secret-looking' })

    expect(stderr).not.toContain('not-a-real-key-but-secret-looking')
  })
})

describe('npm start, running', () => {
  let stack: StartedLocalStack

  beforeAll(async () => {
    stack = await runNpmStart()
  })
  afterAll(async () => {
    await stack?.stop()
  })

  it('prints the secrets key ARN among the endpoints', () => {
    expect(stack.secretsKeyArn).toMatch(/^arn:aws:kms:[a-z0-9-]+:\d{12}:key\/[0-9a-f-]{36}$/)
  })

  it('prints a line for each request: method, path, status, milliseconds and request id', async () => {
    const response = await fetch(`${stack.baseUrl}/docker-registries?limit=1`, {
      headers: { authorization: `Bearer ${stack.apiKey}` },
    })
    const requestId = response.headers.get('x-request-id')
    await response.arrayBuffer()

    await expect
      .poll(() => stack.output())
      .toMatch(new RegExp(`GET /v3/docker-registries 200 \\d+ms ${requestId}\\n`))
    expect(stack.output()).not.toContain('limit=1')
  })

  it('prints a line when it shuts down', async () => {
    await stack.stop()

    expect(stack.output()).toMatch(/local stack stopped \(SIGTERM\)\n$/)
  })
})
