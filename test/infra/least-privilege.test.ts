import type { CfnRole } from 'aws-cdk-lib/aws-iam'
import { beforeAll, describe, expect, it } from 'vitest'
import { type FunctionDataAccess, routePolicyStatements } from '../../infra/route-permissions.ts'
import { type Route, routeList, routes } from '../../shared/http/routes.ts'
import { type SynthesizedApp, synthesizeTestApp } from './infra-app.ts'
import {
  ACTIVITY_ONLY,
  API_KEYS_ONLY,
  actionAllows,
  BASELINE,
  COMPANIES_ONLY,
  type Grant,
  list,
  roleGrants,
  roleIds,
  roleStatements,
  SECRETS_ONLY,
  sortGrants,
} from './role-grants.ts'

// what each route's role may do, written out by hand from the design (not derived from the code
// under test): authenticated routes read API keys, each touches only what it needs.
const EXPECTED: Record<string, Grant[]> = {
  [routes.createDockerRegistry.functionName]: [
    { action: 'dynamodb:GetItem', resource: 'table', condition: API_KEYS_ONLY },
    // one TransactWriteItems, authorised per item: the credential and its Idempotency-Key record
    // (PutItem), the company's count (UpdateItem); GetItem replays a key, Query counts a company
    // that has no count item yet. All in company partitions, never an API key item.
    { action: 'dynamodb:PutItem', resource: 'table', condition: COMPANIES_ONLY },
    { action: 'dynamodb:UpdateItem', resource: 'table', condition: COMPANIES_ONLY },
    { action: 'dynamodb:GetItem', resource: 'table', condition: COMPANIES_ONLY },
    { action: 'dynamodb:Query', resource: 'table', condition: COMPANIES_ONLY },
    { action: 'kms:GenerateDataKey', resource: 'secrets key', condition: SECRETS_ONLY },
    { action: 'dynamodb:PutItem', resource: 'table', condition: ACTIVITY_ONLY },
  ],
  [routes.listDockerRegistries.functionName]: [
    { action: 'dynamodb:GetItem', resource: 'table', condition: API_KEYS_ONLY },
    { action: 'dynamodb:Query', resource: 'table', condition: COMPANIES_ONLY },
  ],
  [routes.getDockerRegistry.functionName]: [
    { action: 'dynamodb:GetItem', resource: 'table', condition: API_KEYS_ONLY },
    { action: 'dynamodb:GetItem', resource: 'table', condition: COMPANIES_ONLY },
  ],
  [routes.updateDockerRegistry.functionName]: [
    { action: 'dynamodb:GetItem', resource: 'table', condition: API_KEYS_ONLY },
    { action: 'dynamodb:GetItem', resource: 'table', condition: COMPANIES_ONLY },
    { action: 'dynamodb:UpdateItem', resource: 'table', condition: COMPANIES_ONLY },
    // its activity record, in the same transaction, in activity partitions only
    { action: 'dynamodb:PutItem', resource: 'table', condition: ACTIVITY_ONLY },
    { action: 'kms:GenerateDataKey', resource: 'secrets key', condition: SECRETS_ONLY },
  ],
  [routes.deleteDockerRegistry.functionName]: [
    { action: 'dynamodb:GetItem', resource: 'table', condition: API_KEYS_ONLY },
    // one TransactWriteItems with the count (UpdateItem); Query counts a company without one
    { action: 'dynamodb:DeleteItem', resource: 'table', condition: COMPANIES_ONLY },
    { action: 'dynamodb:UpdateItem', resource: 'table', condition: COMPANIES_ONLY },
    { action: 'dynamodb:Query', resource: 'table', condition: COMPANIES_ONLY },
    { action: 'dynamodb:PutItem', resource: 'table', condition: ACTIVITY_ONLY },
  ],
  // no table access to credentials and no KMS: it invokes the internal verifier, which decrypts
  [routes.verifyDockerRegistry.functionName]: [
    { action: 'dynamodb:GetItem', resource: 'table', condition: API_KEYS_ONLY },
    { action: 'lambda:InvokeFunction', resource: 'function test-credential-verifier' },
  ],
  [routes.getDockerRegistryActivity.functionName]: [
    { action: 'dynamodb:GetItem', resource: 'table', condition: API_KEYS_ONLY },
    { action: 'dynamodb:GetItem', resource: 'table', condition: COMPANIES_ONLY },
    { action: 'dynamodb:Query', resource: 'table', condition: ACTIVITY_ONLY },
  ],
  [routes.getDockerRegistryHealth.functionName]: [
    { action: 'dynamodb:GetItem', resource: 'table', condition: API_KEYS_ONLY },
    { action: 'dynamodb:GetItem', resource: 'table', condition: COMPANIES_ONLY },
  ],
  // the ExternalId comes from the caller's company alone: no data access at all
  [routes.getExternalId.functionName]: [
    { action: 'dynamodb:GetItem', resource: 'table', condition: API_KEYS_ONLY },
  ],
  [routes.getOpenApiDocument.functionName]: [],
}

