import { describeExternalIdentity } from '../../shared/domain/external-identity.ts'
import { apiHandler } from '../../shared/http/api-handler.ts'
import { json } from '../../shared/http/responses.ts'
import { routes } from '../../shared/http/routes.ts'
import { apiKeys } from '../../shared/runtime/api-keys.ts'
import { requiredEnv } from '../../shared/runtime/config.ts'

// the ARNs of this service's roles that assume customers' roles (resolve, verify), set by the stack
const principals = requiredEnv('ASSUMING_ROLE_ARNS').split(',')

/** `GET /v3/docker-registries/external-id` (extension): the company's ExternalId and trust policy. */
export const handler = apiHandler(routes.getExternalId, { schemas: {}, keys: apiKeys }).handler(
  async (_event, { caller }) => json(200, describeExternalIdentity(caller.companyId, principals)),
)
