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
import { createMetrics, INTERNAL_OPERATIONS } from '../../shared/runtime/metrics.ts'
import { observedHandler } from '../../shared/runtime/observed-handler.ts'
import { countDependencyFailures, countVerificationResults } from '../../shared/runtime/observed-ports.ts'
import { verificationPorts } from '../../shared/runtime/registry-verification.ts'

const metrics = createMetrics(INTERNAL_OPERATIONS.verifier)

const ports = {
  // counts Verification.<result>, as the verify route used to
  ...countVerificationResults(verificationPorts, metrics),
  // DependencyUnavailable.KMS / .DynamoDB are counted (the KMS alarm reads them) and rethrown
  store: countDependencyFailures(credentialStore, metrics),
  health: countDependencyFailures(credentialHealthStore, metrics),
  opener: countDependencyFailures(createKmsOpener({ kms }), metrics),
  clock: () => new Date(),
}

/**
 * The internal verifier (IAM invoke only): checks one stored credential against its registry
 * and records the outcome on it. The only function that decrypts for verification; the public
 * verify route and the scheduled health checks invoke it with `{company_id,
 * docker_registry_credential_id, image?, platform?, run_id?}`. Answers a report or a typed
 * error, never by throwing, and never with the secret.
 */
async function verifyForCaller(event: unknown): Promise<CredentialVerificationAnswer> {
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

/** {@link verifyForCaller} with the Lambda context in its logs and its metrics flushed. */
export const handler = observedHandler(metrics, verifyForCaller)
