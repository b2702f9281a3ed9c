import { CredentialPathParameters } from '../../shared/domain/docker-registry.ts'
import { getDockerRegistry } from '../../shared/domain/docker-registry-use-cases.ts'
import { apiHandler } from '../../shared/http/api-handler.ts'
import { json } from '../../shared/http/responses.ts'
import { routes } from '../../shared/http/routes.ts'
import { apiKeys } from '../../shared/runtime/api-keys.ts'
import { credentialStore } from '../../shared/runtime/credential-store.ts'

const ports = { store: credentialStore }

/** `GET /v3/docker-registries/{id}` */
export const handler = apiHandler(routes.getDockerRegistry, {
  schemas: { path: CredentialPathParameters },
  keys: apiKeys,
}).handler(async (_event, { caller, input }) =>
  json(200, await getDockerRegistry(ports, caller.companyId, input.path.id)),
)
