import { CredentialPathParameters } from '../../shared/domain/docker-registry.ts'
import { deleteDockerRegistry } from '../../shared/domain/docker-registry-use-cases.ts'
import { apiHandler } from '../../shared/http/api-handler.ts'
import { json } from '../../shared/http/responses.ts'
import { routes } from '../../shared/http/routes.ts'
import { apiKeys } from '../../shared/runtime/api-keys.ts'
import { credentialStore } from '../../shared/runtime/credential-store.ts'

const ports = { store: credentialStore }

/** `DELETE /v3/docker-registries/{id}` */
export const handler = apiHandler(routes.deleteDockerRegistry, {
  schemas: { path: CredentialPathParameters },
  keys: apiKeys,
}).handler(async (_event, { caller, input }) => {
  await deleteDockerRegistry(ports, caller.companyId, input.path.id)
  return json(200, { message: 'Docker registry credential deleted' })
})
