import { build } from 'esbuild'
const name = process.argv[2]
const r = await build({ entryPoints: [`functions/${name}/handler.ts`], bundle: true, write: false, metafile: true, minify: true, platform: 'node', format: 'esm', target: 'node24', mainFields: ['module','main'], logLevel: 'silent', outfile: '/tmp/x.mjs', alias: process.env.ALIAS ? { '@aws-sdk/credential-provider-node': process.env.ALIAS } : {} })
const out = Object.values(r.metafile.outputs)[0]!
const by = new Map<string, number>()
for (const [input, { bytesInOutput }] of Object.entries(out.inputs)) {
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input)
  const k = m?.[1] ?? input
  by.set(k, (by.get(k) ?? 0) + bytesInOutput)
}
console.log('total', out.bytes)
for (const [k, v] of [...by].sort((a, b) => b[1] - a[1]).slice(0, 30)) console.log(String(v).padStart(8), k)
