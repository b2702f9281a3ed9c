import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb'
import { KMSClient } from '@aws-sdk/client-kms'
import { unmarshall } from '@aws-sdk/util-dynamodb'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { STAGE_SETTING_KEYS } from '../../infra/stage-settings.ts'
import { fromEnvelopeAttribute } from '../../shared/adapters/docker-registry-store.ts'
import { createKmsOpener } from '../../shared/adapters/kms-envelope.ts'
import { generateApiKey } from '../../shared/domain/api-key.ts'
import {
  DOCKER_REGISTRY_INSTALL,
  SKIP_REGISTRY_TESTS,
  startDockerRegistry,
} from '../support/docker-registry.ts'
import { runNpmStart, type StartedLocalStack } from '../support/npm-start.ts'

const run = promisify(execFile)
const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')

/** The code block (`sh` unless told) that follows `<!-- readme-test: name -->` in the README. */
function readmeBlock(name: string, language = 'sh'): string {
  const match = new RegExp(`<!-- readme-test: ${name} -->\\n\`\`\`${language}\\n([\\s\\S]*?)\`\`\``).exec(
    README,
  )
  if (!match?.[1]) throw new Error(`README has no readme-test ${language} block "${name}"`)
  return match[1]
}

const ROOT = fileURLToPath(new URL('../..', import.meta.url))

// the README's examples, as pasted, against the running stack's port instead of 3000 (and a
// test registry's host instead of the README's 127.0.0.1:5000)
async function runReadmeBlock(
  stack: StartedLocalStack,
  name: string,
  env: Record<string, string>,
  registryHost = '127.0.0.1:5000',
) {
  const script = readmeBlock(name)
    .replaceAll('http://127.0.0.1:3000/v3', stack.baseUrl)
    .replaceAll('127.0.0.1:5000', registryHost)
  const { stdout } = await run('bash', ['-euo', 'pipefail', '-c', script], {
    env: { ...process.env, ...env },
  })
  return stdout
}

describe('the README, followed as a new user would', () => {
  let stack: StartedLocalStack

  beforeAll(async () => {
    stack = await runNpmStart()
  })

  afterAll(async () => {
    await stack?.stop()
  })

  it('npm start prints a base URL, an API key, the company and the endpoints', () => {
    expect(stack.baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v3$/)
    expect(stack.apiKey).toMatch(/^rcs_[A-Za-z0-9_-]{43}$/)
    expect(stack.companyId).toBe('0195f1f6-8f5e-7000-8000-000000000001')
    expect(stack.dynamoDbEndpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    expect(stack.kmsEndpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
  })

  it('creates a credential with the curl example and the printed key', async () => {
    const stdout = await runReadmeBlock(stack, 'create', { API_KEY: stack.apiKey })

    expect(JSON.parse(stdout)).toMatchObject({
      company_id: stack.companyId,
      name: 'My Docker Hub',
      registry: 'dockerHub',
      username: 'my-docker-user',
    })
  })

  it('prints the Lambda endpoint and every function the Invoke API serves', () => {
    expect(stack.lambdaEndpoint).toBe(stack.baseUrl.replace(/\/v3$/, ''))
    expect(stack.output()).toMatch(/functions\s+.*\bresolve-docker-registry\b/)
    expect(stack.output()).toMatch(/functions\s+.*\bpublish-credential-events\b/)
  })

  it('resolves a credential with the LambdaClient example, run from this repository', async () => {
    const created = JSON.parse(await runReadmeBlock(stack, 'create', { API_KEY: stack.apiKey }))
    const script = readmeBlock('resolve', 'js').replaceAll(
      "'http://127.0.0.1:3000'",
      `'${stack.lambdaEndpoint}'`,
    )

    const { stdout } = await run(process.execPath, ['--input-type=module', '--eval', script], {
      cwd: ROOT,
      env: { ...process.env, ID: created.id },
    })

    expect(stdout.trim()).toBe('login for docker.io as my-docker-user')
  })

  it('lists, gets, updates and deletes with the curl examples', async () => {
    const created = JSON.parse(await runReadmeBlock(stack, 'create', { API_KEY: stack.apiKey }))

    const stdout = await runReadmeBlock(stack, 'operations', { API_KEY: stack.apiKey, ID: created.id })

    expect(stdout).toContain(`"total":`)
    expect(stdout).toContain(`"id":"${created.id}"`)
    expect(stdout).toContain('"name":"Docker Hub (CI)"')
    expect(stdout).toContain('{"message":"Docker registry credential deleted"}')
    expect(stdout).toContain('"openapi":"3.1.0"')
    expect(stdout).not.toContain('a-rotated-token')
  })

  it('retries a create with the Idempotency-Key example, with only what every machine has', async () => {
    const stdout = await runReadmeBlock(stack, 'idempotency', { API_KEY: stack.apiKey })

    const [first, second] = stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line))
    expect(first.id).toMatch(/^[0-9a-f-]{36}$/)
    expect(second).toEqual(first)
    expect(readmeBlock('idempotency')).not.toContain('uuidgen')
  })

  it('shows the validation error the server really answers', async () => {
    const stdout = await runReadmeBlock(stack, 'validation-error', { API_KEY: stack.apiKey })

    expect(JSON.parse(stdout)).toEqual(JSON.parse(readmeBlock('validation-error-answer', 'json')))
  })

  // needs a registry on the machine: skipped, visibly, where docker-registry is missing
  it.skipIf(SKIP_REGISTRY_TESTS)(
    'pins, verifies and creates with ?verify=true, each block on its own',
    async () => {
      const registry = await startDockerRegistry({ kind: 'none' })
      try {
        const stdout = await runReadmeBlock(stack, 'extensions', { API_KEY: stack.apiKey }, registry.host)

        // curl prints each answer without a newline: the two JSON documents run together
        const [report, created] = JSON.parse(`[${stdout.trim().replace(/\}\s*\{/g, '},{')}]`)
        // what the README's comment promises, with the test registry's host for 127.0.0.1:5000
        const promised = JSON.parse(
          (/^# (\{"id".*\})$/m.exec(readmeBlock('extensions'))?.[1] ?? '{}').replaceAll(
            '127.0.0.1:5000',
            registry.host,
          ),
        )
        expect(report).toMatchObject({
          registry: promised.registry,
          registry_host: promised.registry_host,
          result: promised.result,
          message: promised.message,
        })
        expect(created).toMatchObject({ name: 'Self-hosted (checked)', registry: 'custom' })
      } finally {
        await registry.stop()
      }
    },
  )
})

