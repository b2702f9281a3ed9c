import * as v from 'valibot'
import type { ActivityEntry } from './activity.ts'
import { REGISTRY_PROVIDERS, UUID_PATTERN } from './docker-registry.ts'
import { CredentialNotFoundError } from './errors.ts'
import type { CredentialSummary } from './ports.ts'
import { credentialHost } from './registry-host.ts'
import {
  VERIFICATION_STATUSES,
  type VerificationReport,
  type VerificationStatus,
} from './verify-credential.ts'

/**
 * What the service knows about a credential besides its fields: its last verification (on
 * demand or scheduled) and its last use by a resolve. Kept as plain attributes of the
 * credential's item, apart from the envelope, and never part of the Sevalla contract's answers.
 */

/** The last verification of a credential, as stored. */
export interface LastVerification {
  result: VerificationStatus
  message: string
  verifiedAt: string
  /** The image checked (`host/repository:tag`), when one was. */
  image?: string
  platform?: string
}

/** The last use of a credential by a resolve (stamped at most every {@link USE_STAMP_INTERVAL_MS}). */
export interface LastUse {
  usedAt: string
  /** The registry host of the image it was resolved for. */
  imageHost: string
}

/** A credential with what is known about its health. */
export interface CredentialWithHealth extends CredentialSummary {
  lastVerification?: LastVerification
  lastUse?: LastUse
}

/** Persistence of the health attributes on credential items; never touches fields or envelope. */
export interface CredentialHealthStore {
  /**
   * Stores a verification on the credential, unless a later one is already stored. False when
   * the credential does not exist (a verification never recreates a deleted credential).
   * `runId` marks it as done by that scheduled run, so the run never checks it twice.
   */
  recordVerification(
    companyId: string,
    id: string,
    verification: LastVerification,
    runId?: string,
    /** Its activity record, written in the same transaction (no verification without it). */
    activity?: ActivityEntry,
  ): Promise<boolean>
  /**
   * Stamps the last use, only when the stored one is older than `staleBefore` (a conditional
   * write: at most one stamp per credential per interval, whatever the number of resolves).
   * True when it stamped.
   */
  recordUse(companyId: string, id: string, use: LastUse, staleBefore: string): Promise<boolean>
  /** The credential with its health attributes, without its envelope, or undefined. */
  findWithHealth(companyId: string, id: string): Promise<CredentialWithHealth | undefined>
}

/** Results after which a credential is healthy: a pull with it will work. */
export const HEALTHY_RESULTS: ReadonlySet<VerificationStatus> = new Set(['ok', 'anonymous'])

/** Whether a verification result means the credential works. */
export function isHealthy(result: VerificationStatus): boolean {
  return HEALTHY_RESULTS.has(result)
}

/** The stored form of a verification report. */
export function lastVerificationOf(report: VerificationReport): LastVerification {
  return {
    result: report.result,
    message: report.message,
    verifiedAt: report.verified_at,
    ...(report.image ? { image: report.image } : {}),
    ...(report.platform ? { platform: report.platform } : {}),
  }
}

const timestamp = (description: string) => v.pipe(v.string(), v.isoTimestamp(), v.description(description))

/** `GET /v3/docker-registries/{id}/health` (extension). */
export const CredentialHealthReport = v.strictObject({
  id: v.pipe(v.string(), v.regex(UUID_PATTERN), v.description('The credential')),
  registry: v.pipe(v.picklist(REGISTRY_PROVIDERS), v.description("The credential's provider")),
  registry_host: v.pipe(
    v.nullable(v.string()),
    v.description(
      'The host it is verified against (pinned, else the provider default); null when it has none',
    ),
  ),
  healthy: v.pipe(
    v.nullable(v.boolean()),
    v.description('Whether the last verification found it working (`ok` or `anonymous`); null before any'),
  ),
  last_verification: v.pipe(
    v.nullable(
      v.strictObject({
        result: v.pipe(v.picklist(VERIFICATION_STATUSES), v.description('As in the verify report')),
        message: v.pipe(v.string(), v.description('What happened, safe to show; never the secret')),
        verified_at: timestamp('When it ran, ISO 8601 UTC'),
        image: v.optional(v.pipe(v.string(), v.description('The image checked, if any'))),
        platform: v.optional(v.pipe(v.string(), v.description('The platform required, if any'))),
      }),
    ),
    v.description('The last verification, on demand or scheduled; null before any'),
  ),
  last_used_at: v.pipe(
    v.nullable(v.pipe(v.string(), v.isoTimestamp())),
    v.description('When a deployment last resolved it (to within 10 minutes); null if never'),
  ),
  last_used_image_host: v.pipe(
    v.nullable(v.string()),
    v.description('The registry host of the image it was last resolved for; null if never'),
  ),
})
/** A health report. */
export type CredentialHealthReport = v.InferOutput<typeof CredentialHealthReport>

/** Reads a credential's health report. Throws `CredentialNotFoundError`. */
export async function getCredentialHealth(
  ports: { health: CredentialHealthStore },
  companyId: string,
  id: string,
): Promise<CredentialHealthReport> {
  const credential = await ports.health.findWithHealth(companyId, id)
  if (!credential) throw new CredentialNotFoundError()
  const last = credential.lastVerification
  return {
    id: credential.id,
    registry: credential.registry,
    registry_host: credentialHost(credential.registry, credential.registryHost) ?? null,
    healthy: last ? isHealthy(last.result) : null,
    last_verification: last
      ? {
          result: last.result,
          message: last.message,
          verified_at: last.verifiedAt,
          ...(last.image ? { image: last.image } : {}),
          ...(last.platform ? { platform: last.platform } : {}),
        }
      : null,
    last_used_at: credential.lastUse?.usedAt ?? null,
    last_used_image_host: credential.lastUse?.imageHost ?? null,
  }
}
