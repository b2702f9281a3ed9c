import type { Metrics } from '@aws-lambda-powertools/metrics'
import { DependencyUnavailableError } from '../domain/errors.ts'
import type { IdempotencyGuard } from '../domain/ports.ts'
import type { VerificationPorts } from '../domain/verify-credential.ts'
import { count, METRIC } from './metrics.ts'

/**
 * Counts the replays of an idempotency guard: a call whose operation never ran was answered
 * from the stored record of an earlier request.
 */
export function countIdempotentReplays(guard: IdempotencyGuard, metrics: Metrics): IdempotencyGuard {
  return {
    async once(request, operation, remainingMs) {
      let ran = false
      const result = await guard.once(
        request,
        () => {
          ran = true
          return operation()
        },
        remainingMs,
      )
      if (!ran) count(metrics, METRIC.idempotentReplay)
      return result
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
