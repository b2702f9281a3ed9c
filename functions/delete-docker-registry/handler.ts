import { CredentialPathParameters } from '../../shared/domain/docker-registry.ts'
import { deleteDockerRegistry } from '../../shared/domain/docker-registry-use-cases.ts'
import { apiHandler, EARLY_TIMEOUT_MS } from '../../shared/http/api-handler.ts'
import { json } from '../../shared/http/responses.ts'
import { routes } from '../../shared/http/routes.ts'
import { apiKeys } from '../../shared/runtime/api-keys.ts'
import { credentialStore } from '../../shared/runtime/credential-store.ts'

const ports = { store: credentialStore }

/** `DELETE /v3/docker-registries/{id}` */
export const handler = apiHandler(routes.deleteDockerRegistry, {
  schemas: { path: CredentialPathParameters },
  keys: apiKeys,
}).handler(async (_event, context) => {
  await deleteDockerRegistry(
    ports,
    context.caller.companyId,
    context.input.path.id,
    { remainingMs: () => context.getRemainingTimeInMillis() - EARLY_TIMEOUT_MS },
    { apiKeyId: context.caller.keyId, apiKeyName: context.caller.keyName },
  )
  return json(200, { message: 'Docker registry credential deleted' })
})
