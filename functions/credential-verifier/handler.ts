import { createKmsOpener } from '../../shared/adapters/kms-envelope.ts'
import {
  type CredentialVerificationAnswer,
  verifyStoredCredential,
} from '../../shared/domain/credential-verification.ts'
import { invocationIds } from '../../shared/domain/resolve-credential.ts'
import { describeError } from '../../shared/http/error-response.ts'
import { credentialHealthStore } from '../../shared/runtime/credential-health.ts'
import { credentialStore } from '../../shared/runtime/credential-store.ts'
import { kms } from '../../shared/runtime/kms.ts'
import { logger } from '../../shared/runtime/logger.ts'
import { verificationPorts } from '../../shared/runtime/registry-verification.ts'

const ports = {
  ...verificationPorts,
  store: credentialStore,
  health: credentialHealthStore,
  opener: createKmsOpener({ kms }),
  clock: () => new Date(),
}

/**
 * The internal verifier (IAM invoke only): checks one stored credential against its registry
 * and records the outcome on it. The only function that decrypts for verification; the public
 * verify route and the scheduled health checks invoke it with `{company_id,
 * docker_registry_credential_id, image?, platform?, run_id?}`. Answers a report or a typed
 * error, never by throwing, and never with the secret.
 */
export async function handler(event: unknown): Promise<CredentialVerificationAnswer> {
  const ids = invocationIds(event)
  try {
    const answer = await verifyStoredCredential(ports, event)
    if (answer.ok) logger.info('credential verified', { ...ids, result: answer.report.result })
    else logger.warn('credential not verified', { ...ids, code: answer.error.code })
    return answer
  } catch (error) {
    logger.error('credential verification failed', {
      ...ids,
      code: 'internal_error',
      error: describeError(error),
    })
    return { ok: false, error: { code: 'internal_error', message: 'The credential could not be verified.' } }
  }
}
