import { CredentialPathParameters } from '../../shared/domain/docker-registry.ts'
import { VerifyDockerRegistryQuery } from '../../shared/domain/verify-credential.ts'
import { apiHandler } from '../../shared/http/api-handler.ts'
import { json } from '../../shared/http/responses.ts'
import { routes } from '../../shared/http/routes.ts'
import { apiKeys } from '../../shared/runtime/api-keys.ts'
import { credentialVerifier } from '../../shared/runtime/credential-verifier.ts'
import { createMetrics } from '../../shared/runtime/metrics.ts'

// the verification results are counted by the internal verifier, which makes the checks
const metrics = createMetrics(routes.verifyDockerRegistry.operationId)

/**
 * `POST /v3/docker-registries/{id}/verify` (extension): has the internal verifier check a stored
 * credential against its registry. This function has no kms:Decrypt and never sees the secret:
 * it authenticates the caller and invokes the verifier with the caller's company.
 */
export const handler = apiHandler(routes.verifyDockerRegistry, {
  schemas: { path: CredentialPathParameters, query: VerifyDockerRegistryQuery },
  keys: apiKeys,
  metrics,
}).handler(async (_event, { caller, input }) =>
  json(
    200,
    await credentialVerifier.verify({
      companyId: caller.companyId,
      credentialId: input.path.id,
      image: input.query.image,
      platform: input.query.platform,
      actor: { apiKeyId: caller.keyId, apiKeyName: caller.keyName },
    }),
  ),
)
