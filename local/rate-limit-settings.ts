import { readFileSync } from 'node:fs'
import type { RateLimit } from '../shared/http/rate-limit.ts'

const CDK_JSON = new URL('../cdk.json', import.meta.url)

function positiveInteger(name: string, value: unknown): number {
  const number = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value
  if (typeof number !== 'number' || !Number.isInteger(number) || number < 1) {
    throw new Error(`${name} must be a positive integer`)
  }
  return number
}

/**
 * The per-API-key limit of the local gateway: the `dev` stage's `rateLimitPerKey` per
 * `rateLimitWindowSeconds` from `cdk.json` (what the deployed web ACL of dev enforces), each
 * overridable by `LOCAL_RATE_LIMIT` / `LOCAL_RATE_WINDOW_SECONDS`. A bad value fails the start.
 */
export function localRateLimit(env: Readonly<Record<string, string | undefined>> = process.env): RateLimit {
  const dev = JSON.parse(readFileSync(CDK_JSON, 'utf8'))?.context?.stages?.dev ?? {}
  return {
    limit: positiveInteger(
      'LOCAL_RATE_LIMIT (default: cdk.json stages.dev.rateLimitPerKey)',
      env.LOCAL_RATE_LIMIT ?? dev.rateLimitPerKey,
    ),
    windowSeconds: positiveInteger(
      'LOCAL_RATE_WINDOW_SECONDS (default: cdk.json stages.dev.rateLimitWindowSeconds)',
      env.LOCAL_RATE_WINDOW_SECONDS ?? dev.rateLimitWindowSeconds,
    ),
  }
}
