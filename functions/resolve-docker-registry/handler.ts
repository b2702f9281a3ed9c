import { createKmsOpener } from '../../shared/adapters/kms-envelope.ts'
import {
  invocationIds,
  type ResolveCredentialResult,
  resolveCredential,
  resolveFailure,
} from '../../shared/domain/resolve-credential.ts'
import { describeError } from '../../shared/http/error-response.ts'
import { credentialExchanger, loginCache } from '../../shared/runtime/credential-exchange.ts'
import { credentialStore } from '../../shared/runtime/credential-store.ts'
import { kms } from '../../shared/runtime/kms.ts'
import { logger } from '../../shared/runtime/logger.ts'

const ports = {
  store: credentialStore,
  opener: createKmsOpener({ kms }),
  exchanger: credentialExchanger,
  logins: loginCache,
}

/**
 * Resolves a stored credential for one deployment: invoked directly (Lambda Invoke, a Step
 * Functions task, an EventBridge rule target) with `{company_id, docker_registry_credential_id,
 * image}`, it answers with the login or a typed error, never by throwing. The answer holds the
 * password, so neither the event's answer nor an error's cause is ever logged: only ids and codes.
 * Only this function's role has kms:Decrypt.
 */
export async function handler(event: unknown): Promise<ResolveCredentialResult> {
  const ids = invocationIds(event)
  try {
    const result = await resolveCredential(ports, event)
    if (result.ok) logger.info('credential resolved', { ...ids, registryHost: result.registry_host })
    else logger.warn('credential not resolved', { ...ids, code: result.error.code })
    return result
  } catch (error) {
    // unexpected: a KMS key that refuses us, a tampered envelope, a bug. describeError keeps the
    // name, message and stack; none of our errors puts a secret in those.
    logger.error('credential resolution failed', {
      ...ids,
      code: 'internal_error',
      error: describeError(error),
    })
    return resolveFailure('internal_error', 'The credential could not be resolved; see the service logs.')
  }
}
