import type { Template } from 'aws-cdk-lib/assertions'

/** One allowed action on one resource, under its conditions: the unit the tests compare. */
export interface Grant {
  action: string
  resource: string
  condition?: unknown
  /** Present on the grants of a Deny statement only. */
  effect?: 'Deny'
}

/** Where the roles that assume customers' ECR roles may and may not (this account's own roles). */
export const ANY_ACCOUNTS_ROLES = "any account's roles"
export const OWN_ACCOUNTS_ROLES = "this account's roles"

/** The grants of a role that assumes customers' ECR roles, by the names above. */
export const ASSUME_CUSTOMER_ROLES: Grant[] = [
  { action: 'sts:AssumeRole', resource: ANY_ACCOUNTS_ROLES },
  { action: 'sts:AssumeRole', resource: OWN_ACCOUNTS_ROLES, effect: 'Deny' },
]

/**
 * Names the role patterns of {@link ASSUME_CUSTOMER_ROLES}, or undefined for any other resource,
 * written out from the design: `arn:<partition>:iam::*:role/*` and the same in this account.
 */
export function roleResourceName(resource: unknown): string | undefined {
  const text = JSON.stringify(resource)
  const join = (account: unknown) =>
    JSON.stringify({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::', account, ':role/*']] })
  if (text === JSON.stringify({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::*:role/*']] })) {
    return ANY_ACCOUNTS_ROLES
  }
  if (text === join({ Ref: 'AWS::AccountId' })) return OWN_ACCOUNTS_ROLES
  return undefined
}

/** An IAM policy statement as it appears in a template. */
export interface Statement {
  Effect: string
  Action: string | string[]
  Resource: unknown
  Condition?: unknown
}

type Resources = Record<string, { Type: string; Properties: Record<string, unknown> }>

/** A value or a list of them, as a list. */
export function list<T>(value: T | T[]): T[] {
  return Array.isArray(value) ? value : [value]
}

/** The logical ids of every IAM role of a template. */
export function roleIds(template: Template): string[] {
  return Object.keys(template.findResources('AWS::IAM::Role'))
}

/**
 * Every statement that applies to a role: those of the policies attached to it (`AWS::IAM::Policy`,
 * `AWS::IAM::ManagedPolicy`) and its inline policies.
 */
export function roleStatements(template: Template, roleId: string): Statement[] {
  const resources = template.toJSON().Resources as Resources
  const roleRef = JSON.stringify({ Ref: roleId })
  const attached = Object.values(resources)
    .filter(
      (resource) =>
        (resource.Type === 'AWS::IAM::Policy' || resource.Type === 'AWS::IAM::ManagedPolicy') &&
        list((resource.Properties.Roles ?? []) as unknown[]).some((ref) => JSON.stringify(ref) === roleRef),
    )
    .flatMap((policy) => (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement)
  const inline = (
    (resources[roleId]?.Properties.Policies ?? []) as { PolicyDocument: { Statement: Statement[] } }[]
  ).flatMap((policy) => policy.PolicyDocument.Statement)
  return [...attached, ...inline]
}

/**
 * Every action a role is allowed or denied, one grant per action and resource, with resources
 * named by `nameResource` so that expectations read like the design. Deny grants carry
 * `effect: 'Deny'`; a Deny with a condition fails, as none is modelled.
 */
export function roleGrants(
  template: Template,
  roleId: string,
  nameResource: (resource: unknown) => string,
): Grant[] {
  return roleStatements(template, roleId).flatMap((statement) => {
    const deny = statement.Effect === 'Deny'
    if (!deny && statement.Effect !== 'Allow')
      throw new Error(`role ${roleId} has a ${statement.Effect} statement`)
    if (deny && statement.Condition !== undefined) throw new Error(`role ${roleId} has a conditional Deny`)
    return list(statement.Action).flatMap((action) =>
      list(statement.Resource).map((resource) => ({
        action,
        resource: roleResourceName(resource) ?? nameResource(resource),
        ...(statement.Condition === undefined ? {} : { condition: statement.Condition }),
        ...(deny ? { effect: 'Deny' as const } : {}),
      })),
    )
  })
}

/** Grants in a stable order, for comparing sets. */
export function sortGrants(grants: Grant[]): Grant[] {
  return [...grants].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)))
}

/** Whether an IAM action pattern (`kms:*`, `kms:Decrypt*`, `*`) allows `action`. */
export function actionAllows(pattern: string, action: string): boolean {
  const regex = new RegExp(
    `^${pattern
      .split('*')
      .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
    'i',
  )
  return regex.test(action)
}

/**
 * What an `Fn::ImportValue` in one stack stands for: the value of the exporting stack's output of
 * that export name, e.g. `{ 'Fn::GetAtt': ['Table…', 'StreamArn'] }`. Undefined when `value` is
 * no import of `exporter`.
 */
export function importedValue(exporter: Template, value: unknown): unknown {
  const name = (value as { 'Fn::ImportValue'?: unknown } | null)?.['Fn::ImportValue']
  if (typeof name !== 'string') return undefined
  const outputs = (exporter.toJSON().Outputs ?? {}) as Record<
    string,
    { Value: unknown; Export?: { Name?: unknown } }
  >
  return Object.values(outputs).find((output) => output.Export?.Name === name)?.Value
}

/** The conditions the design expects, written out by hand (not read from the code under test). */
export const API_KEYS_ONLY = { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['API_KEY#*'] } }
export const COMPANIES_ONLY = { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['COMPANY#*'] } }
export const ACTIVITY_ONLY = { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['ACTIVITY#*'] } }
export const SECRETS_ONLY = { StringEquals: { 'kms:EncryptionContext:purpose': 'docker-registry-secret' } }

/** What every function role may do: write its own logs, send traces. */
export const BASELINE: Grant[] = [
  { action: 'logs:CreateLogStream', resource: 'own log group' },
  { action: 'logs:PutLogEvents', resource: 'own log group' },
  { action: 'xray:PutTelemetryRecords', resource: '*' },
  { action: 'xray:PutTraceSegments', resource: '*' },
]
