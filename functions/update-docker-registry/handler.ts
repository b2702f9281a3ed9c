import { createDynamoCredentialStore } from '../../shared/adapters/docker-registry-store.ts'
import { createKmsSealer } from '../../shared/adapters/kms-envelope.ts'
import { CredentialPathParameters, UpdateDockerRegistryInput } from '../../shared/domain/docker-registry.ts'
import { updateDockerRegistry } from '../../shared/domain/docker-registry-use-cases.ts'
import { apiHandler } from '../../shared/http/api-handler.ts'
import { json } from '../../shared/http/responses.ts'
import { routes } from '../../shared/http/routes.ts'
import { apiKeys } from '../../shared/runtime/api-keys.ts'
import { dynamo, tableName } from '../../shared/runtime/dynamo.ts'
import { kms, secretsKeyArn } from '../../shared/runtime/kms.ts'

const ports = {
  store: createDynamoCredentialStore({ client: dynamo, tableName }),
  sealer: createKmsSealer({ kms, keyId: secretsKeyArn }),
  clock: () => new Date(),
}

/** `PATCH /v3/docker-registries/{id}` */
export const handler = apiHandler(routes.updateDockerRegistry, {
  schemas: { body: UpdateDockerRegistryInput, path: CredentialPathParameters },
  keys: apiKeys,
}).handler(async (_event, { caller, input }) =>
  json(200, await updateDockerRegistry(ports, caller.companyId, input.path.id, input.body)),
)
