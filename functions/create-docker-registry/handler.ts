import { v7 as uuidv7 } from 'uuid'
import { CreateDockerRegistryHeaders, handleCreateRequest } from '../../shared/domain/create-request.ts'
import { CreateDockerRegistryInput } from '../../shared/domain/docker-registry.ts'
import { CreateDockerRegistryQuery } from '../../shared/domain/verify-credential.ts'
import { apiHandler, EARLY_TIMEOUT_MS } from '../../shared/http/api-handler.ts'
import { json } from '../../shared/http/responses.ts'
import { routes } from '../../shared/http/routes.ts'
import { apiKeys } from '../../shared/runtime/api-keys.ts'
import { credentialLimit } from '../../shared/runtime/credential-limit.ts'
import { credentialStore } from '../../shared/runtime/credential-store.ts'
import { createMetrics } from '../../shared/runtime/metrics.ts'
import { countIdempotentReplays } from '../../shared/runtime/observed-ports.ts'
import { secretSealer } from '../../shared/runtime/secret-sealer.ts'
import { lazyVerifiedCreate } from '../../shared/runtime/verified-create.ts'

const metrics = createMetrics(routes.createDockerRegistry.operationId)

const createPorts = {
  store: countIdempotentReplays(credentialStore, metrics),
  sealer: secretSealer,
  credentialLimit,
  clock: () => new Date(),
  newId: uuidv7,
}
// ?verify=true's check loads on the first such request
const ports = { ...createPorts, createVerified: lazyVerifiedCreate(createPorts, metrics) }

/** `POST /v3/docker-registries` (`?verify=true` and `Idempotency-Key` are extensions). */
export const handler = apiHandler(routes.createDockerRegistry, {
  schemas: {
    body: CreateDockerRegistryInput,
    query: CreateDockerRegistryQuery,
    headers: CreateDockerRegistryHeaders,
  },
  keys: apiKeys,
  metrics,
}).handler(async (_event, context) =>
  json(
    201,
    await handleCreateRequest(
      ports,
      context.caller.companyId,
      context.input.body,
      context.input.query,
      {
        key: context.input.headers['idempotency-key'],
        remainingMs: () => context.getRemainingTimeInMillis() - EARLY_TIMEOUT_MS,
      },
      { apiKeyId: context.caller.keyId, apiKeyName: context.caller.keyName },
    ),
  ),
)