describe('the README, read as a new user would', () => {
  it('links only files that are in the repository', () => {
    const links = [...README.matchAll(/\]\((?!https?:|#)([^)]+)\)/g)].map((match) => match[1] as string)

    expect(links.length).toBeGreaterThan(0)
    const root = new URL('../../', import.meta.url)
    for (const link of links) {
      const target = new URL(link, root)
      expect(target.href.startsWith(root.href), `${link} is outside the repository`).toBe(true)
      expect(existsSync(target), link).toBe(true)
    }
  })

  it('states the prerequisites: Node 24, and the registry the verification tests need', () => {
    const prerequisites = /### Prerequisites\n([\s\S]*?)\n###? /.exec(README)?.[1] ?? ''

    expect(prerequisites).toContain('Node.js 24')
    expect(prerequisites).toContain(`\`${DOCKER_REGISTRY_INSTALL}\``)
  })

  it('lists every stage setting cdk.json may have, and all four stacks', () => {
    const deploy = /## Deploy\n([\s\S]*?)\n## /.exec(README)?.[1] ?? ''

    const table = deploy
      .split('\n')
      .filter((line) => line.startsWith('| `'))
      .join('\n')
    for (const key of STAGE_SETTING_KEYS) expect(table).toContain(`\`${key}\``)
    expect(deploy).toContain('prefix of the four stack names')
    for (const stack of ['stateful', 'api', 'internal', 'monitoring']) {
      expect(deploy).toContain(`\`<prefix>-${stack}\``)
    }
  })
})

describe('the local stack with LOCAL_DATA_DIR', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'registry-credentials-'))
  const { key } = generateApiKey()

  afterAll(() => rmSync(dataDir, { recursive: true, force: true }))

  it('keeps credentials, the fixed key and their decryptability across a restart', async () => {
    const first = await runNpmStart({ LOCAL_DATA_DIR: dataDir, LOCAL_API_KEY: key })
    const created = await fetch(`${first.baseUrl}/docker-registries`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'kept', username: 'me', secret: 'kept-across-restarts' }),
    }).then((response) => response.json() as Promise<{ id: string }>)
    await first.stop()

    const second = await runNpmStart({ LOCAL_DATA_DIR: dataDir, LOCAL_API_KEY: key })
    try {
      const fetched = await fetch(`${second.baseUrl}/docker-registries/${created.id}`, {
        headers: { authorization: `Bearer ${key}` },
      })
      expect(fetched.status).toBe(200)
      // its own engine, which binds every interface: the banner says so beside the port
      expect(second.output()).toMatch(/DynamoDB Local listens on every interface.*firewall port \d+/)
      const credentials = { accessKeyId: 'local', secretAccessKey: 'local' }
      const dynamo = new DynamoDBClient({
        endpoint: second.dynamoDbEndpoint,
        region: 'us-east-1',
        credentials,
      })
      const table = /table (\S+)\)/.exec(second.output())?.[1]
      const { Items = [] } = await dynamo.send(new ScanCommand({ TableName: table }))
      const item = Items.map((raw) => unmarshall(raw)).find((candidate) => candidate.id === created.id)
      const opener = createKmsOpener({
        kms: new KMSClient({ endpoint: second.kmsEndpoint, region: 'us-east-1', credentials }),
      })
      const secret = await opener.open(fromEnvelopeAttribute(item?.secret_envelope), {
        companyId: second.companyId,
        credentialId: created.id,
      })
      expect(secret).toBe('kept-across-restarts')
    } finally {
      await second.stop()
    }
  })
})