type Resources = Record<string, { Type: string; Properties: Record<string, unknown> }>

// names a policy resource by what it points at, so expectations read like the design.
function resourceName(resource: unknown, logGroupId: string): string {
  if (resource === '*') return '*'
  const text = JSON.stringify(resource)
  if (text === JSON.stringify({ 'Fn::GetAtt': [logGroupId, 'Arn'] })) return 'own log group'
  if (/ExportsOutputFnGetAttTable\w+Arn/.test(text)) return 'table'
  if (/ExportsOutputFnGetAttSecretsKey\w+Arn/.test(text)) return 'secrets key'
  const fn = /:function:([\w-]+)"/.exec(text)
  if (fn) return `function ${fn[1]?.replace(/^RegistryCredentials-dev-/, 'test-')}`
  return text
}

describe('least privilege', () => {
  let synthesized: SynthesizedApp
  let resources: Resources

  beforeAll(() => {
    synthesized = synthesizeTestApp()
    resources = synthesized.api.toJSON().Resources
  })

  function roleOf(route: Route) {
    const registryFunction = synthesized.stacks.api.functions.get(route.functionName)
    if (!registryFunction) throw new Error(`no function for ${route.functionName}`)
    const stack = synthesized.stacks.api
    return {
      id: stack.getLogicalId(registryFunction.role.node.defaultChild as CfnRole),
      logGroupId: stack.getLogicalId(registryFunction.logGroup.node.defaultChild as never),
    }
  }

  // every action the route's role is allowed, from all policies attached to it.
  function grantsOf(route: Route): Grant[] {
    const role = roleOf(route)
    return roleGrants(synthesized.api, role.id, (resource) => resourceName(resource, role.logGroupId))
  }

  it('covers every route of the route table', () => {
    expect(Object.keys(EXPECTED).sort()).toEqual(routeList.map((route) => route.functionName).sort())
  })

  it.each(routeList.map((route) => [route.functionName, route] as const))(
    'the %s role may do exactly what its route needs',
    (name, route) => {
      expect(sortGrants(grantsOf(route))).toEqual(sortGrants([...BASELINE, ...(EXPECTED[name] ?? [])]))
    },
  )

  it('the create role has no kms:Decrypt', () => {
    const actions = grantsOf(routes.createDockerRegistry).map((grant) => grant.action)

    expect(actions).toContain('kms:GenerateDataKey')
    expect(actions).not.toContain('kms:Decrypt')
    expect(actions.filter((action) => action.startsWith('kms:'))).toEqual(['kms:GenerateDataKey'])
  })

  it.each([routes.listDockerRegistries, routes.getDockerRegistry, routes.deleteDockerRegistry])(
    'the $functionName role has no KMS permission at all',
    (route) => {
      expect(grantsOf(route).filter((grant) => grant.action.startsWith('kms:'))).toEqual([])
    },
  )

  // read from the template alone, not from the route table under test: every function an API
  // Gateway method integrates, and every statement of its role, under whichever action pattern
  it('no role of a function behind API Gateway may kms:Decrypt or kms:ReEncrypt', () => {
    const integrated = Object.values(resources)
      .filter((resource) => resource.Type === 'AWS::ApiGateway::Method')
      .map((method) => JSON.stringify((method.Properties.Integration as { Uri?: unknown } | undefined)?.Uri))
      .map((uri) => /"([A-Za-z0-9]+Function[A-Za-z0-9]+)","Arn"/.exec(uri)?.[1])
    const roles = integrated.map((functionId) => {
      const role = (
        resources[functionId ?? '']?.Properties.Role as { 'Fn::GetAtt'?: string[] } | undefined
      )?.['Fn::GetAtt']?.[0]
      if (!role) throw new Error(`no role for the integrated function ${functionId}`)
      return role
    })

    expect(roles.length).toBe(routeList.length)
    for (const role of roles) {
      const actions = roleStatements(synthesized.api, role).flatMap((statement) => list(statement.Action))
      for (const denied of ['kms:Decrypt', 'kms:ReEncryptFrom']) {
        expect(
          actions.filter((action) => actionAllows(action, denied)),
          role,
        ).toEqual([])
      }
    }
  })

  it('no function role carries an AWS managed policy', () => {
    for (const route of routeList) {
      expect(resources[roleOf(route).id]?.Properties.ManagedPolicyArns, route.functionName).toBeUndefined()
    }
  })
})

