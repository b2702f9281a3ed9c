import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { FUNCTION_NAME_METADATA_KEY } from '../../infra/function-metadata.ts'
import { readFunctionAssets } from '../../local/cloud-assembly.ts'
import { memoizedLoader } from '../../local/local-functions.ts'

interface FixtureFunction {
  name?: string
  hash: string
  files: Record<string, string>
  handler?: string
  metadataPath?: string
  timeout?: number
}

// a cloud assembly laid out as cdk synth writes it: manifest, template, asset manifest, asset folders
function writeAssembly(functions: FixtureFunction[]): string {
  const root = mkdtempSync(join(tmpdir(), 'cloud-assembly-'))
  const resources: Record<string, unknown> = {}
  const files: Record<string, unknown> = {}
  for (const [index, fn] of functions.entries()) {
    const folder = `asset.${fn.hash}`
    mkdirSync(join(root, folder))
    for (const [file, text] of Object.entries(fn.files)) writeFileSync(join(root, folder, file), text)
    resources[`Function${index}`] = {
      Type: 'AWS::Lambda::Function',
      Metadata: {
        ...(fn.name ? { [FUNCTION_NAME_METADATA_KEY]: fn.name } : {}),
        'aws:asset:path': fn.metadataPath ?? folder,
        'aws:asset:property': 'Code',
      },
      Properties: {
        Code: { S3Bucket: 'cdk-assets', S3Key: `${fn.hash}.zip` },
        Handler: fn.handler ?? 'index.handler',
        ...(fn.timeout ? { Timeout: fn.timeout } : {}),
      },
    }
    files[fn.hash] = {
      source: { path: folder, packaging: 'zip' },
      destinations: { current: { bucketName: 'cdk-assets', objectKey: `${fn.hash}.zip` } },
    }
  }
  writeFileSync(join(root, 'Api.template.json'), JSON.stringify({ Resources: resources }))
  writeFileSync(join(root, 'Api.assets.json'), JSON.stringify({ version: '55.0.0', files }))
  writeFileSync(
    join(root, 'manifest.json'),
    JSON.stringify({
      version: '55.0.0',
      artifacts: {
        'Api.assets': { type: 'cdk:asset-manifest', properties: { file: 'Api.assets.json' } },
        Api: {
          type: 'aws:cloudformation:stack',
          properties: { templateFile: 'Api.template.json' },
          dependencies: ['Api.assets'],
        },
      },
    }),
  )
  return root
}

const roots: string[] = []
const assembly = (functions: FixtureFunction[]) => {
  const root = writeAssembly(functions)
  roots.push(root)
  return root
}

afterEach(() => {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true })
})

describe('readFunctionAssets', () => {
  it("finds each function's uploaded asset folder and handler by the template and the asset manifest", () => {
    const root = assembly([
      { name: 'get-docker-registry', hash: 'aaa', files: { 'index.mjs': '' }, timeout: 10 },
      { name: 'resolve-docker-registry', hash: 'bbb', files: { 'main.js': '' }, handler: 'main.resolve' },
    ])

    const assets = readFunctionAssets(root)

    expect(assets).toEqual([
      expect.objectContaining({
        name: 'get-docker-registry',
        assetDir: join(root, 'asset.aaa'),
        handlerFile: join(root, 'asset.aaa', 'index.mjs'),
        exportName: 'handler',
        timeoutSeconds: 10,
      }),
      expect.objectContaining({
        name: 'resolve-docker-registry',
        handlerFile: join(root, 'asset.bbb', 'main.js'),
        exportName: 'resolve',
        timeoutSeconds: 3,
      }),
    ])
  })

  it('runs an entry that imports chunks beside it (esbuild code splitting)', async () => {
    const root = assembly([
      {
        name: 'get-docker-registry',
        hash: 'ccc',
        files: {
          'index.mjs':
            "import { answer } from './chunk-x1.mjs'\nexport const handler = async () => answer()\n",
          'chunk-x1.mjs': "export const answer = () => 'from the chunk'\n",
          'index.mjs.map': '{}',
        },
      },
    ])
    const [asset] = readFunctionAssets(root)
    const load = memoizedLoader(() => ({ file: asset?.handlerFile as string, exportName: 'handler' }))

    const handler = await load('get-docker-registry')

    expect(await handler({}, {} as never)).toBe('from the chunk')
  })

  it('leaves out functions RegistryFunction did not build (CDK providers)', () => {
    const root = assembly([{ hash: 'ddd', files: { 'index.js': '' } }])

    expect(readFunctionAssets(root)).toEqual([])
  })

  it('refuses an assembly whose asset metadata disagrees with what is uploaded', () => {
    const root = assembly([
      { name: 'x', hash: 'eee', files: { 'index.mjs': '' }, metadataPath: 'asset.other' },
    ])

    expect(() => readFunctionAssets(root)).toThrow(
      /aws:asset:path asset\.other is not the uploaded asset\.eee/,
    )
  })

  it('refuses an asset without the file its Handler names', () => {
    const root = assembly([{ name: 'x', hash: 'fff', files: { 'other.mjs': '' } }])

    expect(() => readFunctionAssets(root)).toThrow(/has no index\.mjs, \.cjs or \.js/)
  })

  it('says to synthesize when there is no assembly', () => {
    expect(() => readFunctionAssets(join(tmpdir(), 'no-such-cdk-out'))).toThrow(/run npm run synth first/)
  })
})
