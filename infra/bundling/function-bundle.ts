import { execFileSync } from 'node:child_process'
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { isBuiltin } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { type BuildOptions, build, type Plugin } from 'esbuild'
import { type SourceMapV3, toOwnCodeSourceMap } from './own-code-source-map.ts'

/**
 * Defines `require` inside the ESM bundle: a few CommonJS dependencies still call it, and esbuild's
 * ESM output has no `require` of its own.
 */
export const ESM_REQUIRE_SHIM =
  "import { createRequire as __createRequire } from 'node:module';const require = __createRequire(import.meta.url);"

const runtimeFile = (path: string) => fileURLToPath(new URL(`../../shared/runtime/${path}`, import.meta.url))

/**
 * Modules the Lambda bundles resolve to a stand-in (esbuild `alias`): the SDK clients' default
 * credential chain becomes the environment provider alone. Lambda always puts the execution role's
 * credentials in the environment, and the rest of the chain (nested STS, SSO and SSO-OIDC clients,
 * ini, process and web-identity providers) never runs there. Only the bundles get this; the local
 * stack and the `api-key` command run unbundled, with the full chain.
 */
export const LAMBDA_MODULE_ALIASES: Readonly<Record<string, string>> = {
  '@aws-sdk/credential-provider-node': runtimeFile('environment-credential-provider.ts'),
}

const BUILTIN_OBJECT = 'builtin-object'

/**
 * The SDK's shared config file loader reads `~/.aws/config` and `~/.aws/credentials` through
 * `node:fs/promises`, on a container's first request (for each client setting the environment
 * does not give). In the bundles it reads them through `node:fs` instead
 * (shared/runtime/config-file-read.ts): the same files and errors, without loading
 * `node:fs/promises` and its internal modules. Other importers of `node:fs/promises` keep it.
 */
export const configFilesReadThroughFs: Plugin = {
  name: 'config-files-read-through-fs',
  setup(build) {
    build.onResolve({ filter: /^(node:)?fs\/promises$/ }, ({ importer }) =>
      /[\\/]shared-ini-file-loader[\\/]readFile\.js$/.test(importer)
        ? { path: runtimeFile('config-file-read.ts') }
        : undefined,
    )
  },
}

const JSON_PROTOCOLS = 'json-protocols'
/**
 * The importers of `@aws-sdk/core/protocols` known to use only its JSON protocols: the clients
 * the functions use, except STS (AWS Query), and DynamoDB's codec. Every other importer (STS, the
 * SDK's own root barrel, its nested STS client, a client added later) gets the whole barrel.
 */
const JSON_PROTOCOL_IMPORTERS =
  /[\\/]@aws-sdk[\\/](?:client-(?:dynamodb|kms|lambda|eventbridge|ecr)|dynamodb-codec)[\\/]/

/**
 * `@aws-sdk/core/protocols` re-exports every AWS protocol. esbuild splits code by file, and a file
 * any static import reaches (a re-export of an unused name included) goes to a chunk the entry
 * loads: so a lazily loaded STS client (AWS Query, with the XML parser) put about 11 KB of query
 * and XML protocol code into the cold start of every function that can assume a role. The JSON
 * clients ({@link JSON_PROTOCOL_IMPORTERS}) get the barrel without its query and XML lines, and
 * every other importer the whole one. Should a listed client ever import an XML export, the
 * build fails ("No matching export"), never the function at run time; an unlisted JSON client
 * only costs the cold start its share of the protocol code again.
 */
export const xmlProtocolsStayWithTheirClients: Plugin = {
  name: 'xml-protocols-stay-with-their-clients',
  setup(build) {
    build.onResolve({ filter: /^@aws-sdk\/core\/protocols$/ }, async (args) => {
      if (args.pluginData === JSON_PROTOCOLS || !JSON_PROTOCOL_IMPORTERS.test(args.importer)) return undefined
      const barrel = await build.resolve(args.path, {
        kind: args.kind,
        importer: args.importer,
        resolveDir: args.resolveDir,
        pluginData: JSON_PROTOCOLS,
      })
      if (barrel.errors.length > 0) return { errors: barrel.errors }
      return { path: barrel.path, namespace: JSON_PROTOCOLS }
    })
    build.onLoad({ filter: /.*/, namespace: JSON_PROTOCOLS }, ({ path }) => ({
      contents: readFileSync(path, 'utf8')
        .split('\n')
        .filter((line) => !/from "\.\/(query|xml)\//.test(line))
        .join('\n'),
      resolveDir: dirname(path),
      loader: 'js',
    }))
  },
}

/**
 * Node's builtins as their module objects (`process.getBuiltinModule`) instead of ES imports, for
 * cold start. An ES import of a builtin builds a namespace from every export, which evaluates the
 * lazy ones: for `http` that loads Node's whole fetch implementation (undici), and every builtin
 * pays for its ES facade. esbuild's interop reads the named imports from the object at use.
 */
export const builtinModuleObjects: Plugin = {
  name: 'builtin-module-objects',
  setup(build) {
    build.onResolve({ filter: /^[a-z_:/]+$/ }, ({ path }) =>
      isBuiltin(path)
        ? { path: path.startsWith('node:') ? path : `node:${path}`, namespace: BUILTIN_OBJECT }
        : undefined,
    )
    build.onLoad({ filter: /.*/, namespace: BUILTIN_OBJECT }, ({ path }) => ({
      contents: `module.exports = process.getBuiltinModule(${JSON.stringify(path)})`,
      loader: 'js',
    }))
  },
}

/**
 * The esbuild settings of every Lambda bundle (the one definition: the construct builds with it,
 * the bundle tests and the cold-start bench read it). An ES module for Node 24 with the AWS SDK
 * inside (so the code runs against the SDK version it was tested with), minified, split: code
 * reached only through a dynamic `import()` (the registry verifier, the ECR client, the SDK's own
 * rarely used parts) goes to chunks beside `index.mjs` that Node reads only when a request needs
 * them. Builtins as module objects, the SDK's config files read through `node:fs`, the AWS Query
 * and XML protocols only in the STS client's chunks. Source maps without the sources.
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
  plugins: [configFilesReadThroughFs, builtinModuleObjects, xmlProtocolsStayWithTheirClients],
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
export async function bundleFunction(entry: string, outdir: string): Promise<void> {
  await build({ ...LAMBDA_ESBUILD_OPTIONS, entryPoints: [entry], outdir })
  for (const file of mapFiles(outdir)) {
    const map = JSON.parse(readFileSync(file, 'utf8')) as SourceMapV3
    writeFileSync(file, JSON.stringify(toOwnCodeSourceMap(map)))
  }
}

/**
 * {@link bundleFunction} in a child Node process, for callers that must be synchronous (CDK's
 * local bundling): esbuild runs plugins only in its asynchronous API.
 */
export function bundleFunctionSync(entry: string, outdir: string): void {
  execFileSync(process.execPath, [fileURLToPath(import.meta.url), entry, outdir], { stdio: 'inherit' })
}

// `node function-bundle.ts <entry> <outdir>` (Node strips the types: erasable TypeScript only)
if (import.meta.main) {
  const [entry, outdir] = process.argv.slice(2)
  if (!entry || !outdir) throw new Error('usage: node function-bundle.ts <entry> <outdir>')
  await bundleFunction(entry, outdir)
}
