import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { closeServer, listen } from '../../local/server-lifecycle.ts'
import { startEcrFake } from '../support/ecr-fake.ts'
import { type NodeScriptResult, runNodeScript } from '../support/node-script.ts'
import {
  type SynthesizedBundle,
  staticallyLoaded,
  synthesizeBundles,
} from '../support/registry-function-bundles.ts'
import { startStsFake } from '../support/sts-fake.ts'

// what the construct's bundling does at run time, checked on bundles it built: the credential
// chain, the source maps and the lazily loaded modules.
const ENTRY = fileURLToPath(new URL('../fixtures/bundle-entry/handler.ts', import.meta.url))
const CREATE_ENTRY = fileURLToPath(
  new URL('../../functions/create-docker-registry/handler.ts', import.meta.url),
)

let fixture: SynthesizedBundle
let create: SynthesizedBundle
let emptyHome: string

/** Runs `script` in a fresh Node with the bundle's template environment plus `env`; returns stdout. */
function runWithBundle(
  bundle: SynthesizedBundle,
  script: string,
  env: Record<string, string>,
): Promise<NodeScriptResult> {
  const source = `const bundle = await import(${JSON.stringify(pathToFileURL(bundle.file).href)});\n${script}`
  // nothing inherited: no AWS settings of the machine running the tests
  return runNodeScript(source, { PATH: process.env.PATH, HOME: emptyHome, ...bundle.environment, ...env })
}

const temporaryHomes: string[] = []

afterAll(() => {
  for (const home of temporaryHomes) rmSync(home, { recursive: true, force: true })
})

beforeAll(() => {
  const bundles = synthesizeBundles({ fixture: ENTRY, create: CREATE_ENTRY })
  fixture = bundles.get('fixture') as SynthesizedBundle
  create = bundles.get('create') as SynthesizedBundle
  emptyHome = mkdtempSync(join(tmpdir(), 'bundle-home-'))
  temporaryHomes.push(emptyHome)
})

