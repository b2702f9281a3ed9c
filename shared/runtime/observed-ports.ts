import type { Metrics } from '@aws-lambda-powertools/metrics'
import { DependencyUnavailableError } from '../domain/errors.ts'
import type { CredentialStore } from '../domain/ports.ts'
import type { VerificationPorts } from '../domain/verify-credential.ts'
import { count, METRIC } from './metrics.ts'

/**
 * Counts the replays of Idempotency-Keys: a create answered from the record of an earlier request
 * (found before anything ran), or with the credential a concurrent request with the same key
 * stored first (the transaction answered another id than the one this request wrote).
 */
export function countIdempotentReplays(store: CredentialStore, metrics: Metrics): CredentialStore {
  return {
    ...store,
    async findIdempotent(companyId, claim) {
      const answered = await store.findIdempotent(companyId, claim)
      if (answered !== undefined && answered !== 'mismatch') count(metrics, METRIC.idempotentReplay)
      return answered
    },
    async create(credential, options) {
      const stored = await store.create(credential, options)
      if (stored.id !== credential.id) count(metrics, METRIC.idempotentReplay)
      return stored
    },
  }
}

/** Counts every registry check by its result (`Verification.ok`, `Verification.auth_denied`, ...). */
export function countVerificationResults(ports: VerificationPorts, metrics: Metrics): VerificationPorts {
  return {
    ...ports,
    verifier: {
      async verify(input) {
        const result = await ports.verifier.verify(input)
        count(metrics, METRIC.verification(result.status))
        return result
      },
    },
  }
}

/**
 * Counts the failures of a port's async methods that mean an AWS dependency was unavailable
 * (`DependencyUnavailable.KMS`, ...), for ports whose callers turn them into results (resolve).
 * The error still propagates unchanged.
 */
export function countDependencyFailures<Port extends object>(port: Port, metrics: Metrics): Port {
  const counted: Record<string, unknown> = {}
  for (const name of memberNames(port)) {
    const member = (port as Record<string, unknown>)[name]
    counted[name] =
      typeof member === 'function'
        ? async (...args: unknown[]) => {
            try {
              return await member.apply(port, args)
            } catch (error) {
              if (error instanceof DependencyUnavailableError) {
                count(metrics, METRIC.dependencyUnavailable(error.dependency))
              }
              throw error
            }
          }
        : member
  }
  return counted as Port
}

// own members and those of its class (a port may be an object literal or a class instance)
function memberNames(port: object): Set<string> {
  const names = new Set<string>()
  for (
    let current = port;
    current && current !== Object.prototype;
    current = Object.getPrototypeOf(current)
  ) {
    for (const name of Object.getOwnPropertyNames(current)) if (name !== 'constructor') names.add(name)
  }
  return names
}
