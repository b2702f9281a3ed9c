import type { IdempotencyGuard } from '../domain/ports.ts'
import { dynamo, tableName } from './dynamo.ts'
import { loadOnFirstUse } from './load-on-first-use.ts'

// the guard (Powertools idempotency and its JMESPath) runs only for requests with an
// Idempotency-Key: loaded on the first one, not at every cold start of create.
const guard = loadOnFirstUse(async () => {
  const { createIdempotencyGuard } = await import('../adapters/idempotency-guard.ts')
  return createIdempotencyGuard({ client: dynamo, tableName, keyPrefix: 'create-docker-registry' })
})

/** The container's Idempotency-Key guard, its records in the single table; loaded on first use. */
export const idempotencyGuard: IdempotencyGuard = {
  async once(request, operation, remainingMs) {
    return (await guard()).once(request, operation, remainingMs)
  },
}
