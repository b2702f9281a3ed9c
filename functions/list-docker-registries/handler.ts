import { ListDockerRegistriesQuery } from '../../shared/domain/docker-registry.ts'
import { listDockerRegistries } from '../../shared/domain/docker-registry-use-cases.ts'
import { apiHandler } from '../../shared/http/api-handler.ts'
import { json } from '../../shared/http/responses.ts'
import { routes } from '../../shared/http/routes.ts'
import { apiKeys } from '../../shared/runtime/api-keys.ts'
import { credentialStore } from '../../shared/runtime/credential-store.ts'

const ports = { store: credentialStore }

/** `GET /v3/docker-registries` */
export const handler = apiHandler(routes.listDockerRegistries, {
  schemas: { query: ListDockerRegistriesQuery },
  keys: apiKeys,
}).handler(async (_event, { caller, input }) =>
  json(200, await listDockerRegistries(ports, caller.companyId, input.query)),
)
