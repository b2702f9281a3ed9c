import * as v from 'valibot'
import { UUID_PATTERN } from './docker-registry.ts'
import { CredentialNotFoundError } from './errors.ts'
import type { CredentialStore } from './ports.ts'
import { VERIFICATION_STATUSES, type VerificationStatus } from './verify-credential.ts'

/**
 * The audit trail of a credential: who changed what and when, and every verification, each
 * record written in the same transaction as what it records (no change without its record),
 * kept 90 days, and kept after the credential is deleted.
 */

/** Who did something: an API key, by id (its hash) and name, never the key itself. */
export interface Actor {
  apiKeyId: string
  apiKeyName: string
}

/** A change of a credential, as its record and its change event describe it. */
export interface ChangeRecord {
  actor: Actor
  /** The fields written (`name`, `registry`, `username`, `secret`). */
  changedFields: string[]
  /** Whether a new secret was stored. */
  secretRotated: boolean
}

/** What an activity record records. */
export type ActivityKind = 'created' | 'updated' | 'deleted' | 'verified'

/** One activity record. */
export interface ActivityEntry {
  at: string
  kind: ActivityKind
  /** Absent for what no API key did (a scheduled health check). */
  actor?: Actor
  changedFields?: string[]
  secretRotated?: boolean
  result?: VerificationStatus
  message?: string
  image?: string
  /** What started a verification. */
  source?: 'api' | 'schedule'
}

/** How long activity records are kept (a TTL on each). */
export const ACTIVITY_RETENTION_DAYS = 90

/** How many records the activity route answers, newest first. */
export const ACTIVITY_LIMIT = 100

/** Reads a credential's activity. */
export interface ActivityLog {
  /** The newest `limit` records of one credential of the company, newest first. */
  list(companyId: string, credentialId: string, limit: number): Promise<ActivityEntry[]>
}

/** `GET /v3/docker-registries/{id}/activity` (extension). */
export const ActivityReport = v.strictObject({
  id: v.pipe(v.string(), v.regex(UUID_PATTERN), v.description('The credential')),
  data: v.pipe(
    v.array(
      v.strictObject({
        at: v.pipe(v.string(), v.isoTimestamp(), v.description('When, ISO 8601 UTC')),
        kind: v.pipe(
          v.picklist(['created', 'updated', 'deleted', 'verified']),
          v.description('What happened'),
        ),
        actor: v.pipe(
          v.nullable(
            v.strictObject({
              api_key_id: v.pipe(
                v.string(),
                v.description("The API key's id (the SHA-256 of the key, never the key)"),
              ),
              api_key_name: v.pipe(v.string(), v.description("The API key's name")),
            }),
          ),
          v.description('Who: the API key; null for the scheduled health checks'),
        ),
        changed_fields: v.optional(
          v.pipe(v.array(v.string()), v.description('For changes: the fields written')),
        ),
        secret_rotated: v.optional(
          v.pipe(v.boolean(), v.description('For changes: whether a new secret was stored')),
        ),
        result: v.optional(
          v.pipe(v.picklist(VERIFICATION_STATUSES), v.description('For verifications: the result')),
        ),
        message: v.optional(
          v.pipe(v.string(), v.description('For verifications: what happened; never the secret')),
        ),
        image: v.optional(v.pipe(v.string(), v.description('For verifications: the image checked, if any'))),
        source: v.optional(
          v.pipe(v.picklist(['api', 'schedule']), v.description('For verifications: on demand or scheduled')),
        ),
      }),
    ),
    v.description(`The newest ${ACTIVITY_LIMIT} records, newest first, kept ${ACTIVITY_RETENTION_DAYS} days`),
  ),
})
/** An activity report. */
export type ActivityReport = v.InferOutput<typeof ActivityReport>

/**
 * A credential's activity. A deleted credential's records are still answered until they expire;
 * a credential that neither exists nor has records is not found (also another company's: its
 * records live under that company only).
 */
export async function getCredentialActivity(
  ports: { activity: ActivityLog; store: Pick<CredentialStore, 'find'> },
  companyId: string,
  id: string,
): Promise<ActivityReport> {
  const entries = await ports.activity.list(companyId, id, ACTIVITY_LIMIT)
  if (entries.length === 0 && !(await ports.store.find(companyId, id))) throw new CredentialNotFoundError()
  return {
    id,
    data: entries.map((entry) => ({
      at: entry.at,
      kind: entry.kind,
      actor: entry.actor ? { api_key_id: entry.actor.apiKeyId, api_key_name: entry.actor.apiKeyName } : null,
      ...(entry.changedFields ? { changed_fields: entry.changedFields } : {}),
      ...(entry.secretRotated !== undefined ? { secret_rotated: entry.secretRotated } : {}),
      ...(entry.result ? { result: entry.result } : {}),
      ...(entry.message !== undefined ? { message: entry.message } : {}),
      ...(entry.image ? { image: entry.image } : {}),
      ...(entry.source ? { source: entry.source } : {}),
    })),
  }
}
