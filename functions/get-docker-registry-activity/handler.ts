import { getCredentialActivity } from '../../shared/domain/activity.ts'
import { CredentialPathParameters } from '../../shared/domain/docker-registry.ts'
import { apiHandler } from '../../shared/http/api-handler.ts'
import { json } from '../../shared/http/responses.ts'
import { routes } from '../../shared/http/routes.ts'
import { activityLog } from '../../shared/runtime/activity-log.ts'
import { apiKeys } from '../../shared/runtime/api-keys.ts'
import { credentialStore } from '../../shared/runtime/credential-store.ts'

const ports = { activity: activityLog, store: credentialStore }

/** `GET /v3/docker-registries/{id}/activity` (extension): the last 100 changes and verifications. */
export const handler = apiHandler(routes.getDockerRegistryActivity, {
  schemas: { path: CredentialPathParameters },
  keys: apiKeys,
}).handler(async (_event, { caller, input }) =>
  json(200, await getCredentialActivity(ports, caller.companyId, input.path.id)),
)
