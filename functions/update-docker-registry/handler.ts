import { CredentialPathParameters, UpdateDockerRegistryInput } from '../../shared/domain/docker-registry.ts'
import { updateDockerRegistry } from '../../shared/domain/docker-registry-use-cases.ts'
import { UpdateDockerRegistryQuery } from '../../shared/domain/verify-credential.ts'
import { apiHandler, EARLY_TIMEOUT_MS } from '../../shared/http/api-handler.ts'
import { json } from '../../shared/http/responses.ts'
import { routes } from '../../shared/http/routes.ts'
import { apiKeys } from '../../shared/runtime/api-keys.ts'
import { credentialStore } from '../../shared/runtime/credential-store.ts'
import { secretSealer } from '../../shared/runtime/secret-sealer.ts'

const ports = {
  store: credentialStore,
  sealer: secretSealer,
  clock: () => new Date(),
}

/** `PATCH /v3/docker-registries/{id}` */
export const handler = apiHandler(routes.updateDockerRegistry, {
  schemas: {
    body: UpdateDockerRegistryInput,
    path: CredentialPathParameters,
    query: UpdateDockerRegistryQuery,
  },
  keys: apiKeys,
}).handler(async (_event, context) =>
  json(
    200,
    await updateDockerRegistry(
      ports,
      context.caller.companyId,
      context.input.path.id,
      context.input.body,
      { remainingMs: () => context.getRemainingTimeInMillis() - EARLY_TIMEOUT_MS },
      { apiKeyId: context.caller.keyId, apiKeyName: context.caller.keyName },
    ),
  ),
)
