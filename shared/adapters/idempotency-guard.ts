import {
  IdempotencyAlreadyInProgressError,
  IdempotencyConfig,
  IdempotencyPersistenceLayerError,
  IdempotencyValidationError,
  makeIdempotent,
} from '@aws-lambda-powertools/idempotency'
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb'
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import {
  DependencyUnavailableError,
  IdempotencyKeyReusedError,
  IdempotentRequestInProgressError,
} from '../domain/errors.ts'
import type { IdempotencyGuard, IdempotentRequest } from '../domain/ports.ts'
import { RETRY_AFTER_SECONDS } from './aws-errors.ts'

/** Partition of the idempotency records in the single table; never a company's partition. */
export const IDEMPOTENCY_PARTITION_KEY = 'IDEMPOTENCY'

/** How long a result is replayed for a retried Idempotency-Key. */
export const IDEMPOTENCY_TTL_SECONDS = 24 * 60 * 60

/** The attribute DynamoDB's TTL deletes expired idempotency records by. */
export const IDEMPOTENCY_EXPIRY_ATTRIBUTE = 'expiration'

/** Options of {@link createIdempotencyGuard}. */
export interface IdempotencyGuardOptions {
  client: DynamoDBClient
  tableName: string
  ttlSeconds?: number
}

/**
 * Idempotency-Keys with Powertools' idempotency utility, its records in the single table under
 * `pk = IDEMPOTENCY`, `sk = <function>#<hash of company and key>`. Only the operation's result (a
 * credential without its secret) is stored, and only the fingerprint's hash.
 */
export function createIdempotencyGuard({
  client,
  tableName,
  ttlSeconds = IDEMPOTENCY_TTL_SECONDS,
}: IdempotencyGuardOptions): IdempotencyGuard {
  const persistenceStore = new DynamoDBPersistenceLayer({
    tableName,
    keyAttr: 'pk',
    sortKeyAttr: 'sk',
    staticPkValue: IDEMPOTENCY_PARTITION_KEY,
    expiryAttr: IDEMPOTENCY_EXPIRY_ATTRIBUTE,
    awsSdkV3Client: client,
  })
  const config = new IdempotencyConfig({
    // scoped to the company: two companies may pick the same key
    eventKeyJmesPath: '[companyId, key]',
    payloadValidationJmesPath: 'fingerprint',
    expiresAfterSeconds: ttlSeconds,
    throwOnNoIdempotencyKey: true,
  })
  const run = makeIdempotent(
    async (_request: IdempotentRequest, operation: () => Promise<unknown>) => operation(),
    { persistenceStore, config },
  )
  return {
    async once<T>(request: IdempotentRequest, operation: () => Promise<T>): Promise<T> {
      try {
        return (await run(request, operation)) as T
      } catch (error) {
        if (error instanceof IdempotencyValidationError) throw new IdempotencyKeyReusedError()
        if (error instanceof IdempotencyAlreadyInProgressError) throw new IdempotentRequestInProgressError()
        if (error instanceof IdempotencyPersistenceLayerError) {
          throw new DependencyUnavailableError('DynamoDB', RETRY_AFTER_SECONDS, { cause: error })
        }
        throw error
      }
    },
  }
}
