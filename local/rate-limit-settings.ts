import { readFileSync } from 'node:fs'
import type { RateLimit } from '../shared/http/rate-limit.ts'

const CDK_JSON = new URL('../cdk.json', import.meta.url)

/**
 * The per-API-key limit the deployed web ACL of the `dev` stage enforces: `rateLimitPerKey`
 * requests per `rateLimitWindowSeconds`, read from `cdk.json`, so the local gateway answers 429
 * where dev would. `npm start` lets LOCAL_RATE_LIMIT / LOCAL_RATE_WINDOW_SECONDS override it
 * (`local/settings.ts`).
 */
export function devStageRateLimit(): RateLimit {
  const dev = JSON.parse(readFileSync(CDK_JSON, 'utf8'))?.context?.stages?.dev ?? {}
  const limit: unknown = dev.rateLimitPerKey
  const windowSeconds: unknown = dev.rateLimitWindowSeconds
  if (!Number.isInteger(limit) || !Number.isInteger(windowSeconds)) {
    throw new Error('cdk.json stages.dev must set rateLimitPerKey and rateLimitWindowSeconds as integers')
  }
  return { limit: limit as number, windowSeconds: windowSeconds as number }
}
