import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { type BuildOptions, buildSync } from 'esbuild'
import { type SourceMapV3, toOwnCodeSourceMap } from './own-code-source-map.ts'

/**
 * Defines `require` inside the ESM bundle: a few CommonJS dependencies still call it, and esbuild's
 * ESM output has no `require` of its own.
 */
export const ESM_REQUIRE_SHIM =
  "import { createRequire as __createRequire } from 'node:module';const require = __createRequire(import.meta.url);"

const runtimeFile = (path: string) => fileURLToPath(new URL(`../../shared/runtime/${path}`, import.meta.url))

/**
 * Modules the Lambda bundles resolve to a stand-in (esbuild `alias`), for cold start:
 * - the SDK clients' default credential chain becomes the environment provider alone: Lambda
 *   always puts the execution role's credentials in the environment, and the rest of the chain
 *   (nested STS, SSO and SSO-OIDC clients, ini, process and web-identity providers) never runs
 *   there;
 * - `http` and `https` are taken with `process.getBuiltinModule`: an ES import of a builtin
 *   evaluates all of its lazy exports, and http's include Node's whole fetch implementation.
 * Only the bundles get this; the local stack and the `api-key` command run unbundled, with the
 * full chain.
 */
export const LAMBDA_MODULE_ALIASES: Readonly<Record<string, string>> = {
  '@aws-sdk/credential-provider-node': runtimeFile('environment-credential-provider.ts'),
  http: runtimeFile('node-builtins/http.cjs'),
  'node:http': runtimeFile('node-builtins/http.cjs'),
  https: runtimeFile('node-builtins/https.cjs'),
  'node:https': runtimeFile('node-builtins/https.cjs'),
}

/**
 * The esbuild settings of every Lambda bundle (the one definition: the construct builds with it,
 * the bundle tests and the cold-start bench read it). An ES module for Node 24 with the AWS SDK
 * inside (so the code runs against the SDK version it was tested with), minified, split: code
 * reached only through a dynamic `import()` (the registry verifier, the ECR client, the SDK's own
 * rarely used parts) goes to chunks beside `index.mjs` that Node reads only when a request needs
 * them. Source maps without the sources.
 */
export const LAMBDA_ESBUILD_OPTIONS = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node24',
  mainFields: ['module', 'main'],
  // nothing external: the runtime's own SDK copy is never used.
  external: [],
  alias: { ...LAMBDA_MODULE_ALIASES },
  banner: { js: ESM_REQUIRE_SHIM },
  minify: true,
  splitting: true,
  entryNames: 'index',
  chunkNames: 'chunks/[name]-[hash]',
  outExtension: { '.js': '.mjs' },
  sourcemap: true,
  sourcesContent: false,
  logLevel: 'warning',
} as const satisfies BuildOptions

function mapFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.map'))
    .map((file) => join(dir, file))
}

/**
 * Bundles one function entry into `outdir` (`index.mjs` exporting the entry's exports, its chunks,
 * and their maps), then reduces each map to our own code (see {@link toOwnCodeSourceMap}): Node
 * decodes a whole map the first time it formats a stack, so the first logged error stays cheap.
 */
export function bundleFunction(entry: string, outdir: string): void {
  buildSync({ ...LAMBDA_ESBUILD_OPTIONS, entryPoints: [entry], outdir })
  for (const file of mapFiles(outdir)) {
    const map = JSON.parse(readFileSync(file, 'utf8')) as SourceMapV3
    writeFileSync(file, JSON.stringify(toOwnCodeSourceMap(map)))
  }
}
