import { Aws, Validations } from 'aws-cdk-lib'
import { Effect, type Policy, PolicyStatement } from 'aws-cdk-lib/aws-iam'
import { ACTIVITY_PARTITION_PREFIX } from '../shared/adapters/activity-log.ts'
import { apiKeyPartitionKey } from '../shared/adapters/api-key-store.ts'
import { SECRET_PURPOSE } from '../shared/adapters/kms-envelope.ts'
import { companyPartitionKey } from '../shared/domain/credential-keys.ts'
import {
  CREDENTIAL_VERIFIER_FUNCTION_NAME,
  type Route,
  type SecretsKeyAccess,
} from '../shared/http/routes.ts'

/** Leading keys (partition keys) an authenticating function may read: API key items only. */
export const API_KEY_LEADING_KEYS = apiKeyPartitionKey('*')

/** Leading keys of credential items: every company's partition, never an API key item. */
export const CREDENTIAL_LEADING_KEYS = companyPartitionKey('*')

/** Leading keys of activity records: their own partitions, never a credential's. */
export const ACTIVITY_LEADING_KEYS = `${ACTIVITY_PARTITION_PREFIX}*`

/** The only KMS action each kind of secrets-key access allows. */
export const SECRETS_KEY_ACTIONS: Readonly<Record<SecretsKeyAccess, readonly string[]>> = {
  none: [],
  seal: ['kms:GenerateDataKey'],
  open: ['kms:Decrypt'],
}

/**
 * What a function may do with the table and the secrets key, in the route table's terms. Every
 * {@link Route} is one; an internal function (invoked by the platform, not through the API) is
 * described the same way, so its statements come from the same code.
 */
export type FunctionDataAccess = Pick<
  Route,
  'permission' | 'credentialActions' | 'idempotent' | 'invokes' | 'assumesCustomerRoles' | 'activityActions'
> & {
  /** Internal functions may also `open`; routes never do. */
  secretsKey: SecretsKeyAccess
}

/** The resources a route's function may touch. */
export interface RouteResources {
  /** ARN of the single table. */
  readonly tableArn: string
  /** ARN of the secrets key. */
  readonly secretsKeyArn: string
  /**
   * ARN of an internal function by folder name, for the routes that invoke one.
   * @default none: a route that invokes a function fails to synthesize
   */
  readonly functionArn?: (functionName: string) => string
}

// the table's items restricted to some partitions. ForAllValues is vacuously true when the key
// is absent, which only Scan does: Scan is never granted, so the condition always applies.
function leadingKeys(pattern: string) {
  return { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [pattern] } }
}

/**
 * The least-privilege statements of one route's function (or of an internal function described in
 * the same terms), derived from its data access alone: API key lookups when it authenticates API
 * keys, its credential actions on company partitions, and at most one KMS action pinned to the
 * secrets' encryption context.
 */
export function routePolicyStatements(
  route: FunctionDataAccess,
  resources: RouteResources,
): PolicyStatement[] {
  const statements: PolicyStatement[] = []
  if (route.permission !== null) {
    statements.push(
      new PolicyStatement({
        sid: 'ReadApiKeys',
        effect: Effect.ALLOW,
        actions: ['dynamodb:GetItem'],
        resources: [resources.tableArn],
        conditions: leadingKeys(API_KEY_LEADING_KEYS),
      }),
    )
  }
  if (route.credentialActions.length > 0) {
    statements.push(
      new PolicyStatement({
        sid: 'AccessCredentials',
        effect: Effect.ALLOW,
        actions: [...route.credentialActions],
        resources: [resources.tableArn],
        conditions: leadingKeys(CREDENTIAL_LEADING_KEYS),
      }),
    )
  }
  if ((route.activityActions ?? []).length > 0) {
    statements.push(
      new PolicyStatement({
        sid: 'AccessActivity',
        effect: Effect.ALLOW,
        actions: [...(route.activityActions ?? [])],
        resources: [resources.tableArn],
        conditions: leadingKeys(ACTIVITY_LEADING_KEYS),
      }),
    )
  }
  const invoked = route.invokes ?? []
  if (invoked.length > 0) {
    const { functionArn } = resources
    if (!functionArn) throw new Error('a function that invokes another needs RouteResources.functionArn')
    statements.push(
      new PolicyStatement({
        sid: 'InvokeInternalFunctions',
        effect: Effect.ALLOW,
        actions: ['lambda:InvokeFunction'],
        resources: invoked.map(functionArn),
      }),
    )
  }
  const kmsActions = SECRETS_KEY_ACTIONS[route.secretsKey]
  if (kmsActions.length > 0) {
    statements.push(
      new PolicyStatement({
        sid: route.secretsKey === 'open' ? 'OpenSecrets' : 'SealSecrets',
        effect: Effect.ALLOW,
        actions: [...kmsActions],
        resources: [resources.secretsKeyArn],
        // the key serves registry secrets only: any other encryption context is refused.
        conditions: { StringEquals: { 'kms:EncryptionContext:purpose': SECRET_PURPOSE } },
      }),
    )
  }
  if (route.assumesCustomerRoles) statements.push(...assumeCustomerRoleStatements())
  return statements
}

