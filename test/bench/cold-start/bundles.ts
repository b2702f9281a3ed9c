import { mkdtempSync, readdirSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import { bundleFunction } from '../../../infra/bundling/function-bundle.ts'
import { staticallyLoaded, synthesizeBundles } from '../../support/registry-function-bundles.ts'

const ROOT = fileURLToPath(new URL('../../../', import.meta.url))
const FUNCTIONS_DIR = join(ROOT, 'functions')

/** One bundle to measure: where its entry file is and how Lambda would start Node for it. */
export interface BenchBundle {
  name: string
  /** The bundle's entry module (`index.mjs`). */
  file: string
  /** Bytes of JavaScript Node reads at import: the entry and its static imports. */
  loadedBytes: number
  /** Bytes of all JavaScript files of the asset, the chunks loaded on demand included. */
  bytes: number
  /** Bytes of the source maps beside it. */
  mapBytes: number
  /** The environment the function's template sets (`NODE_OPTIONS`, the logger's settings). */
  environment: Record<string, string>
}

function assetSizes(dir: string, entry: string): { loadedBytes: number; bytes: number; mapBytes: number } {
  const loadedBytes = [...staticallyLoaded(entry)].reduce((sum, file) => sum + statSync(file).size, 0)
  let bytes = 0
  let mapBytes = 0
  for (const file of readdirSync(dir, { recursive: true, encoding: 'utf8' })) {
    const size = statSync(join(dir, file)).size
    if (file.endsWith('.map')) mapBytes += size
    else if (/\.(m?js|cjs)$/.test(file)) bytes += size
  }
  return { loadedBytes, bytes, mapBytes }
}

/**
 * Every function folder's bundle, built exactly as `cdk synth` builds it (the RegistryFunction
 * construct's own esbuild settings and environment, not a copy of them).
 */
export function buildFunctionBundles(): BenchBundle[] {
  const names = readdirSync(FUNCTIONS_DIR).sort()
  const built = synthesizeBundles(
    Object.fromEntries(names.map((name) => [name, join(FUNCTIONS_DIR, name, 'handler.ts')])),
  )
  return names.map((name) => {
    const bundle = built.get(name)
    if (!bundle) throw new Error(`no bundle was built for ${name}`)
    return {
      name,
      file: bundle.file,
      ...assetSizes(bundle.dir, bundle.file),
      environment: bundle.environment,
    }
  })
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
  return { name: 'naive create (baseline)', file, ...assetSizes(outdir, file), environment: {} }
}

/** The floors: what one cold invocation's AWS calls cost with the bare SDK and nothing else. */
export interface FloorBundles {
  /** `floors/read-calls.ts`: the reads of a get or a list. */
  reads: Omit<BenchBundle, 'name' | 'environment'>
  /** `floors/create-calls.ts`: the calls of a create, and its encryption of the secret. */
  create: Omit<BenchBundle, 'name' | 'environment'>
  /** The folder holding both, to remove after the run. */
  dir: string
}

/**
 * The floor handlers of `floors/`, bundled by the functions' own bundler (the esbuild settings
 * `cdk synth` uses), so a function and its floor differ only in the code the function adds.
 */
export async function buildFloorBundles(): Promise<FloorBundles> {
  const dir = mkdtempSync(join(tmpdir(), 'cold-start-floors-'))
  const bundle = async (name: string) => {
    const outdir = join(dir, name)
    await bundleFunction(fileURLToPath(new URL(`floors/${name}.ts`, import.meta.url)), outdir)
    const file = join(outdir, 'index.mjs')
    return { file, ...assetSizes(outdir, file) }
  }
  return { reads: await bundle('read-calls'), create: await bundle('create-calls'), dir }
}
