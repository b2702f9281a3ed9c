import type { Permission } from '../domain/api-key.ts'

/** What a function may do with the secrets key; only internal functions may `open`. */
export type SecretsKeyAccess = 'none' | 'seal' | 'open'

/** What a public route's function may do with the secrets key: never decrypt. */
export type PublicSecretsKeyAccess = Exclude<SecretsKeyAccess, 'open'>

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
  /**
   * Never `open`: no function behind API Gateway may decrypt (threat: a leaked API key or a bug in
   * a public function reaching every company's secrets); the type makes it a compile error.
   */
  secretsKey: PublicSecretsKeyAccess
  /** Whether the operation honours `Idempotency-Key` (its records live in the company's partition). */
  idempotent?: boolean
  /** Internal functions (by folder name) the operation invokes with Lambda Invoke. */
  invokes?: readonly string[]
  /** Whether the function is told the ARNs of the roles that assume customers' roles (`ASSUMING_ROLE_ARNS`). */
  namesAssumingRoles?: boolean
  /** Whether the function assumes customers' IAM roles (`ecr` credentials by role). */
  assumesCustomerRoles?: boolean
  /** DynamoDB actions on activity records (`ACTIVITY#…` partitions). */
  activityActions?: readonly string[]
}

/**
 * The internal function that verifies stored credentials: the only one that decrypts for a
 * verification. The verify route and the scheduled health checks invoke it.
 */
export const CREDENTIAL_VERIFIER_FUNCTION_NAME = 'credential-verifier'

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
    // its activity record, in the same transaction
    activityActions: ['dynamodb:PutItem'],
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
    // the update's activity record, in the same transaction
    activityActions: ['dynamodb:PutItem'],
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
    // its activity record, in the same transaction
    activityActions: ['dynamodb:PutItem'],
    secretsKey: 'none',
  },
  verifyDockerRegistry: {
    operationId: 'verifyDockerRegistry',
    method: 'POST',
    path: '/v3/docker-registries/{id}/verify',
    functionName: 'verify-docker-registry',
    permission: 'docker_registries:write',
    hasBody: false,
    // the credential is read, decrypted and presented by the internal verifier it invokes, so
    // this public function holds neither the envelope nor kms:Decrypt
    credentialActions: [],
    secretsKey: 'none',
    invokes: [CREDENTIAL_VERIFIER_FUNCTION_NAME],
  },
  getDockerRegistryActivity: {
    operationId: 'getDockerRegistryActivity',
    method: 'GET',
    path: '/v3/docker-registries/{id}/activity',
    functionName: 'get-docker-registry-activity',
    permission: 'docker_registries:read',
    hasBody: false,
    // the credential is read only when it has no records: is it unknown, or just quiet?
    credentialActions: ['dynamodb:GetItem'],
    activityActions: ['dynamodb:Query'],
    secretsKey: 'none',
  },
  getDockerRegistryHealth: {
    operationId: 'getDockerRegistryHealth',
    method: 'GET',
    path: '/v3/docker-registries/{id}/health',
    functionName: 'get-docker-registry-health',
    permission: 'docker_registries:read',
    hasBody: false,
    credentialActions: ['dynamodb:GetItem'],
    secretsKey: 'none',
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