/**
 * Assuming customers' roles for ECR: any account's roles (a customer's account is not known in
 * advance), never a role of this account, whose trust policies commonly trust the account itself
 * (threat: a customer naming one of the platform's own roles as their "ECR role"). Whether the
 * customer's trust policy requires the ExternalId is not visible to IAM on this side: the
 * exchange itself refuses a role that admits a probe with a wrong ExternalId.
 */
export function assumeCustomerRoleStatements(): PolicyStatement[] {
  return [
    new PolicyStatement({
      sid: 'AssumeCustomerEcrRoles',
      effect: Effect.ALLOW,
      actions: ['sts:AssumeRole'],
      resources: [`arn:${Aws.PARTITION}:iam::*:role/*`],
    }),
    new PolicyStatement({
      sid: 'NeverAssumeOwnAccountRoles',
      effect: Effect.DENY,
      actions: ['sts:AssumeRole'],
      resources: [`arn:${Aws.PARTITION}:iam::${Aws.ACCOUNT_ID}:role/*`],
    }),
  ]
}

/**
 * Acknowledges, on the policy holding {@link assumeCustomerRoleStatements}, cdk-nag's finding on
 * its one wildcard resource, with the reason it cannot be narrower.
 */
export function acknowledgeCustomerRoleWildcard(policy: Policy): void {
  Validations.of(policy).acknowledge({
    id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:iam::*:role/*]',
    reason:
      "sts:AssumeRole into the role a customer names for ECR, in the customer's own account, which is not " +
      'known when deploying: roles only (no users), never a role of this account (an explicit Deny), and ' +
      "the exchange refuses a role whose trust policy does not require the company's ExternalId.",
  })
}

/** Whether a route's function reads or writes the table (and so needs `TABLE_NAME`). */
export function routeUsesTable(route: Route): boolean {
  return route.permission !== null || route.credentialActions.length > 0
}

/** Whether a route's function creates credentials (and so needs `CREDENTIAL_LIMIT`). */
export function routeCreatesCredentials(route: Route): boolean {
  return route.credentialActions.includes('dynamodb:PutItem')
}

/** Whether a route's function uses the secrets key (and so needs `SECRETS_KEY_ARN`). */
export function routeUsesSecretsKey(route: Route): boolean {
  return route.secretsKey !== 'none'
}

/** The internal function that resolves credentials for deployments (not a route). */
export const RESOLVE_FUNCTION_NAME = 'resolve-docker-registry'

/** The internal function that fans the scheduled health checks out to the verifier. */
export const HEALTH_CHECK_FUNCTION_NAME = 'health-check'

/**
 * The fixed name of an internal function (`<prefix>-<folder>`): fixed, so the API stack can
 * grant `lambda:InvokeFunction` on it, and a function on itself, without cross-stack references
 * or dependency cycles. At most 40 + 1 + 20 characters, within Lambda's 64.
 */
export function internalFunctionName(stackNamePrefix: string, functionName: string): string {
  return `${stackNamePrefix}-${functionName}`
}

/** The environment variable that names an invoked internal function (`CREDENTIAL_VERIFIER_FUNCTION_NAME`). */
export function functionNameVariable(functionName: string): string {
  return `${functionName.toUpperCase().replaceAll('-', '_')}_FUNCTION_NAME`
}

/**
 * The fixed name of the role of a function that may decrypt secrets. Fixed, so that the secrets
 * key's policy can name exactly these roles without depending on the stacks that create them.
 */
export function decryptingRoleName(stackNamePrefix: string, functionName: string): string {
  return `${stackNamePrefix}-${functionName}`
}

/**
 * The functions that may decrypt, all internal (invoked over IAM, never behind API Gateway): the
 * resolve function and the credential verifier.
 */
export const DECRYPTING_FUNCTION_NAMES: readonly string[] = [
  RESOLVE_FUNCTION_NAME,
  CREDENTIAL_VERIFIER_FUNCTION_NAME,
]
