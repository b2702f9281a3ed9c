import * as v from 'valibot'
import type { ActivityEntry, Actor } from './activity.ts'
import { type CredentialHealthStore, lastVerificationOf } from './credential-health.ts'
import { UUID_PATTERN } from './docker-registry.ts'
import {
  CredentialNotFoundError,
  DependencyUnavailableError,
  type InputIssue,
  InvalidInputError,
} from './errors.ts'
import { type VerifyDockerRegistryPorts, verifyDockerRegistry } from './registry-check.ts'
import { ImageParameter, PlatformParameter, type VerificationReport } from './verify-credential.ts'

/**
 * Verification of a stored credential as its own internal function: the only place a secret is
 * decrypted for a verification. The public verify route and the scheduled health checks reach it
 * through the {@link CredentialVerifier} port (Lambda Invoke, IAM-signed), so no function behind
 * API Gateway holds kms:Decrypt (threat: a bug in code that parses untrusted registry answers, or
 * a leaked API key, reaching every company's envelopes).
 */

/** What is asked of the verifier: one credential, optionally an image and a platform. */
export interface CredentialVerificationRequest {
  companyId: string
  credentialId: string
  image?: string | undefined
  platform?: string | undefined
  /** The scheduled run this check belongs to, so the run never checks a credential twice. */
  runId?: string | undefined
  /** The API key that asked (the verify route); absent for scheduled checks. */
  actor?: Actor | undefined
}

/**
 * Verifies a stored credential and records the outcome on it. Throws `CredentialNotFoundError`,
 * `InvalidInputError` (the image or platform) and `DependencyUnavailableError`.
 */
export interface CredentialVerifier {
  verify(request: CredentialVerificationRequest): Promise<VerificationReport>
}

// stored lower-case; the caller may send either case
const uuid = v.pipe(v.string('must be a string'), v.regex(UUID_PATTERN, 'must be a uuid'), v.toLowerCase())
const unknownProperty = (issue: v.StrictObjectIssue) => {
  if (issue.expected === 'never') return 'is not a known property'
  return issue.path ? 'is required' : 'must be a JSON object'
}

/** The invocation event of the internal verifier function. */
export const CredentialVerificationEvent = v.strictObject(
  {
    company_id: uuid,
    docker_registry_credential_id: uuid,
    image: v.optional(ImageParameter),
    platform: v.optional(PlatformParameter),
    actor: v.optional(
      v.strictObject(
        {
          api_key_id: v.pipe(v.string('must be a string'), v.regex(/^[0-9a-f]{64}$/, 'must be a key id')),
          api_key_name: v.pipe(v.string('must be a string'), v.maxLength(255, 'is too long')),
        },
        unknownProperty,
      ),
    ),
    run_id: v.optional(
      v.pipe(
        v.string('must be a string'),
        v.regex(/^[\x21-\x7e]{1,64}$/, 'must be 1 to 64 visible ASCII characters'),
      ),
    ),
  },
  unknownProperty,
)
/** A validated invocation. */
export type CredentialVerificationEvent = v.InferOutput<typeof CredentialVerificationEvent>

/** Why a verification did not run. */
export type CredentialVerificationErrorCode =
  /** the event does not match the schema. */
  | 'invalid_request'
  /** the image or platform cannot be used with this credential; `issues` says why. */
  | 'invalid_input'
  /** no such credential for this company. */
  | 'not_found'
  /** DynamoDB or KMS throttled or could not be reached; retry later. */
  | 'dependency_unavailable'
  /** our fault; details are in the verifier's logs only. */
  | 'internal_error'

/** The verifier function's answer: a report, or why there is none. Never a secret. */
export type CredentialVerificationAnswer =
  | { ok: true; report: VerificationReport }
  | { ok: false; error: { code: CredentialVerificationErrorCode; message: string; issues?: InputIssue[] } }

/** The event that asks the verifier function for a request. */
export function credentialVerificationEvent(
  request: CredentialVerificationRequest,
): CredentialVerificationEvent {
  return {
    company_id: request.companyId,
    docker_registry_credential_id: request.credentialId,
    ...(request.image === undefined ? {} : { image: request.image }),
    ...(request.platform === undefined ? {} : { platform: request.platform }),
    ...(request.runId === undefined ? {} : { run_id: request.runId }),
    ...(request.actor === undefined
      ? {}
      : { actor: { api_key_id: request.actor.apiKeyId, api_key_name: request.actor.apiKeyName } }),
  }
}

/** Ports of {@link verifyStoredCredential}. */
export interface StoredCredentialVerificationPorts extends VerifyDockerRegistryPorts {
  health: CredentialHealthStore
}

const failure = (
  code: CredentialVerificationErrorCode,
  message: string,
  issues?: InputIssue[],
): CredentialVerificationAnswer => ({ ok: false, error: { code, message, ...(issues ? { issues } : {}) } })

/**
 * The verifier function's use case: verifies the credential (host settled before anything is
 * decrypted) and records the outcome as its last verification. Expected failures are answers;
 * anything else is thrown for the handler to log and answer `internal_error`.
 */
export async function verifyStoredCredential(
  ports: StoredCredentialVerificationPorts,
  event: unknown,
): Promise<CredentialVerificationAnswer> {
  const parsed = v.safeParse(CredentialVerificationEvent, event)
  if (!parsed.success) {
    const issues = parsed.issues.map((issue) => ({ path: v.getDotPath(issue) ?? '', message: issue.message }))
    return failure('invalid_request', 'The verification request is invalid', issues)
  }
  const {
    company_id: companyId,
    docker_registry_credential_id: id,
    image,
    platform,
    run_id: runId,
  } = parsed.output
  const actor = parsed.output.actor && {
    apiKeyId: parsed.output.actor.api_key_id,
    apiKeyName: parsed.output.actor.api_key_name,
  }
  try {
    const report = await verifyDockerRegistry(ports, companyId, id, { image, platform })
    // its activity record is written in the same transaction as the verification it records
    const activity: ActivityEntry = {
      at: report.verified_at,
      kind: 'verified',
      ...(actor ? { actor } : {}),
      result: report.result,
      message: report.message,
      ...(report.image ? { image: report.image } : {}),
      source: runId === undefined ? 'api' : 'schedule',
    }
    const recorded = await ports.health.recordVerification(
      companyId,
      id,
      lastVerificationOf(report),
      runId,
      activity,
    )
    // deleted while it was being checked: report nothing about a credential that is gone
    if (!recorded) return failure('not_found', 'No Docker registry credential with this id exists.')
    return { ok: true, report }
  } catch (error) {
    if (error instanceof CredentialNotFoundError) {
      return failure('not_found', 'No Docker registry credential with this id exists.')
    }
    if (error instanceof InvalidInputError)
      return failure('invalid_input', 'The request is invalid', error.issues)
    if (error instanceof DependencyUnavailableError) {
      return failure('dependency_unavailable', 'The credential store is unavailable; retry shortly.')
    }
    throw error
  }
}

/**
 * The report of a verifier answer, or the domain error it stands for: what an adapter of
 * {@link CredentialVerifier} returns or throws.
 */
export function reportOf(answer: CredentialVerificationAnswer, dependency: string): VerificationReport {
  if (answer.ok) return answer.report
  switch (answer.error.code) {
    case 'not_found':
      throw new CredentialNotFoundError()
    case 'invalid_input':
      throw new InvalidInputError(answer.error.issues ?? [])
    case 'dependency_unavailable':
      throw new DependencyUnavailableError(dependency, 1)
    default:
      throw new Error(`the credential verifier failed: ${answer.error.code}`)
  }
}
