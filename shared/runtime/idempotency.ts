import { createIdempotencyGuard } from '../adapters/idempotency-guard.ts'
import { dynamo, tableName } from './dynamo.ts'

/** The container's Idempotency-Key guard, its records in the single table. */
export const idempotencyGuard = createIdempotencyGuard({
  client: dynamo,
  tableName,
  keyPrefix: 'create-docker-registry',
})