describe('the credential chain of a Lambda bundle', () => {
  let server: ReturnType<typeof createServer>
  let endpoint: string
  const authorizations: string[] = []

  beforeAll(async () => {
    // a DynamoDB stand-in that records who signed each request
    server = createServer((request, response) => {
      authorizations.push(String(request.headers.authorization ?? ''))
      request.resume()
      response.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' })
      response.end(JSON.stringify({ TableNames: [] }))
    })
    endpoint = `http://127.0.0.1:${await listen(server)}`
  })

  afterAll(async () => {
    await closeServer(server)
  })

  it('signs with the credentials in the environment, as Lambda provides them', async () => {
    authorizations.length = 0

    const result = await runWithBundle(fixture, 'await bundle.handler()', {
      AWS_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: 'AKIDFROMTHEENVIRONMENT',
      AWS_SECRET_ACCESS_KEY: 'secret-from-the-environment',
      AWS_SESSION_TOKEN: 'session-token',
      AWS_ENDPOINT_URL_DYNAMODB: endpoint,
    })

    expect(result.code, result.stderr).toBe(0)
    expect(authorizations).toHaveLength(1)
    expect(authorizations[0]).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDFROMTHEENVIRONMENT\//)
  })

  it("sends a request without loading Node's fetch implementation (http taken without its lazy exports)", async () => {
    const result = await runWithBundle(
      fixture,
      "await bundle.handler(); console.log(process.moduleLoadList.filter((name) => name.includes('undici')).length)",
      {
        AWS_REGION: 'eu-west-1',
        AWS_ACCESS_KEY_ID: 'AKIDFROMTHEENVIRONMENT',
        AWS_SECRET_ACCESS_KEY: 'secret-from-the-environment',
        AWS_ENDPOINT_URL_DYNAMODB: endpoint,
      },
    )

    expect(result.code, result.stderr).toBe(0)
    expect(result.stdout.trim()).toBe('0')
  })

  it('still reads the SDK config file, through node:fs: an endpoint_url there is used, and node:fs/promises is never loaded', async () => {
    authorizations.length = 0
    const home = mkdtempSync(join(tmpdir(), 'bundle-home-aws-'))
    temporaryHomes.push(home)
    const configFile = join(home, 'sdk-config')
    writeFileSync(configFile, `[default]\nendpoint_url = ${endpoint}\n`)

    const result = await runWithBundle(
      fixture,
      "await bundle.handler(); console.log(process.moduleLoadList.filter((name) => name.includes('fs/promises')).length)",
      {
        AWS_CONFIG_FILE: configFile,
        AWS_REGION: 'eu-west-1',
        AWS_ACCESS_KEY_ID: 'AKIDFROMTHEENVIRONMENT',
        AWS_SECRET_ACCESS_KEY: 'secret-from-the-environment',
      },
    )

    expect(result.code, result.stderr).toBe(0)
    // the request reached the endpoint that only the config file names
    expect(authorizations).toHaveLength(1)
    expect(result.stdout.trim()).toBe('0')
  })

  it('looks nowhere else: a shared credentials file, which the full chain would read, is ignored', async () => {
    authorizations.length = 0
    const home = mkdtempSync(join(tmpdir(), 'bundle-home-aws-'))
    temporaryHomes.push(home)
    mkdirSync(join(home, '.aws'))
    writeFileSync(
      join(home, '.aws', 'credentials'),
      '[default]\naws_access_key_id = AKIDFROMTHEFILE\naws_secret_access_key = secret-from-the-file\n',
    )

    const result = await runWithBundle(
      fixture,
      'try { await bundle.handler() } catch (error) { console.log(error.name, error.message); process.exit(3) }',
      { HOME: home, AWS_REGION: 'eu-west-1', AWS_ENDPOINT_URL_DYNAMODB: endpoint },
    )

    expect(result.code, result.stderr).toBe(3)
    expect(result.stdout).toContain('Unable to find environment variable credentials')
    expect(authorizations).toEqual([])
  })

  it('carries no code of the rest of the default chain (STS, SSO, SSO-OIDC, ini, process, web identity)', () => {
    for (const bundle of [fixture, create]) {
      const code = readFileSync(bundle.file, 'utf8')
      for (const marker of [
        'AWSSecurityTokenServiceV20110615',
        'AssumeRoleWithWebIdentity',
        'GetRoleCredentials',
        'AWSSSOOIDCService',
        'AWS_WEB_IDENTITY_TOKEN_FILE',
        'credential_process',
        'AWS_CONTAINER_CREDENTIALS',
      ]) {
        expect(code).not.toContain(marker)
      }
    }
  })
})

describe('stack traces of a Lambda bundle', () => {
  it('name the TypeScript file and line that threw, with the options the function runs with', async () => {
    const source = readFileSync(ENTRY, 'utf8').split('\n')
    const line = source.findIndex((text) => text.includes('// throw-line')) + 1

    const result = await runWithBundle(
      fixture,
      'try { bundle.throwFromTypeScript() } catch (error) { console.log(error.stack) }',
      {},
    )

    expect(fixture.environment.NODE_OPTIONS).toContain('--enable-source-maps')
    expect(result.stdout.split('\n')[1]).toMatch(
      new RegExp(`test/fixtures/bundle-entry/handler\\.ts:${line}:\\d+\\)?$`),
    )
  })

  it('come from a map without the sources and with one segment per run of dependency code', () => {
    const map = JSON.parse(readFileSync(`${fixture.file}.map`, 'utf8')) as {
      sources: string[]
      sourcesContent?: unknown
      mappings: string
    }
    const segments = map.mappings.split(/[,;]/).filter(Boolean).length
    const bundledBytes = readFileSync(fixture.file, 'utf8').length

    expect(map.sourcesContent).toBeUndefined()
    // esbuild writes about one segment per 5 bytes of minified code; ours is a small fraction of it
    expect(segments).toBeLessThan(bundledBytes / 50)
  })
})

