import { buildFunctionBundles, buildNaiveBundle } from './bundles.ts'
const t = Date.now()
const b = [...buildFunctionBundles(), await buildNaiveBundle()]
console.log(JSON.stringify(b, null, 1), Date.now() - t)
