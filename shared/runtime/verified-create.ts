import type { Metrics } from '@aws-lambda-powertools/metrics'
import type { VerifiedCreate } from '../domain/create-request.ts'
import type { CreateDockerRegistryPorts } from '../domain/docker-registry-use-cases.ts'
import { loadOnFirstUse } from './load-on-first-use.ts'
import { countVerificationResults } from './observed-ports.ts'

/**
 * Create's `?verify=true` for a container: the registry check, the credential exchanges and the
 * verifier are loaded on the first such request (dynamic imports), not at every cold start of
 * create. Each check is counted by its result.
 */
export function lazyVerifiedCreate(ports: CreateDockerRegistryPorts, metrics: Metrics): VerifiedCreate {
  const loaded = loadOnFirstUse(async (): Promise<VerifiedCreate> => {
    const [{ createVerifiedDockerRegistry }, { verificationPorts }] = await Promise.all([
      import('../domain/registry-check.ts'),
      import('./registry-verification.ts'),
    ])
    const verifying = { ...ports, ...countVerificationResults(verificationPorts, metrics) }
    return (...args) => createVerifiedDockerRegistry(verifying, ...args)
  })
  return async (...args) => (await loaded())(...args)
}
