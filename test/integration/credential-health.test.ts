import { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda'
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { main } from '../../infra/cli/health-check.ts'
import { createDynamoCredentialHealthStore } from '../../shared/adapters/credential-health-store.ts'
import { createDynamoCredentialScanner } from '../../shared/adapters/credential-scanner.ts'
import type { CredentialHealthStore } from '../../shared/domain/credential-health.ts'
import type { HealthRunSummary } from '../../shared/domain/health-check-run.ts'
import {
  type RunningDockerRegistry,
  startDockerRegistry,
  TEST_REGISTRY_PASSWORD,
  TEST_REGISTRY_USERNAME,
} from '../support/docker-registry.ts'
import { localLambdaClient } from '../support/local-lambda-client.ts'
import { newCompanyId, startTestStack, type TestStack } from '../support/test-stack.ts'

let stack: TestStack
let registry: RunningDockerRegistry
let health: CredentialHealthStore
let dynamo: DynamoDBClient
let lambda: LambdaClient

beforeAll(async () => {
  ;[stack, registry] = await Promise.all([startTestStack(), startDockerRegistry()])
  dynamo = new DynamoDBClient({
    endpoint: stack.dynamoDb.endpoint,
    region: stack.kms.region,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  })
  health = createDynamoCredentialHealthStore({
    client: DynamoDBDocumentClient.from(dynamo),
    tableName: stack.tableName,
  })
  lambda = localLambdaClient(stack.lambdaEndpoint, stack.kms.region)
})

afterAll(async () => {
  dynamo?.destroy()
  lambda?.destroy()
  await Promise.all([stack?.close(), registry?.stop()])
})

async function createCredential(
  secret = TEST_REGISTRY_PASSWORD,
  key?: string,
  pin: string | null = registry.host,
) {
  const response = await stack.request('POST', `/docker-registries${pin ? `?registry_host=${pin}` : ''}`, {
    body: { name: 'self-hosted', registry: 'custom', username: TEST_REGISTRY_USERNAME, secret },
    ...(key ? { key } : {}),
  })
  expect(response.status).toBe(201)
  return response.body as { id: string; company_id: string; updated_at: string }
}

async function invoke<T>(functionName: string, payload: unknown): Promise<T> {
  const output = await lambda.send(
    new InvokeCommand({ FunctionName: functionName, Payload: Buffer.from(JSON.stringify(payload)) }),
  )
  expect(output.FunctionError).toBeUndefined()
  return JSON.parse(Buffer.from(output.Payload ?? new Uint8Array()).toString('utf8')) as T
}

describe('GET /v3/docker-registries/{id}/health', () => {
  it('says nothing is known before any verification or use', async () => {
    const { id } = await createCredential()

    const response = await stack.request('GET', `/docker-registries/${id}/health`)

    expect(response.status).toBe(200)
    expect(response.body).toEqual({
      id,
      registry: 'custom',
      registry_host: registry.host,
      healthy: null,
      last_verification: null,
      last_used_at: null,
      last_used_image_host: null,
    })
  })

  it('answers the last verification the verify route made, without changing the credential', async () => {
    const { id, updated_at: updatedAt } = await createCredential()
    const verified = await stack.request('POST', `/docker-registries/${id}/verify`)

    const response = await stack.request('GET', `/docker-registries/${id}/health`)

    expect(response.body).toMatchObject({
      healthy: true,
      last_verification: {
        result: 'ok',
        message: verified.body.message,
        verified_at: verified.body.verified_at,
      },
    })
    expect((await stack.request('GET', `/docker-registries/${id}`)).body.updated_at).toBe(updatedAt)
  })

  it('records a failed verification as unhealthy, with its image', async () => {
    const { id } = await createCredential('a-wrong-password-42')
    await stack.request('POST', `/docker-registries/${id}/verify?image=${registry.host}/acme/app:1`)

    const response = await stack.request('GET', `/docker-registries/${id}/health`)

    expect(response.body).toMatchObject({
      healthy: false,
      last_verification: { result: 'auth_denied', image: `${registry.host}/acme/app:1` },
    })
    expect(response.text).not.toContain('a-wrong-password-42')
  })

  it('answers when and for which registry host a deployment last resolved it', async () => {
    const { id, company_id: companyId } = await createCredential()

    const resolved = await invoke<{ ok: boolean }>('resolve-docker-registry', {
      company_id: companyId,
      docker_registry_credential_id: id,
      image: `${registry.host}/acme/app:1`,
    })
    const response = await stack.request('GET', `/docker-registries/${id}/health`)

    expect(resolved.ok).toBe(true)
    expect(response.body.last_used_image_host).toBe(registry.host)
    expect(Date.parse(response.body.last_used_at)).not.toBeNaN()
  })

  it('is allowed to read-only keys', async () => {
    const { id } = await createCredential()
    const readOnly = await stack.mintKey(stack.companyId, { permissions: ['docker_registries:read'] })

    expect((await stack.request('GET', `/docker-registries/${id}/health`, { key: readOnly })).status).toBe(
      200,
    )
  })

  it("answers 404 for another company's credential, exactly as for an unknown one", async () => {
    const { id } = await createCredential()
    const otherKey = await stack.mintKey(newCompanyId())

    const other = await stack.request('GET', `/docker-registries/${id}/health`, { key: otherKey })
    const unknown = await stack.request(
      'GET',
      '/docker-registries/019ac6a2-5225-723e-86b1-000000000000/health',
    )

    expect(other.status).toBe(404)
    expect(other.body).toEqual(unknown.body)
  })
})

describe('the health store on the real table', () => {
  const verification = (verifiedAt: string, result: 'ok' | 'dns' = 'ok') => ({
    result,
    message: result,
    verifiedAt,
  })

  it('never recreates a deleted credential', async () => {
    const { id } = await createCredential()
    await stack.request('DELETE', `/docker-registries/${id}`)

    const recorded = await health.recordVerification(
      stack.companyId,
      id,
      verification('2026-12-01T03:00:00.000Z'),
    )

    expect(recorded).toBe(false)
    expect((await stack.rawCredentialItems()).find((item) => item.id.S === id)).toBeUndefined()
  })

  it('keeps a later verification over an earlier one that arrives last', async () => {
    const { id } = await createCredential()
    await health.recordVerification(stack.companyId, id, verification('2026-12-01T04:00:00.000Z', 'dns'))

    const recorded = await health.recordVerification(
      stack.companyId,
      id,
      verification('2026-12-01T03:00:00.000Z'),
    )

    expect(recorded).toBe(true)
    expect((await health.findWithHealth(stack.companyId, id))?.lastVerification?.result).toBe('dns')
  })

  it('leaves the envelope and every field as they were', async () => {
    const { id } = await createCredential()
    const before = (await stack.rawCredentialItems()).find((item) => item.id.S === id)

    await health.recordVerification(stack.companyId, id, verification('2026-12-01T03:00:00.000Z'))

    const after = (await stack.rawCredentialItems()).find((item) => item.id.S === id)
    const { verification_result, verification_message, verified_at, ...rest } = after ?? {}
    expect(rest).toEqual(before)
    expect(verification_result).toEqual({ S: 'ok' })
  })

  it('stamps a use at most once per interval (a conditional write)', async () => {
    const { id } = await createCredential()
    const use = (usedAt: string) => ({ usedAt, imageHost: registry.host })

    const first = await health.recordUse(
      stack.companyId,
      id,
      use('2026-12-01T03:00:00.000Z'),
      '2026-12-01T02:50:00.000Z',
    )
    const soon = await health.recordUse(
      stack.companyId,
      id,
      use('2026-12-01T03:05:00.000Z'),
      '2026-12-01T02:55:00.000Z',
    )
    const later = await health.recordUse(
      stack.companyId,
      id,
      use('2026-12-01T03:11:00.000Z'),
      '2026-12-01T03:01:00.000Z',
    )

    expect([first, soon, later]).toEqual([true, false, true])
    expect((await health.findWithHealth(stack.companyId, id))?.lastUse?.usedAt).toBe(
      '2026-12-01T03:11:00.000Z',
    )
  })
})

describe('the scanner on the real table', () => {
  it('pages through every credential of every company and nothing else', async () => {
    const otherKey = await stack.mintKey(newCompanyId())
    const mine = await createCredential()
    const theirs = await createCredential(TEST_REGISTRY_PASSWORD, otherKey)
    const scanner = createDynamoCredentialScanner({
      client: DynamoDBDocumentClient.from(dynamo),
      tableName: stack.tableName,
    })

    const seen: string[] = []
    let cursor: string | undefined
    let pages = 0
    do {
      const page = await scanner.page(cursor, 2)
      for (const item of page.items) {
        expect(Object.keys(item).sort()).not.toContain('secret')
        seen.push(item.id)
      }
      cursor = page.cursor
      pages++
    } while (cursor)

    const credentials = (await stack.rawCredentialItems()).map((item) => item.id.S)
    expect(seen.sort()).toEqual(credentials.sort())
    expect(seen).toEqual(expect.arrayContaining([mine.id, theirs.id]))
    expect(pages).toBeGreaterThan(1)
  })
})

describe('a health run through the local Lambda Invoke API', () => {
  it('verifies every credential once, and a second start of the same run checks nothing again', async () => {
    const good = await createCredential()
    const bad = await createCredential('a-wrong-password-42')
    const total = (await stack.rawCredentialItems()).length
    const unpinned = await createCredential(TEST_REGISTRY_PASSWORD, undefined, null)

    const first = await invoke<HealthRunSummary>('health-check', { run_id: 'run-1' })
    const again = await invoke<HealthRunSummary>('health-check', { run_id: 'run-1' })

    expect(first).toMatchObject({ runId: 'run-1', finished: true, failed: 0, checked: total })
    expect(again).toMatchObject({ checked: 0, skipped: total + 1 })
    const healthOf = async (id: string) =>
      (await stack.request('GET', `/docker-registries/${id}/health`)).body
    expect(await healthOf(good.id)).toMatchObject({ healthy: true, last_verification: { result: 'ok' } })
    expect(await healthOf(bad.id)).toMatchObject({
      healthy: false,
      last_verification: { result: 'auth_denied' },
    })
    expect(await healthOf(unpinned.id)).toMatchObject({ healthy: null })
  })

  it('starts with npm run health-check -- --local, printing the summary', async () => {
    const printed: string[] = []

    const code = await main(['--local', '--endpoint', stack.lambdaEndpoint, '--run-id', 'cli-run'], (text) =>
      printed.push(text),
    )

    expect(code).toBe(0)
    expect(JSON.parse(printed.join(''))).toMatchObject({ runId: 'cli-run', finished: true, failed: 0 })
  })

  it('refuses an event that is not a run', async () => {
    const output = await lambda.send(
      new InvokeCommand({ FunctionName: 'health-check', Payload: Buffer.from('{"run":"x"}') }),
    )

    expect(output.FunctionError).toBe('Unhandled')
  })

  it('lets the verifier answer not_found for an id of another company', async () => {
    const { id } = await createCredential()

    const answer = await invoke('credential-verifier', {
      company_id: newCompanyId(),
      docker_registry_credential_id: id,
    })

    expect(answer).toEqual({
      ok: false,
      error: { code: 'not_found', message: 'No Docker registry credential with this id exists.' },
    })
  })
})
