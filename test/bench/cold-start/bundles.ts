import { mkdtempSync, readdirSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { App, Stack } from 'aws-cdk-lib'
import { build } from 'esbuild'
import { RegistryFunction } from '../../../infra/constructs/registry-function.ts'

const ROOT = fileURLToPath(new URL('../../../', import.meta.url))
const FUNCTIONS_DIR = join(ROOT, 'functions')

/** One bundle to measure: where its entry file is and how Lambda would start Node for it. */
export interface BenchBundle {
  name: string
  /** The bundle's entry module (`index.mjs`). */
  file: string
  /** Bytes of the JavaScript files of the asset (source maps not counted). */
  bytes: number
  /** Bytes of the source maps beside it. */
  mapBytes: number
  /** The environment the function's template sets (`NODE_OPTIONS`, the logger's settings). */
  environment: Record<string, string>
}

function assetSizes(dir: string): { bytes: number; mapBytes: number } {
  let bytes = 0
  let mapBytes = 0
  for (const file of readdirSync(dir, { recursive: true, encoding: 'utf8' })) {
    const size = statSync(join(dir, file)).size
    if (file.endsWith('.map')) mapBytes += size
    else if (/\.(m?js|cjs)$/.test(file)) bytes += size
  }
  return { bytes, mapBytes }
}

interface TemplateFunction {
  Type: string
  Metadata?: Record<string, string>
  Properties?: { Environment?: { Variables?: Record<string, string> } }
}

/**
 * Builds every function folder's bundle exactly as `cdk synth` does: one {@link RegistryFunction}
 * per folder in a throwaway app, so the bench measures the construct's own esbuild settings and
 * environment rather than a copy of them.
 */
export function buildFunctionBundles(): BenchBundle[] {
  const outdir = mkdtempSync(join(tmpdir(), 'cold-start-cdk-'))
  const app = new App({ outdir, context: { 'aws:cdk:enable-asset-metadata': true } })
  const stack = new Stack(app, 'ColdStart')
  const names = readdirSync(FUNCTIONS_DIR).sort()
  const ids = new Map<string, string>()
  for (const [index, name] of names.entries()) {
    const fn = new RegistryFunction(stack, `F${index}`, {
      entry: join(FUNCTIONS_DIR, name, 'handler.ts'),
      serviceName: 'registry-credentials',
    })
    ids.set(stack.getLogicalId(fn.function.node.defaultChild as never), name)
  }
  const assembly = app.synth()
  const resources = assembly.getStackByName('ColdStart').template.Resources as Record<
    string,
    TemplateFunction
  >
  const bundles: BenchBundle[] = []
  for (const [logicalId, resource] of Object.entries(resources)) {
    const name = ids.get(logicalId)
    if (!name || resource.Type !== 'AWS::Lambda::Function') continue
    const dir = join(assembly.directory, resource.Metadata?.['aws:asset:path'] ?? 'missing')
    bundles.push({
      name,
      file: join(dir, 'index.mjs'),
      ...assetSizes(dir),
      environment: resource.Properties?.Environment?.Variables ?? {},
    })
  }
  return bundles.sort((a, b) => a.name.localeCompare(b.name))
}

/**
 * The naive baseline of the issue: one file creating a credential with DocumentClient + KMSClient
 * + Middy + valibot (GenerateDataKey, then PutItem), built with `esbuild --bundle --minify
 * --format=esm` for Node and nothing else: no aliases, no source maps, the whole SDK default
 * credential chain.
 */
export async function buildNaiveBundle(): Promise<BenchBundle> {
  const outdir = mkdtempSync(join(tmpdir(), 'cold-start-naive-'))
  const file = join(outdir, 'index.mjs')
  await build({
    entryPoints: [fileURLToPath(new URL('naive-create-handler.ts', import.meta.url))],
    outfile: file,
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'node',
    target: 'node24',
    banner: {
      js: "import { createRequire as __createRequire } from 'node:module';const require = __createRequire(import.meta.url);",
    },
    logLevel: 'silent',
  })
  return { name: 'naive create (baseline)', file, ...assetSizes(outdir), environment: {} }
}
