import { afterEach, describe, expect, it } from 'vitest'
import { healthCheckInvocation } from '../../infra/cli/health-check.ts'

const saved = { PORT: process.env.PORT, HOST: process.env.HOST }

afterEach(() => {
  for (const [name, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[name]
    else process.env[name] = value
  }
})

describe('npm run health-check', () => {
  it("aims --local at the local stack's Invoke API, on the API's port", () => {
    delete process.env.PORT
    delete process.env.HOST

    expect(healthCheckInvocation(['--local', '--run-id', 'r1'])).toEqual({
      endpoint: 'http://127.0.0.1:3000',
      functionName: 'health-check',
      local: true,
      runId: 'r1',
    })
  })

  it('follows HOST and PORT, as npm start does', () => {
    process.env.PORT = '4123'
    process.env.HOST = '127.0.0.2'

    expect(healthCheckInvocation(['--local']).endpoint).toBe('http://127.0.0.2:4123')
  })

  it('takes --endpoint over both', () => {
    process.env.PORT = '4123'

    expect(healthCheckInvocation(['--local', '--endpoint', 'http://127.0.0.1:9']).endpoint).toBe(
      'http://127.0.0.1:9',
    )
  })

  it('invokes a deployed function by name, at the SDK endpoint', () => {
    const invocation = healthCheckInvocation(['--function', 'prod-health-check'])

    expect(invocation).toMatchObject({ functionName: 'prod-health-check', local: false })
    expect(invocation.endpoint).toBeUndefined()
  })

  it.each([
    [['--local', '--function', 'x'], 'not both'],
    [[], 'say which function'],
    [['--local', '--run-id', 'has space'], 'visible ASCII'],
  ])('refuses %j', (argv, message) => {
    expect(() => healthCheckInvocation(argv)).toThrow(message)
  })
})
