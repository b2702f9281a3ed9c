import { v7 as uuidv7 } from 'uuid'
import { CreateDockerRegistryInput } from '../../shared/domain/docker-registry.ts'
import { createDockerRegistry } from '../../shared/domain/docker-registry-use-cases.ts'
import { apiHandler } from '../../shared/http/api-handler.ts'
import { json } from '../../shared/http/responses.ts'
import { routes } from '../../shared/http/routes.ts'
import { apiKeys } from '../../shared/runtime/api-keys.ts'
import { credentialStore } from '../../shared/runtime/credential-store.ts'
import { secretSealer } from '../../shared/runtime/secret-sealer.ts'

const ports = {
  store: credentialStore,
  sealer: secretSealer,
  clock: () => new Date(),
  newId: uuidv7,
}

/** `POST /v3/docker-registries` */
export const handler = apiHandler(routes.createDockerRegistry, {
  schemas: { body: CreateDockerRegistryInput },
  keys: apiKeys,
}).handler(async (_event, { caller, input }) =>
  json(201, await createDockerRegistry(ports, caller.companyId, input.body)),
)
