import { resolve } from 'node:path'
import { readFunctionAssets } from './cloud-assembly.ts'
import { type LocalFunctions, memoizedLoader, sourceFunctions } from './local-functions.ts'

/**
 * The functions as the esbuild bundles a `cdk synth` produced (`LOCAL_BUNDLES=cdk.out`): the
 * exact artifacts `cdk deploy` uploads, each loaded from its asset folder by its `Handler`
 * setting. Every function of the sources must have a bundle, so a stale or partial `cdk.out`
 * fails at start rather than silently running sources for the missing ones.
 */
export function bundleFunctions(cdkOutDir: string): LocalFunctions {
  const assets = new Map(readFunctionAssets(cdkOutDir).map((asset) => [asset.name, asset]))
  const missing = sourceFunctions().names.filter((name) => !assets.has(name))
  if (missing.length > 0) {
    throw new Error(`${cdkOutDir} has no bundle for ${missing.join(', ')}; run npm run synth`)
  }
  const asset = (name: string) => {
    const found = assets.get(name)
    if (!found) throw new Error(`no bundle for ${name}`)
    return found
  }
  return {
    origin: `bundles from ${resolve(cdkOutDir)}`,
    names: [...assets.keys()].sort(),
    timeoutMs: (name) => asset(name).timeoutSeconds * 1000,
    load: memoizedLoader((name) => ({ file: asset(name).handlerFile, exportName: asset(name).exportName })),
  }
}