describe('least privilege across the app', () => {
  let synthesized: SynthesizedApp

  beforeAll(() => {
    synthesized = synthesizeTestApp()
  })

  it('only the internal resolve and verifier roles may decrypt, and only registry secrets', () => {
    // Arrange
    const { stacks } = synthesized
    const templates = { Stateful: synthesized.stateful, Api: synthesized.api, Internal: synthesized.internal }

    // Act: every role of every stack whose statements allow kms:Decrypt, under whichever pattern
    const decrypting = Object.entries(templates).flatMap(([stackId, template]) =>
      roleIds(template).flatMap((roleId) =>
        roleStatements(template, roleId)
          .filter((statement) => list(statement.Action).some((action) => actionAllows(action, 'kms:Decrypt')))
          .map((statement) => ({ role: `${stackId}/${roleId}`, condition: statement.Condition })),
      ),
    )

    // Assert
    expect(decrypting.map((grant) => grant.role).sort()).toEqual(
      [
        `Internal/${stacks.internal.getLogicalId(stacks.internal.verifier.role.node.defaultChild as CfnRole)}`,
        `Internal/${stacks.internal.getLogicalId(stacks.internal.resolver.role.node.defaultChild as CfnRole)}`,
      ].sort(),
    )
    for (const grant of decrypting) expect(grant.condition, grant.role).toEqual(SECRETS_ONLY)
  })
})

describe('the secrets key policy', () => {
  it('names exactly the roles that decrypt, and those roles carry the names it names', () => {
    // Arrange
    const { stacks, stateful } = synthesizeTestApp()
    const prefix = stacks.settings.stackNamePrefix
    const roleName = (role: unknown) =>
      (role as { node: { defaultChild: CfnRole } }).node.defaultChild.roleName

    // Act
    const [key] = Object.values(stateful.findResources('AWS::KMS::Key'))
    const deny = ((key?.Properties.KeyPolicy.Statement ?? []) as Record<string, any>[]).find(
      (statement) => statement.Effect === 'Deny',
    )

    // Assert
    expect(roleName(stacks.internal.verifier.role)).toBe(`${prefix}-credential-verifier`)
    expect(roleName(stacks.internal.resolver.role)).toBe(`${prefix}-resolve-docker-registry`)
    const allowed = deny?.Condition.StringNotLike['aws:PrincipalArn'] as unknown[]
    expect(allowed).toHaveLength(2)
    expect(JSON.stringify(allowed)).toContain(`:role/${prefix}-credential-verifier`)
    expect(JSON.stringify(allowed)).toContain(`:role/${prefix}-resolve-docker-registry`)
    // the public verify function no longer decrypts, so the key no longer names its role
    expect(JSON.stringify(allowed)).not.toContain('verify-docker-registry')
  })
})

describe('routePolicyStatements', () => {
  it('lets a route that opens secrets only decrypt, only for the registry-secret context', () => {
    // Arrange
    const resolveRoute: FunctionDataAccess = {
      permission: null,
      credentialActions: ['dynamodb:GetItem'],
      secretsKey: 'open',
    }

    // Act
    const kms = routePolicyStatements(resolveRoute, { tableArn: 'table-arn', secretsKeyArn: 'key-arn' })
      .map((statement) => statement.toStatementJson())
      .filter((statement) => JSON.stringify(statement.Action).includes('kms:'))

    // Assert
    expect(kms).toEqual([
      {
        Sid: 'OpenSecrets',
        Effect: 'Allow',
        Action: 'kms:Decrypt',
        Resource: 'key-arn',
        Condition: SECRETS_ONLY,
      },
    ])
  })
})
