import { createKmsOpener } from '../../shared/adapters/kms-envelope.ts'
import type { RegistryProvider } from '../../shared/domain/docker-registry.ts'
import { createResolveAndRecordUse } from '../../shared/domain/record-use.ts'
import {
  invocationIds,
  type ResolveCredentialResult,
  resolveFailure,
} from '../../shared/domain/resolve-credential.ts'
import { describeError } from '../../shared/http/error-response.ts'
import { credentialExchanger, loginCache } from '../../shared/runtime/credential-exchange.ts'
import { credentialHealthStore } from '../../shared/runtime/credential-health.ts'
import { credentialStore } from '../../shared/runtime/credential-store.ts'
import { kms } from '../../shared/runtime/kms.ts'
import { logger } from '../../shared/runtime/logger.ts'
import { count, createMetrics, INTERNAL_OPERATIONS, METRIC } from '../../shared/runtime/metrics.ts'
import { observedHandler } from '../../shared/runtime/observed-handler.ts'
import { countDependencyFailures } from '../../shared/runtime/observed-ports.ts'

const metrics = createMetrics(INTERNAL_OPERATIONS.resolve)

const ports = {
  store: countDependencyFailures(credentialStore, metrics),
  opener: countDependencyFailures(createKmsOpener({ kms }), metrics),
  exchanger: countDependencyFailures(credentialExchanger, metrics),
  // the in-memory login cache makes no AWS call: nothing to count there
  logins: loginCache,
}

// the provider of the credential an invocation looked up, for the per-registry counts: Lambda
// runs one invocation at a time per container, so one variable is enough.
let lookedUpRegistry: RegistryProvider | undefined
const observingPorts = {
  ...ports,
  store: {
    ...ports.store,
    async findSealed(...args: Parameters<typeof ports.store.findSealed>) {
      const credential = await ports.store.findSealed(...args)
      lookedUpRegistry = credential?.registry
      return credential
    },
  },
}

// a resolve that stamps the credential's last use (at most every 10 minutes, never failing or
// slowing the resolve)
const resolve = createResolveAndRecordUse({
  ...observingPorts,
  usage: credentialHealthStore,
  clock: () => new Date(),
  onStampFailure: (reason, error) =>
    logger.warn('last use not stamped', { reason, ...(error ? { error: describeError(error) } : {}) }),
})

/**
 * Resolves a stored credential for one deployment: invoked directly (Lambda Invoke, a Step
 * Functions task, an EventBridge rule target) with `{company_id, docker_registry_credential_id,
 * image}`, it answers with the login or a typed error, never by throwing. The answer holds the
 * password, so neither the event's answer nor an error's cause is ever logged: only ids and codes.
 * A resolved credential's use is stamped (at most every 10 minutes, never failing or slowing the
 * resolve). Only this function's role and the verifier's have kms:Decrypt.
 */
async function resolveForDeployment(event: unknown): Promise<ResolveCredentialResult> {
  const ids = invocationIds(event)
  try {
    const result = await resolve(event)
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

/**
 * {@link resolveForDeployment} with the Lambda context in its logs and its metrics flushed: counts
 * `Resolve.<code>` and `Resolve.<provider>.<code>` (when a credential was found) per invocation,
 * never an id.
 */
export const handler = observedHandler(metrics, async (event: unknown): Promise<ResolveCredentialResult> => {
  lookedUpRegistry = undefined
  const result = await resolveForDeployment(event)
  const code = result.ok ? 'ok' : result.error.code
  count(metrics, METRIC.resolve(code))
  if (lookedUpRegistry) count(metrics, METRIC.resolveByRegistry(lookedUpRegistry, code))
  return result
})
