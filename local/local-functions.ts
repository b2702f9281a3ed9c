import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import type { Context } from 'aws-lambda'
import { functionTimeoutSeconds } from '../infra/function-timeouts.ts'

/** A function's exported handler, as Lambda calls it: any event, a context, a promise. */
export type LambdaHandler = (event: unknown, context: Context) => Promise<unknown>

/** The functions the local stack runs, named by their `functions/` folder. */
export interface LocalFunctions {
  /** What runs, for the start banner: the TypeScript sources or a cloud assembly's bundles. */
  origin: string
  /** Every function's name, sorted. */
  names: readonly string[]
  /** The function's configured timeout. */
  timeoutMs(name: string): number
  /** The function's handler, loaded (and its module-scope setup run) on first use, as a cold start. */
  load(name: string): Promise<LambdaHandler>
}

const FUNCTIONS_DIR = fileURLToPath(new URL('../functions/', import.meta.url))

/**
 * Loads one module per function at most once, like one warm container per function. A module that
 * fails to load is not cached, so the next invocation tries again (a cold start that failed).
 */
export function memoizedLoader(
  locate: (name: string) => { file: string; exportName: string },
): (name: string) => Promise<LambdaHandler> {
  const loaded = new Map<string, Promise<LambdaHandler>>()
  return (name) => {
    let handler = loaded.get(name)
    if (!handler) {
      const { file, exportName } = locate(name)
      handler = import(pathToFileURL(file).href).then((module: Record<string, unknown>) => {
        const exported = module[exportName]
        if (typeof exported !== 'function') throw new Error(`${file} exports no function ${exportName}`)
        return exported as LambdaHandler
      })
      handler.catch(() => loaded.delete(name))
      loaded.set(name, handler)
    }
    return handler
  }
}

/** The functions as TypeScript sources: every `functions/<name>/handler.ts`, export `handler`. */
export function sourceFunctions(functionsDir: string = FUNCTIONS_DIR): LocalFunctions {
  const names = readdirSync(functionsDir)
    .filter((name) => existsSync(join(functionsDir, name, 'handler.ts')))
    .sort()
  return {
    origin: 'TypeScript sources (functions/*/handler.ts)',
    names,
    timeoutMs: (name) => functionTimeoutSeconds(name) * 1000,
    load: memoizedLoader((name) => {
      if (!names.includes(name)) throw new Error(`no function ${name}`)
      return { file: join(functionsDir, name, 'handler.ts'), exportName: 'handler' }
    }),
  }
}
