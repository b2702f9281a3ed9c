import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { InvokeCommand, type InvokeCommandOutput, type LambdaClient } from '@aws-sdk/client-lambda'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readFunctionAssets } from '../../local/cloud-assembly.ts'
import {
  type RunningDockerRegistry,
  startDockerRegistry,
  TEST_REGISTRY_PASSWORD,
  TEST_REGISTRY_USERNAME,
} from '../support/docker-registry.ts'
import { type EventReceiver, startEventReceiver } from '../support/event-receiver.ts'
import { localLambdaClient } from '../support/local-lambda-client.ts'
import { runNpmStart, type StartedLocalStack } from '../support/npm-start.ts'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const CDK_OUT = resolve(ROOT, process.env.LOCAL_BUNDLES ?? 'cdk.out')

const payloadOf = (output: InvokeCommandOutput) => JSON.parse(new TextDecoder().decode(output.Payload))

async function api(stack: StartedLocalStack, method: string, path: string, body?: unknown) {
  const response = await fetch(`${stack.baseUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${stack.apiKey}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })
  const text = await response.text()
  return { status: response.status, text, body: text ? JSON.parse(text) : undefined }
}

describe('npm start with LOCAL_BUNDLES: the bundles cdk deploy uploads, end to end', () => {
  let stack: StartedLocalStack
  let registry: RunningDockerRegistry
  let receiver: EventReceiver
  let lambda: LambdaClient
  let changedId: string

  beforeAll(async () => {
    ;[registry, receiver] = await Promise.all([startDockerRegistry(), startEventReceiver()])
    stack = await runNpmStart({ LOCAL_BUNDLES: CDK_OUT, LOCAL_EVENT_TARGET_URL: receiver.url })
    lambda = localLambdaClient(stack.lambdaEndpoint)
  })

  afterAll(async () => {
    lambda?.destroy()
    await Promise.all([stack?.stop(), registry?.stop(), receiver?.close()])
  })

  it("runs the assembly's bundles, one for every function", () => {
    expect(stack.output()).toContain(`running            bundles from ${CDK_OUT}`)
    const bundled = readFunctionAssets(CDK_OUT).map((asset) => asset.name)
    expect(stack.output()).toMatch(new RegExp(`functions\\s+${[...bundled].sort().join(' ')}\\n`))
  })

  it('creates, lists, gets, updates and deletes a credential', async () => {
    const created = await api(stack, 'POST', '/docker-registries', {
      name: 'Bundled Hub',
      registry: 'dockerHub',
      username: 'bundle-user',
      secret: 'bundle-secret-1',
    })
    expect(created.status).toBe(201)
    const { id } = created.body

    const listed = await api(stack, 'GET', '/docker-registries?limit=100')
    const fetched = await api(stack, 'GET', `/docker-registries/${id}`)
    const updated = await api(stack, 'PATCH', `/docker-registries/${id}`, {
      name: 'Bundled Hub (CI)',
      secret: 'bundle-secret-2',
    })
    const deleted = await api(stack, 'DELETE', `/docker-registries/${id}`)
    const gone = await api(stack, 'GET', `/docker-registries/${id}`)

    expect(listed.status).toBe(200)
    expect(listed.text).toContain(`"id":"${id}"`)
    expect(fetched.body).toMatchObject({ id, name: 'Bundled Hub', username: 'bundle-user' })
    expect(updated.body).toMatchObject({ id, name: 'Bundled Hub (CI)' })
    expect(deleted.status).toBe(200)
    expect(gone.status).toBe(404)
    for (const response of [created, listed, fetched, updated, deleted]) {
      expect(response.text).not.toContain('bundle-secret')
    }
    changedId = id
  })

  it("publishes the credential's change events from the table stream through the bundled publisher", async () => {
    const mine = (bodies: any[]) => bodies.filter((body) => body.detail?.id === changedId)

    await receiver.waitFor((bodies) => mine(bodies).length >= 3)

    expect(mine(receiver.accepted()).map((event) => event['detail-type'])).toEqual([
      'DockerRegistryCredentialCreated',
      'DockerRegistryCredentialUpdated',
      'DockerRegistryCredentialDeleted',
    ])
    expect(mine(receiver.accepted())[2].detail).toMatchObject({
      name: 'Bundled Hub (CI)',
      deleted_at: expect.any(String),
    })
    expect(JSON.stringify(receiver.accepted())).not.toContain('bundle-secret')
  })

  it('verifies a credential against a real registry', async () => {
    const pinned = await api(stack, 'POST', `/docker-registries?registry_host=${registry.host}`, {
      name: 'self-hosted',
      registry: 'custom',
      username: TEST_REGISTRY_USERNAME,
      secret: TEST_REGISTRY_PASSWORD,
    })
    const wrong = await api(stack, 'POST', `/docker-registries?registry_host=${registry.host}`, {
      name: 'self-hosted, wrong password',
      registry: 'custom',
      username: TEST_REGISTRY_USERNAME,
      secret: 'not-the-password',
    })

    const ok = await api(stack, 'POST', `/docker-registries/${pinned.body.id}/verify`)
    const denied = await api(stack, 'POST', `/docker-registries/${wrong.body.id}/verify`)

    expect(ok.body).toMatchObject({ result: 'ok', registry_host: registry.host })
    expect(denied.body).toMatchObject({ result: 'auth_denied' })
  })

  it('resolves a credential over the Lambda Invoke API', async () => {
    const created = await api(stack, 'POST', `/docker-registries?registry_host=${registry.host}`, {
      name: 'to resolve',
      registry: 'custom',
      username: TEST_REGISTRY_USERNAME,
      secret: TEST_REGISTRY_PASSWORD,
    })

    const output = await lambda.send(
      new InvokeCommand({
        FunctionName: 'resolve-docker-registry',
        Payload: JSON.stringify({
          company_id: stack.companyId,
          docker_registry_credential_id: created.body.id,
          image: `${registry.host}/team/app:1.0`,
        }),
      }),
    )

    expect(output.FunctionError).toBeUndefined()
    expect(payloadOf(output)).toMatchObject({
      ok: true,
      registry_host: registry.host,
      username: TEST_REGISTRY_USERNAME,
      password: TEST_REGISTRY_PASSWORD,
    })
  })
})

describe('npm start with LOCAL_BUNDLES on an altered copy of the assembly', () => {
  const copy = mkdtempSync(join(tmpdir(), 'cdk-out-'))
  let stack: StartedLocalStack
  let lambda: LambdaClient

  beforeAll(async () => {
    cpSync(CDK_OUT, copy, { recursive: true })
    const assets = new Map(readFunctionAssets(copy).map((asset) => [asset.name, asset]))
    // the resolve bundle answers what no source could; the document bundle lost a chunk it imports
    writeFileSync(
      assets.get('resolve-docker-registry')?.handlerFile as string,
      "export const handler = async () => ({ ran: 'the altered bundle' })\n",
    )
    writeFileSync(
      assets.get('get-openapi-document')?.handlerFile as string,
      "import { document } from './chunk-missing.mjs'\nexport const handler = async () => document\n",
    )
    stack = await runNpmStart({ LOCAL_BUNDLES: copy })
    lambda = localLambdaClient(stack.lambdaEndpoint)
  })

  afterAll(async () => {
    lambda?.destroy()
    await stack?.stop()
    rmSync(copy, { recursive: true, force: true })
  })

  it('runs the bundle files themselves, not the sources', async () => {
    const output = await lambda.send(
      new InvokeCommand({ FunctionName: 'resolve-docker-registry', Payload: '{}' }),
    )

    expect(payloadOf(output)).toEqual({ ran: 'the altered bundle' })
  })

  it('fails a function whose bundle misses a file, as Lambda does', async () => {
    const invoked = await lambda.send(
      new InvokeCommand({ FunctionName: 'get-openapi-document', Payload: '{}' }),
    )
    const served = await fetch(`${stack.baseUrl}/openapi.json`)

    expect(invoked.FunctionError).toBe('Unhandled')
    expect(payloadOf(invoked)).toMatchObject({ errorType: 'Runtime.ImportModuleError' })
    // API Gateway's INTEGRATION_FAILURE response
    expect(served.status).toBe(500)
    expect(((await served.json()) as { data: { code: string } }).data.code).toBe('internal_error')
  })
})
