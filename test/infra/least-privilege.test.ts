import type { CfnRole } from 'aws-cdk-lib/aws-iam'
import { beforeAll, describe, expect, it } from 'vitest'
import { routePolicyStatements } from '../../infra/route-permissions.ts'
import { type Route, routeList, routes } from '../../shared/http/routes.ts'
import { type SynthesizedApp, synthesizeTestApp } from './infra-app.ts'
import {
  API_KEYS_ONLY,
  ASSUME_CUSTOMER_ROLES,
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
    { action: 'kms:GenerateDataKey', resource: 'secrets key', condition: SECRETS_ONLY },
  ],
  [routes.deleteDockerRegistry.functionName]: [
    { action: 'dynamodb:GetItem', resource: 'table', condition: API_KEYS_ONLY },
    // one TransactWriteItems with the count (UpdateItem); Query counts a company without one
    { action: 'dynamodb:DeleteItem', resource: 'table', condition: COMPANIES_ONLY },
    { action: 'dynamodb:UpdateItem', resource: 'table', condition: COMPANIES_ONLY },
    { action: 'dynamodb:Query', resource: 'table', condition: COMPANIES_ONLY },
  ],
  // the one public route that may decrypt (design change: it presents the secret to the registry)
  [routes.verifyDockerRegistry.functionName]: [
    { action: 'dynamodb:GetItem', resource: 'table', condition: API_KEYS_ONLY },
    { action: 'dynamodb:GetItem', resource: 'table', condition: COMPANIES_ONLY },
    { action: 'kms:Decrypt', resource: 'secrets key', condition: SECRETS_ONLY },
    // ecr credentials by role are checked by assuming the role, never one of this account's
    ...ASSUME_CUSTOMER_ROLES,
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

  // named here, not read from the route table under test: the verify extension is the one API
  // function that may decrypt, because it must present the secret to the registry.
  it('no role of the API stack but the verify role may decrypt', () => {
    const decrypting = routeList
      .filter((route) =>
        grantsOf(route).some((grant) => grant.action === 'kms:Decrypt' || grant.action === 'kms:*'),
      )
      .map((route) => route.functionName)

    expect(decrypting).toEqual(['verify-docker-registry'])
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

  it('only the resolve and verify roles may decrypt, and only registry secrets', () => {
    // Arrange
    const { stacks } = synthesized
    const templates = { Stateful: synthesized.stateful, Api: synthesized.api, Internal: synthesized.internal }
    const verify = stacks.api.functions.get(routes.verifyDockerRegistry.functionName)
    if (!verify) throw new Error('no verify function')

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
        `Api/${stacks.api.getLogicalId(verify.role.node.defaultChild as CfnRole)}`,
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
    const verify = stacks.api.functions.get(routes.verifyDockerRegistry.functionName)
    const roleName = (role: unknown) =>
      (role as { node: { defaultChild: CfnRole } }).node.defaultChild.roleName

    // Act
    const [key] = Object.values(stateful.findResources('AWS::KMS::Key'))
    const deny = ((key?.Properties.KeyPolicy.Statement ?? []) as Record<string, any>[]).find(
      (statement) => statement.Effect === 'Deny',
    )

    // Assert
    expect(roleName(verify?.role)).toBe(`${prefix}-verify-docker-registry`)
    expect(roleName(stacks.internal.resolver.role)).toBe(`${prefix}-resolve-docker-registry`)
    const allowed = JSON.stringify(deny?.Condition.StringNotLike['aws:PrincipalArn'])
    expect(allowed).toContain(`:role/${prefix}-verify-docker-registry`)
    expect(allowed).toContain(`:role/${prefix}-resolve-docker-registry`)
  })
})

describe('routePolicyStatements', () => {
  it('lets a route that opens secrets only decrypt, only for the registry-secret context', () => {
    // Arrange
    const resolveRoute: Route = {
      operationId: 'resolve',
      method: 'GET',
      path: '/internal/resolve',
      functionName: 'resolve-docker-registry',
      permission: null,
      hasBody: false,
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
