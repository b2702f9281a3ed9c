import { existsSync, readFileSync, statSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { FUNCTION_NAME_METADATA_KEY } from '../infra/function-metadata.ts'

/** Where one function's deployed code is in a cloud assembly. */
export interface FunctionAsset {
  /** The `functions/` folder name the function was built from. */
  name: string
  /** The stack and logical id of its `AWS::Lambda::Function`. */
  stack: string
  logicalId: string
  /** The asset folder `cdk deploy` zips and uploads as the function's code. */
  assetDir: string
  /** The file the `Handler` setting names, inside the asset folder. */
  handlerFile: string
  /** The export the `Handler` setting names. */
  exportName: string
  /** The function's `Timeout`, in seconds (Lambda's default 3 when unset). */
  timeoutSeconds: number
}

interface ManifestArtifact {
  type: string
  properties?: { templateFile?: string; file?: string }
  dependencies?: string[]
}

interface AssetManifest {
  files?: Record<
    string,
    { source?: { path?: string; packaging?: string }; destinations?: Record<string, { objectKey?: string }> }
  >
}

interface TemplateResource {
  Type?: string
  Metadata?: Record<string, unknown>
  Properties?: { Code?: { S3Key?: unknown }; Handler?: unknown; Timeout?: unknown }
}

function readJson<T>(path: string): T {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T
  } catch (error) {
    throw new Error(`cannot read ${path} (${(error as Error).message}); run npm run synth first`)
  }
}

// Lambda's Node.js runtime looks for the handler module with these extensions
const MODULE_EXTENSIONS = ['.mjs', '.cjs', '.js']

function handlerLocation(assetDir: string, handler: unknown, where: string) {
  const setting = typeof handler === 'string' ? handler : ''
  const dot = setting.lastIndexOf('.')
  if (dot <= 0) throw new Error(`${where}: Handler ${JSON.stringify(handler)} is not <module>.<export>`)
  const modulePath = setting.slice(0, dot)
  const candidates = MODULE_EXTENSIONS.map((extension) => join(assetDir, `${modulePath}${extension}`))
  const handlerFile = candidates.find((candidate) => existsSync(candidate))
  if (!handlerFile) throw new Error(`${where}: the asset ${assetDir} has no ${modulePath}.mjs, .cjs or .js`)
  return { handlerFile, exportName: setting.slice(dot + 1) }
}

/**
 * Reads a `cdk synth` output folder the way `cdk deploy` does: each stack's template from the
 * manifest, each `AWS::Lambda::Function`'s `Code.S3Key` looked up in the stack's asset manifest,
 * whose source path is the folder uploaded as that function's code (cross-checked against the
 * resource's `aws:asset:path` metadata), and the `Handler` setting for the file and export in it.
 * Functions are named by the metadata RegistryFunction stamps on them; other functions (CDK's own
 * providers) are left out. Any folder layout works: one file or an entry with chunks beside it.
 */
export function readFunctionAssets(cdkOutDir: string): FunctionAsset[] {
  const root = resolve(cdkOutDir)
  const manifest = readJson<{ artifacts?: Record<string, ManifestArtifact> }>(join(root, 'manifest.json'))
  const artifacts = manifest.artifacts ?? {}
  const assets: FunctionAsset[] = []

  for (const [stack, artifact] of Object.entries(artifacts)) {
    if (artifact.type !== 'aws:cloudformation:stack' || !artifact.properties?.templateFile) continue
    const template = readJson<{ Resources?: Record<string, TemplateResource> }>(
      join(root, artifact.properties.templateFile),
    )
    const assetManifests = (artifact.dependencies ?? [])
      .map((dependency) => artifacts[dependency])
      .filter((dependency) => dependency?.type === 'cdk:asset-manifest' && dependency.properties?.file)
      .map((dependency) => readJson<AssetManifest>(join(root, dependency?.properties?.file as string)))

    for (const [logicalId, resource] of Object.entries(template.Resources ?? {})) {
      if (resource.Type !== 'AWS::Lambda::Function') continue
      const name = resource.Metadata?.[FUNCTION_NAME_METADATA_KEY]
      if (typeof name !== 'string') continue
      const where = `${stack}/${logicalId} (${name})`
      const objectKey = resource.Properties?.Code?.S3Key
      if (typeof objectKey !== 'string') throw new Error(`${where}: Code.S3Key is not an asset key`)
      const source = assetManifests
        .flatMap((assetManifest) => Object.values(assetManifest.files ?? {}))
        .find((file) =>
          Object.values(file.destinations ?? {}).some((to) => to.objectKey === objectKey),
        )?.source
      if (!source?.path || source.packaging !== 'zip') {
        throw new Error(`${where}: no zip asset in the asset manifest uploads ${objectKey}`)
      }
      const metadataPath = resource.Metadata?.['aws:asset:path']
      if (metadataPath !== undefined && metadataPath !== source.path) {
        throw new Error(`${where}: aws:asset:path ${String(metadataPath)} is not the uploaded ${source.path}`)
      }
      const assetDir = join(root, source.path)
      if (!existsSync(assetDir) || !statSync(assetDir).isDirectory()) {
        throw new Error(`${where}: the asset folder ${assetDir} is missing`)
      }
      const timeout = resource.Properties?.Timeout
      assets.push({
        name,
        stack,
        logicalId,
        assetDir,
        ...handlerLocation(assetDir, resource.Properties?.Handler, where),
        timeoutSeconds: typeof timeout === 'number' ? timeout : 3,
      })
    }
  }
  const names = assets.map((asset) => asset.name)
  const duplicate = names.find((name, index) => names.indexOf(name) !== index)
  if (duplicate) throw new Error(`the cloud assembly in ${root} has two functions named ${duplicate}`)
  return assets
}
