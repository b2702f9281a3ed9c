import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { main, parseDuration } from '../../infra/cli/api-key.ts'
import { validCreateBody } from '../support/credential-inputs.ts'
import { findFreePort } from '../support/docker-registry.ts'
import { newCompanyId, startTestStack, type TestStack } from '../support/test-stack.ts'

let stack: TestStack

beforeAll(async () => {
  stack = await startTestStack()
})

afterAll(async () => {
  await stack?.close()
})

async function run(...args: string[]) {
  const lines: string[] = []
  const code = await main(
    [...args, '--local', '--endpoint', stack.dynamoDb.endpoint, '--table', stack.tableName],
    (line) => lines.push(line),
  )
  return { code, output: lines.join('\n'), lines }
}

describe('npm run api-key', () => {
  it('creates a key that works at once, printed once as the last line', async () => {
    const companyId = newCompanyId()

    const { code, lines } = await run('create', '--company', companyId, '--name', 'ci')

    expect(code).toBe(0)
    const key = lines.at(-1) ?? ''
    expect(key).toMatch(/^rcs_/)
    const response = await stack.request('POST', '/docker-registries', { body: validCreateBody, key })
    expect(response.status).toBe(201)
    expect(response.body.company_id).toBe(companyId)
  })

  it('stores the company id lower-case, whatever case it was typed in', async () => {
    const companyId = newCompanyId()

    const { code, lines } = await run('create', '--company', companyId.toUpperCase(), '--name', 'shouting')

    expect(code).toBe(0)
    expect(lines.at(-1)).toMatch(/^rcs_/)
    // `list --company` matches the stored id exactly
    const listed = await run('list', '--company', companyId)
    expect(listed.lines.join('\n')).toContain('shouting')
  })

  it('creates a read-only key that may not write', async () => {
    const { lines } = await run('create', '--company', newCompanyId(), '--read-only')

    const response = await stack.request('POST', '/docker-registries', {
      body: validCreateBody,
      key: lines.at(-1),
    })

    expect(response.status).toBe(403)
  })

  it('creates an expiring key and shows its expiry', async () => {
    const { output } = await run('create', '--company', newCompanyId(), '--expires-in', '30d')

    const expires = /expires\s+(\S+)/.exec(output)?.[1] ?? ''
    const days = (Date.parse(expires) - Date.now()) / 86_400_000
    expect(days).toBeGreaterThan(29.9)
    expect(days).toBeLessThanOrEqual(30)
  })

  it('lists keys by id, never showing a key', async () => {
    const companyId = newCompanyId()
    const { lines: created } = await run('create', '--company', companyId)
    const key = created.at(-1) ?? ''

    const { output } = await run('list', '--company', companyId)

    expect(output).toContain(companyId)
    expect(output).toContain('active')
    expect(output).not.toContain(key)
  })

  it('revokes a key by id so it is refused', async () => {
    const companyId = newCompanyId()
    const { lines } = await run('create', '--company', companyId)
    const id = /created API key ([0-9a-f]{64})/.exec(lines[0] ?? '')?.[1] ?? ''

    const { code } = await run('revoke', id)

    expect(code).toBe(0)
    expect((await run('list', '--company', companyId)).output).toContain('revoked')
    // a key revoked before any use is refused at once: nothing cached it
    const response = await stack.request('GET', '/docker-registries', { key: lines.at(-1) })
    expect(response.status).toBe(401)
  })

  it('reports revoking an unknown key', async () => {
    const { code, output } = await run('revoke', 'a'.repeat(64))

    expect(code).toBe(1)
    expect(output).toContain('no API key')
  })

  it('refuses to create a key without a company', async () => {
    await expect(run('create')).rejects.toThrow(/--company/)
  })

  it.each([['create'], ['list']])(
    '%s says a malformed --company is malformed, not missing',
    async (command) => {
      await expect(run(command, '--company', 'not-a-uuid')).rejects.toThrow(/--company is malformed/)
    },
  )

  it('revokes a key read from standard input, so it never is on the command line', async () => {
    const companyId = newCompanyId()
    const { lines } = await run('create', '--company', companyId)
    const key = lines.at(-1) ?? ''
    const printed: string[] = []

    const code = await main(
      ['revoke', '-', '--local', '--endpoint', stack.dynamoDb.endpoint, '--table', stack.tableName],
      (line) => printed.push(line),
      { readStdin: async () => `${key}\n` },
    )

    expect(code).toBe(0)
    expect(printed.join('\n')).not.toContain(key)
    expect((await run('list', '--company', companyId)).output).toContain('revoked')
  })
})

describe('npm run api-key --local', () => {
  const local = (args: string[], env: NodeJS.ProcessEnv) =>
    main([...args, '--local', '--table', stack.tableName], () => undefined, { env })

  it('reaches the DynamoDB port in LOCAL_DYNAMODB_PORT', async () => {
    const companyId = newCompanyId()
    const port = new URL(stack.dynamoDb.endpoint).port
    const lines: string[] = []

    const code = await main(
      ['create', '--company', companyId, '--local', '--table', stack.tableName],
      (line) => lines.push(line),
      { env: { LOCAL_DYNAMODB_PORT: port } },
    )

    expect(code).toBe(0)
    // the key is in this stack's table: it works against this stack
    const response = await stack.request('GET', '/docker-registries', { key: lines.at(-1) })
    expect(response.status).toBe(200)
  })

  it.each([
    ['list', ['list']],
    ['create', ['create', '--company', '6f1c8c1e-2f43-4a4e-9d1a-6f2b1c0d9e11']],
  ])('%s asks whether npm start is running when nothing answers', async (_command, args) => {
    const port = String(await findFreePort())

    await expect(local(args, { LOCAL_DYNAMODB_PORT: port })).rejects.toThrow(
      `nothing answers at http://127.0.0.1:${port}: is \`npm start\` running?`,
    )
  })
})

describe('parseDuration', () => {
  it.each([
    ['30d', 30 * 86_400_000],
    ['12h', 12 * 3_600_000],
    ['90m', 90 * 60_000],
  ])('reads %s', (text, ms) => {
    expect(parseDuration(text)).toBe(ms)
  })

  it.each(['0d', '30', 'd', '1w', '-1d'])('refuses %s', (text) => {
    expect(() => parseDuration(text)).toThrow()
  })
})
