import { v7 as uuidv7 } from 'uuid'
import { CreateDockerRegistryInput } from '../../shared/domain/docker-registry.ts'
import { createDockerRegistry } from '../../shared/domain/docker-registry-use-cases.ts'
import {
  CreateDockerRegistryQuery,
  createVerifiedDockerRegistry,
} from '../../shared/domain/verify-credential.ts'
import { apiHandler } from '../../shared/http/api-handler.ts'
import { json } from '../../shared/http/responses.ts'
import { routes } from '../../shared/http/routes.ts'
import { apiKeys } from '../../shared/runtime/api-keys.ts'
import { credentialStore } from '../../shared/runtime/credential-store.ts'
import { verificationPorts } from '../../shared/runtime/registry-verification.ts'
import { secretSealer } from '../../shared/runtime/secret-sealer.ts'

const ports = {
  ...verificationPorts,
  store: credentialStore,
  sealer: secretSealer,
  clock: () => new Date(),
  newId: uuidv7,
}

/** `POST /v3/docker-registries`, and with `?verify=true` only once the registry accepts the credential. */
export const handler = apiHandler(routes.createDockerRegistry, {
  schemas: { body: CreateDockerRegistryInput, query: CreateDockerRegistryQuery },
  keys: apiKeys,
}).handler(async (_event, { caller, input }) =>
  json(
    201,
    input.query.verify === 'true'
      ? await createVerifiedDockerRegistry(ports, caller.companyId, input.body, input.query.registry_host)
      : await createDockerRegistry(ports, caller.companyId, input.body),
  ),
)
