import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { App, Stack } from 'aws-cdk-lib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ESM_REQUIRE_SHIM, RegistryFunction } from '../../infra/constructs/registry-function.ts'
import { readFunctionAssets } from '../../local/cloud-assembly.ts'
import { cdkOutdir } from '../support/cdk-outdir.ts'

const CREATE_ENTRY = fileURLToPath(
  new URL('../../functions/create-docker-registry/handler.ts', import.meta.url),
)

describe('RegistryFunction bundling', () => {
  let bundle: string
  let bundleDir: string
  let assemblyDir: string
  const dockerBefore = process.env.CDK_DOCKER

  beforeAll(() => {
    // any attempt to use Docker fails the synth: the bundle must come from the local esbuild.
    process.env.CDK_DOCKER = 'false'
    const app = new App({
      outdir: cdkOutdir(),
      builtinCloudFormationValidation: false,
      context: { 'aws:cdk:enable-asset-metadata': true },
    })
    const stack = new Stack(app, 'Bundling')
    new RegistryFunction(stack, 'Create', { entry: CREATE_ENTRY, serviceName: 'registry-credentials' })

    const assembly = app.synth()
    assemblyDir = assembly.directory

    const template = assembly.getStackByName('Bundling').template as {
      Resources: Record<string, { Type: string; Metadata?: Record<string, string> }>
    }
    const fn = Object.values(template.Resources).find((resource) => resource.Type === 'AWS::Lambda::Function')
    bundleDir = join(assembly.directory, fn?.Metadata?.['aws:asset:path'] ?? 'missing')
    bundle = readFileSync(join(bundleDir, 'index.mjs'), 'utf8')
  })

  afterAll(() => {
    if (dockerBefore === undefined) delete process.env.CDK_DOCKER
    else process.env.CDK_DOCKER = dockerBefore
  })

  it("names the function in the template, so the local stack's bundle mode finds this asset", () => {
    expect(readFunctionAssets(assemblyDir)).toEqual([
      expect.objectContaining({
        name: 'create-docker-registry',
        assetDir: bundleDir,
        handlerFile: join(bundleDir, 'index.mjs'),
        exportName: 'handler',
      }),
    ])
  })

  it('emits an ES module that starts with the require shim', () => {
    expect(bundle.startsWith(ESM_REQUIRE_SHIM)).toBe(true)
    expect(bundle).toMatch(/export\s*\{[^}]*handler/)
  })

  it('bundles the AWS SDK instead of importing it from the runtime', () => {
    expect(bundle).toContain('GenerateDataKey')
    expect(bundle).not.toMatch(/from\s*["']@aws-sdk\//)
    // the only SDK module left to load at run time is the optional CRT signer, which the SDK
    // requires inside a try block for SigV4a and which no client of ours uses.
    const runtimeRequires = new Set(bundle.match(/require\("@aws-sdk\/[^"]+"\)/g) ?? [])
    expect([...runtimeRequires].filter((call) => call !== 'require("@aws-sdk/signature-v4-crt")')).toEqual([])
  })

  it('is minified, with a source map beside it', () => {
    expect(bundle.length / bundle.split('\n').length).toBeGreaterThan(1000)
    expect(bundle.trimEnd().endsWith('//# sourceMappingURL=index.mjs.map')).toBe(true)
    expect(existsSync(join(bundleDir, 'index.mjs.map'))).toBe(true)
  })
})
