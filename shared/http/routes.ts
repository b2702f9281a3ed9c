import type { Permission } from '../domain/api-key.ts'

/** What a function may do with the secrets key; nothing public ever gets `decrypt`. */
export type SecretsKeyAccess = 'none' | 'seal' | 'open'

/** One HTTP operation: the single source of truth the CDK app and the local server both read. */
export interface Route {
  operationId: string
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE'
  /** API Gateway resource path, with `{param}` placeholders. */
  path: string
  /** Folder under `functions/` holding the handler. */
  functionName: string
  /** Permission the API key needs; `null` for unauthenticated documents. */
  permission: Permission | null
  /** Whether the operation takes a JSON body (body limit and parser apply). */
  hasBody: boolean
  /**
   * DynamoDB actions on the items of `COMPANY#…` partitions (credentials, the company's count,
   * Idempotency-Key records). A TransactWriteItems is authorised per item by these actions.
   */
  credentialActions: readonly string[]
  secretsKey: SecretsKeyAccess
  /** Whether the operation honours `Idempotency-Key` (its records live in the company's partition). */
  idempotent?: boolean
  /** Whether the function is told the ARNs of the roles that assume customers' roles (`ASSUMING_ROLE_ARNS`). */
  namesAssumingRoles?: boolean
  /** Whether the function assumes customers' IAM roles (`ecr` credentials by role). */
  assumesCustomerRoles?: boolean
}

const COLLECTION = '/v3/docker-registries'
const ITEM = '/v3/docker-registries/{id}'

/** Every route of the public API. */
export const routes = {
  createDockerRegistry: {
    operationId: 'createDockerRegistryV3',
    method: 'POST',
    path: COLLECTION,
    functionName: 'create-docker-registry',
    permission: 'docker_registries:write',
    hasBody: true,
    // one transaction: the credential and the Idempotency-Key record (Put), the count (Update);
    // GetItem replays a key, Query counts a company that has no count item yet
    credentialActions: ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:GetItem', 'dynamodb:Query'],
    secretsKey: 'seal',
    idempotent: true,
  },
  listDockerRegistries: {
    operationId: 'listDockerRegistriesV3',
    method: 'GET',
    path: COLLECTION,
    functionName: 'list-docker-registries',
    permission: 'docker_registries:read',
    hasBody: false,
    credentialActions: ['dynamodb:Query'],
    secretsKey: 'none',
  },
  getDockerRegistry: {
    operationId: 'getDockerRegistryV3',
    method: 'GET',
    path: ITEM,
    functionName: 'get-docker-registry',
    permission: 'docker_registries:read',
    hasBody: false,
    credentialActions: ['dynamodb:GetItem'],
    secretsKey: 'none',
  },
  updateDockerRegistry: {
    operationId: 'updateDockerRegistryV3',
    method: 'PATCH',
    path: ITEM,
    functionName: 'update-docker-registry',
    permission: 'docker_registries:write',
    hasBody: true,
    credentialActions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
    secretsKey: 'seal',
  },
  deleteDockerRegistry: {
    operationId: 'deleteDockerRegistryV3',
    method: 'DELETE',
    path: ITEM,
    functionName: 'delete-docker-registry',
    permission: 'docker_registries:write',
    hasBody: false,
    // one transaction with the count (Update); Query counts a company without a count item
    credentialActions: ['dynamodb:DeleteItem', 'dynamodb:UpdateItem', 'dynamodb:Query'],
    secretsKey: 'none',
  },
  verifyDockerRegistry: {
    operationId: 'verifyDockerRegistry',
    method: 'POST',
    path: '/v3/docker-registries/{id}/verify',
    functionName: 'verify-docker-registry',
    permission: 'docker_registries:write',
    hasBody: false,
    credentialActions: ['dynamodb:GetItem'],
    // the one public route that decrypts: it must present the secret to the registry
    secretsKey: 'open',
    // an ecr credential by role is checked by assuming it, as resolve does
    assumesCustomerRoles: true,
  },
  getExternalId: {
    operationId: 'getDockerRegistryExternalId',
    method: 'GET',
    // a fixed segment beside {id}: API Gateway (and the local gateway) match it first
    path: '/v3/docker-registries/external-id',
    functionName: 'get-external-id',
    permission: 'docker_registries:read',
    hasBody: false,
    credentialActions: [],
    secretsKey: 'none',
    namesAssumingRoles: true,
  },
  getOpenApiDocument: {
    operationId: 'getOpenApiDocument',
    method: 'GET',
    path: '/v3/openapi.json',
    functionName: 'get-openapi-document',
    permission: null,
    hasBody: false,
    credentialActions: [],
    secretsKey: 'none',
  },
} as const satisfies Record<string, Route>

/** The routes as a list, in a stable order. */
export const routeList: readonly Route[] = Object.values(routes)
