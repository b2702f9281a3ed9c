import { createHash } from 'node:crypto'
import type { CredentialSummary, IdempotencyClaim } from '../domain/ports.ts'
import {
  type CredentialSummaryAttributes,
  toCredentialSummary,
  toSummaryAttributes,
} from './credential-summary-item.ts'

/** Prefix of the sort keys of Idempotency-Key records, in the company's own partition. */
export const IDEMPOTENCY_SORT_KEY_PREFIX = 'IDEMPOTENCY#create-docker-registry#'

/** How long a result is replayed for a retried Idempotency-Key. */
export const IDEMPOTENCY_TTL_SECONDS = 24 * 60 * 60

/** The attribute DynamoDB's TTL deletes expired idempotency records by (epoch seconds). */
export const IDEMPOTENCY_EXPIRY_ATTRIBUTE = 'expiration'

/** An Idempotency-Key record: the answer of the create that claimed the key, never a secret. */
export interface IdempotencyRecordItem {
  pk: string
  sk: string
  /** sha256 of the canonical fingerprint: what a retry must repeat. */
  fingerprint: string
  /** The credential the create answered, as its item stores it (no envelope). */
  credential: CredentialSummaryAttributes
  [IDEMPOTENCY_EXPIRY_ATTRIBUTE]: number
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex')

// the same fingerprint always hashes the same, whatever order its fields were written in
function canonical(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null)
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, inner]) => inner !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : 1))
  return `{${entries.map(([key, inner]) => `${JSON.stringify(key)}:${canonical(inner)}`).join(',')}}`
}

/** Sort key of a key's record: the key itself is hashed, so its length and bytes do not matter. */
export const idempotencySortKey = (key: string) => `${IDEMPOTENCY_SORT_KEY_PREFIX}${sha256(key)}`

/** The hash of a claim's fingerprint, as the record keeps it. */
export const fingerprintHash = (claim: IdempotencyClaim) => sha256(canonical(claim.fingerprint))

/** The record a create writes for its claim. */
export function idempotencyRecord(
  partitionKey: string,
  claim: IdempotencyClaim,
  credential: CredentialSummary,
  nowSeconds: number,
  ttlSeconds = IDEMPOTENCY_TTL_SECONDS,
): IdempotencyRecordItem {
  return {
    pk: partitionKey,
    sk: idempotencySortKey(claim.key),
    fingerprint: fingerprintHash(claim),
    credential: toSummaryAttributes(credential),
    [IDEMPOTENCY_EXPIRY_ATTRIBUTE]: nowSeconds + ttlSeconds,
  }
}

/**
 * What a stored record means for a claim: the credential to answer again, `mismatch` for another
 * request, or undefined once it has expired (DynamoDB's TTL deletes expired items only eventually).
 */
export function replayOf(
  record: IdempotencyRecordItem | undefined,
  claim: IdempotencyClaim,
  nowSeconds: number,
): CredentialSummary | 'mismatch' | undefined {
  if (!record || record[IDEMPOTENCY_EXPIRY_ATTRIBUTE] <= nowSeconds) return undefined
  if (record.fingerprint !== fingerprintHash(claim)) return 'mismatch'
  return toCredentialSummary(record.credential)
}
