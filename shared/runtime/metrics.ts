import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics'

/** Namespace of the functions' metrics unless `POWERTOOLS_METRICS_NAMESPACE` says otherwise. */
export const DEFAULT_METRICS_NAMESPACE = 'RegistryCredentials'

/**
 * Names of the metrics the functions emit. Every metric has the dimensions `service` and
 * `operation` and no other: never a company, key, username or anything secret (cost and
 * privacy). What varies within an operation (an error code, a verification result, a provider)
 * is part of the name, and every such part comes from a closed set of our own codes.
 */
export const METRIC = {
  /** The first invocation of a Lambda container (on-demand, as Powertools decides it). */
  coldStart: 'ColdStart',
  /** An API operation answered 2xx. */
  success: 'Success',
  /** An API operation answered an error with this `data.code`. */
  error: (code: string) => `Error.${safeName(code)}`,
  /** A create refused because the company holds as many credentials as its limit allows. */
  limitRefused: 'LimitRefused',
  /** A create answered from its `Idempotency-Key` record instead of creating again. */
  idempotentReplay: 'IdempotentReplay',
  /** A registry check ended with this result (`ok`, `auth_denied`, ...). */
  verification: (status: string) => `Verification.${safeName(status)}`,
  /** A resolve ended with this code (`ok` on success). */
  resolve: (code: string) => `Resolve.${safeName(code)}`,
  /** A resolve of a credential of this provider ended with this code. */
  resolveByRegistry: (registry: string, code: string) => `Resolve.${safeName(registry)}.${safeName(code)}`,
  /** An AWS dependency (KMS, DynamoDB, EventBridge, ECR) throttled or failed after the SDK's retries. */
  dependencyUnavailable: (dependency: string) => `DependencyUnavailable.${safeName(dependency)}`,
  /** Change events put on the bus. */
  eventsPublished: 'EventsPublished',
  /** Stream records handed back for a retry because their event was not published. */
  eventsNotPublished: 'EventsNotPublished',
} as const

/** The `operation` dimension of the internal functions (the API's is the route's operationId). */
export const INTERNAL_OPERATIONS = {
  resolve: 'resolveDockerRegistry',
  publish: 'publishCredentialEvents',
  verifier: 'credentialVerifier',
  healthCheck: 'healthCheck',
} as const

/** `data.code` of issue 7's per-company credential limit. */
export const LIMIT_REFUSED_CODE = 'credential_limit_reached'

// a name part is one of our own codes; anything else would be a bug, and is never echoed
function safeName(part: string): string {
  return /^[A-Za-z][A-Za-z0-9_]{0,63}$/.test(part) ? part : 'unknown'
}

/**
 * Powertools `Metrics` that count `ColdStart` in the invocation's own EMF document:
 * {@link FunctionMetrics.countColdStart}.
 */
export class FunctionMetrics extends Metrics {
  /**
   * Counts `ColdStart` on the first invocation of a container. What Powertools'
   * `captureColdStartMetric()` records (the same metric, namespace and dimensions, by the same
   * rule: once, on an on-demand container), without the second `Metrics` instance it builds and
   * flushes as a separate document on that invocation: a cold start is the one invocation that
   * pays for every first use.
   */
  countColdStart(): void {
    if (this.getColdStart()) count(this, METRIC.coldStart)
  }
}

/**
 * The metrics of one function: EMF on stdout, namespace from `POWERTOOLS_METRICS_NAMESPACE`,
 * `service` from `POWERTOOLS_SERVICE_NAME`, and the operation as the only other dimension. One
 * instance per function module, so the local stack (all functions in one process) keeps each
 * operation's metrics apart, as Lambda does.
 */
export function createMetrics(operation: string): FunctionMetrics {
  return new FunctionMetrics({
    namespace: process.env.POWERTOOLS_METRICS_NAMESPACE || DEFAULT_METRICS_NAMESPACE,
    serviceName: process.env.POWERTOOLS_SERVICE_NAME || 'registry-credentials',
    defaultDimensions: { operation },
  })
}

/** Adds one to a count metric. */
export function count(metrics: Metrics, name: string, value = 1): void {
  metrics.addMetric(name, MetricUnit.Count, value)
}
