import { getCredentialHealth } from '../../shared/domain/credential-health.ts'
import { CredentialPathParameters } from '../../shared/domain/docker-registry.ts'
import { apiHandler } from '../../shared/http/api-handler.ts'
import { json } from '../../shared/http/responses.ts'
import { routes } from '../../shared/http/routes.ts'
import { apiKeys } from '../../shared/runtime/api-keys.ts'
import { credentialHealthStore } from '../../shared/runtime/credential-health.ts'

const ports = { health: credentialHealthStore }

/** `GET /v3/docker-registries/{id}/health` (extension): the last verification and the last use. */
export const handler = apiHandler(routes.getDockerRegistryHealth, {
  schemas: { path: CredentialPathParameters },
  keys: apiKeys,
}).handler(async (_event, { caller, input }) =>
  json(200, await getCredentialHealth(ports, caller.companyId, input.path.id)),
)
