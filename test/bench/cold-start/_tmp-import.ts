import { readFileSync } from 'node:fs'
import { BARE_NODE_ARGS, importArgs, timeNode } from './processes.ts'
import { summarize } from './stats.ts'
const bundles = JSON.parse(readFileSync('/tmp/cs-build.json', 'utf8').replace(/\]\s*\d+\s*$/, ']'))
const env = { ...process.env, TABLE_NAME: 't', SECRETS_KEY_ARN: 'arn:aws:kms:eu-west-1:1:key/x', EVENT_BUS_NAME: 'b', AWS_REGION: 'eu-west-1', AWS_ACCESS_KEY_ID: 'a', AWS_SECRET_ACCESS_KEY: 'b' }
const runs = Number(process.env.RUNS ?? 10)
const res: Record<string, number[]> = {}
for (let i = 0; i < runs; i++) for (const b of bundles) {
  const bare = await timeNode(BARE_NODE_ARGS, env)
  const imp = await timeNode(importArgs(b.file, b.nodeOptions), env)
  ;(res[b.name] ??= []).push(imp - bare)
}
const naive = summarize(res['naive create (baseline)']!).median
for (const [n, v] of Object.entries(res)) { const s = summarize(v); console.log(n.padEnd(28), s.median.toFixed(1), (s.median / naive).toFixed(2), `[${s.p25.toFixed(0)}-${s.p75.toFixed(0)}]`) }
