import { createKmsOpener } from '../../shared/adapters/kms-envelope.ts'
import { CredentialPathParameters } from '../../shared/domain/docker-registry.ts'
import { VerifyDockerRegistryQuery, verifyDockerRegistry } from '../../shared/domain/verify-credential.ts'
import { apiHandler } from '../../shared/http/api-handler.ts'
import { json } from '../../shared/http/responses.ts'
import { routes } from '../../shared/http/routes.ts'
import { apiKeys } from '../../shared/runtime/api-keys.ts'
import { credentialStore } from '../../shared/runtime/credential-store.ts'
import { kms } from '../../shared/runtime/kms.ts'
import { verificationPorts } from '../../shared/runtime/registry-verification.ts'

const ports = {
  ...verificationPorts,
  store: credentialStore,
  opener: createKmsOpener({ kms }),
  clock: () => new Date(),
}

/** `POST /v3/docker-registries/{id}/verify` (extension): checks a stored credential against its registry. */
export const handler = apiHandler(routes.verifyDockerRegistry, {
  schemas: { path: CredentialPathParameters, query: VerifyDockerRegistryQuery },
  keys: apiKeys,
}).handler(async (_event, { caller, input }) =>
  json(200, await verifyDockerRegistry(ports, caller.companyId, input.path.id, input.query)),
)
