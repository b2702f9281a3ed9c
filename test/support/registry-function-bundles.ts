import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { App, Stack } from 'aws-cdk-lib'
import { RegistryFunction } from '../../infra/constructs/registry-function.ts'
import { cdkOutdir } from './cdk-outdir.ts'

/** A bundle as `cdk synth` built it. */
export interface SynthesizedBundle {
  /** The asset folder. */
  dir: string
  /** Its entry module (`index.mjs`). */
  file: string
  /** The environment the function's template sets (`NODE_OPTIONS`, the logger's settings). */
  environment: Record<string, string>
}

interface TemplateFunction {
  Type: string
  Metadata?: Record<string, string>
  Properties?: { Environment?: { Variables?: Record<string, string> } }
}

/**
 * Builds bundles exactly as `cdk synth` does: one {@link RegistryFunction} per entry in a
 * throwaway app (local esbuild, never Docker; in a {@link cdkOutdir} folder), so what is measured or tested is the construct's own
 * bundling and environment rather than a copy of them. Keys name the entries.
 */
export function synthesizeBundles(entries: Record<string, string>): Map<string, SynthesizedBundle> {
  const app = new App({ outdir: cdkOutdir(), context: { 'aws:cdk:enable-asset-metadata': true } })
  const stack = new Stack(app, 'Bundles')
  const names = new Map<string, string>()
  for (const [index, [name, entry]] of Object.entries(entries).entries()) {
    const fn = new RegistryFunction(stack, `Function${index}`, { entry, serviceName: 'registry-credentials' })
    names.set(stack.getLogicalId(fn.function.node.defaultChild as never), name)
  }
  const assembly = app.synth()
  const resources = assembly.getStackByName('Bundles').template.Resources as Record<string, TemplateFunction>
  const bundles = new Map<string, SynthesizedBundle>()
  for (const [logicalId, resource] of Object.entries(resources)) {
    const name = names.get(logicalId)
    if (!name || resource.Type !== 'AWS::Lambda::Function') continue
    const dir = join(assembly.directory, resource.Metadata?.['aws:asset:path'] ?? 'missing')
    bundles.set(name, {
      dir,
      file: join(dir, 'index.mjs'),
      environment: resource.Properties?.Environment?.Variables ?? {},
    })
  }
  return bundles
}

/** The files Node reads when `file` is imported: itself and its static imports, transitively. */
export function staticallyLoaded(file: string, seen = new Set<string>()): Set<string> {
  if (seen.has(file)) return seen
  seen.add(file)
  // static imports only: `import…from"./x.mjs"` and `import"./x.mjs"`, never `import("./x.mjs")`
  for (const [, path] of readFileSync(file, 'utf8').matchAll(/(?:from|import)\s*"(\.\.?\/[^"]+)"/g)) {
    staticallyLoaded(join(dirname(file), path ?? ''), seen)
  }
  return seen
}
