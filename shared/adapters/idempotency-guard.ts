import {
  IdempotencyAlreadyInProgressError,
  IdempotencyConfig,
  IdempotencyPersistenceLayerError,
  IdempotencyValidationError,
  makeIdempotent,
} from '@aws-lambda-powertools/idempotency'
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb'
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import type { Context } from 'aws-lambda'
import { IdempotencyKeyReusedError, IdempotentRequestInProgressError } from '../domain/errors.ts'
import type { IdempotencyGuard, IdempotentRequest } from '../domain/ports.ts'
import { translateAwsError } from './aws-errors.ts'

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
  /** Names the operation in the records' keys (`<keyPrefix>#<hash>`). */
  keyPrefix: string
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
  keyPrefix,
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
    hashFunction: 'sha256',
    expiresAfterSeconds: ttlSeconds,
    throwOnNoIdempotencyKey: true,
  })
  const run = makeIdempotent(
    async (_request: IdempotentRequest, operation: () => Promise<unknown>) => operation(),
    { persistenceStore, config, keyPrefix },
  )
  return {
    async once<T>(
      request: IdempotentRequest,
      operation: () => Promise<T>,
      remainingMs: () => number,
    ): Promise<T> {
      // one invocation at a time per Lambda container, so the shared config can carry this one's
      // deadline: Powertools records it as the in-progress expiry of the key
      config.registerLambdaContext({ getRemainingTimeInMillis: remainingMs } as Context)
      try {
        return (await run(request, operation)) as T
      } catch (error) {
        if (error instanceof IdempotencyValidationError) throw new IdempotencyKeyReusedError()
        if (error instanceof IdempotencyAlreadyInProgressError) throw new IdempotentRequestInProgressError()
        // a failed read or write of the record: throttling and outages are worth a retry,
        // anything else (a misconfigured grant) is our fault
        if (error instanceof IdempotencyPersistenceLayerError)
          return translateAwsError('DynamoDB')(error.cause)
        throw error
      }
    },
  }
}