describe('modules a Lambda bundle loads on first use', () => {
  it.each([
    ['the ECR client', 'ECR token exchange needs an AWS region name'],
    ['the registry verifier', 'Only https registries can be verified'],
    // ?verify=true's create and the exchanges of ECR and Google credentials it checks with
    ["?verify=true's create", 'cannot be true for an ECR role credential'],
    ['the credential exchanges', 'may only name an http endpoint on loopback'],
    // STS's protocol (a barrel re-export once put it in a chunk every function with STS loads)
    ["STS's AWS Query protocol", 'AWSQuery protocol has no payload codec'],
    ['the XML parser', '@aws-sdk XML parse error'],
  ])('keeps %s out of what create loads at cold start, in a chunk of its own', (_what, marker) => {
    const loaded = [...staticallyLoaded(create.file)]
    const chunks = readdirSync(join(create.dir, 'chunks')).map((file) => join(create.dir, 'chunks', file))

    expect(loaded.filter((file) => readFileSync(file, 'utf8').includes(marker))).toEqual([])
    expect(chunks.some((file) => file.endsWith('.mjs') && readFileSync(file, 'utf8').includes(marker))).toBe(
      true,
    )
  })

  let closedPort: number

  beforeAll(async () => {
    const server = createServer()
    closedPort = await listen(server)
    await closeServer(server)
  })

  it('runs the registry verifier when asked', async () => {
    const result = await runWithBundle(
      fixture,
      `console.log(JSON.stringify(await bundle.verifyRegistry('127.0.0.1:${closedPort}')))`,
      { REGISTRY_VERIFY_ALLOW_HTTP: 'true', REGISTRY_VERIFY_ALLOW_LOOPBACK: 'true' },
    )

    expect(result.code, result.stderr).toBe(0)
    expect(JSON.parse(result.stdout)).toMatchObject({ status: 'registry_error' })
  })

  it('assumes an ECR role through STS when asked: the lazily loaded STS client still speaks AWS Query', async () => {
    const issued: Record<string, string> = {}
    const role = 'arn:aws:iam::123456789012:role/registry-credentials-pull'
    const caller = {
      accessKeyId: 'AKIABUNDLEROLE000001',
      secretAccessKey: 'bundle-role-secret-access-key-0000000',
    }
    const expiresAt = new Date(Date.now() + 60 * 60 * 1000)
    const sts = await startStsFake({
      callerKeyPairs: { [caller.accessKeyId]: caller.secretAccessKey },
      roles: { [role]: { externalId: 'registry-credentials-bundle' } },
      issuedKeyPairs: issued,
      expiration: new Date(Date.now() + 15 * 60 * 1000),
    })
    const ecr = await startEcrFake({ keyPairs: issued, expiresAt })
    try {
      const result = await runWithBundle(
        fixture,
        `console.log(JSON.stringify(await bundle.exchangeEcrRole(${JSON.stringify(role)}, 'registry-credentials-bundle')))`,
        {
          AWS_ACCESS_KEY_ID: caller.accessKeyId,
          AWS_SECRET_ACCESS_KEY: caller.secretAccessKey,
          AWS_ENDPOINT_URL_STS: sts.url,
          AWS_ENDPOINT_URL_ECR: ecr.url,
          AWS_MAX_ATTEMPTS: '1',
        },
      )

      expect(result.code, result.stderr).toBe(0)
      expect(JSON.parse(result.stdout)).toEqual({
        username: 'AWS',
        password: ecr.passwordFor('eu-central-1'),
        expiresAt: expiresAt.toISOString(),
      })
      expect(sts.requests.at(-1)).toMatchObject({ action: 'AssumeRole', roleArn: role, signatureValid: true })
    } finally {
      await sts.close()
      await ecr.close()
    }
  })

  it('runs the ECR token exchanger when asked', async () => {
    const result = await runWithBundle(
      fixture,
      'try { await bundle.exchangeEcrToken() } catch (error) { console.log(error.message) }',
      {},
    )

    expect(result.code, result.stderr).toBe(0)
    expect(result.stdout).toContain('ECR token exchange needs an AWS region name')
  })
})
