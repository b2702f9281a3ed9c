import { App } from 'aws-cdk-lib'
import { Match, Template } from 'aws-cdk-lib/assertions'
import { beforeAll, describe, expect, it } from 'vitest'
import { StatefulStack } from '../../infra/stateful-stack.ts'
import { cdkOutdir } from '../support/cdk-outdir.ts'

describe('StatefulStack', () => {
  let template: Template

  beforeAll(() => {
    const app = new App({ outdir: cdkOutdir(), builtinCloudFormationValidation: false })
    const stack = new StatefulStack(app, 'Stateful', {
      secretsKeyAlias: 'alias/registry-credentials/test/secrets',
      decryptingRoleNames: ['test-verify-docker-registry', 'test-resolve-docker-registry'],
    })
    template = Template.fromStack(stack)
  })

  it('has exactly one table, keyed by string pk and sk, billed on demand', () => {
    template.resourceCountIs('AWS::DynamoDB::GlobalTable', 1)
    template.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      AttributeDefinitions: Match.arrayWith([
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ]),
      BillingMode: 'PAY_PER_REQUEST',
    })
  })

  it('protects the table: point-in-time recovery, deletion protection, retained', () => {
    template.hasResource('AWS::DynamoDB::GlobalTable', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: Match.objectLike({
        Replicas: [
          Match.objectLike({
            DeletionProtectionEnabled: true,
            PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
          }),
        ],
      }),
    })
  })

  it('streams new and old images for change events', () => {
    template.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
    })
  })

  it('expires Idempotency-Key records by their expiration attribute', () => {
    template.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      TimeToLiveSpecification: { AttributeName: 'expiration', Enabled: true },
    })
  })

  it('lets no principal but the named roles decrypt with the secrets key', () => {
    const [key] = Object.values(template.findResources('AWS::KMS::Key'))
    const statements = key?.Properties.KeyPolicy.Statement as Record<string, any>[]
    const deny = statements.filter((statement) => statement.Effect === 'Deny')

    expect(deny).toHaveLength(1)
    expect(deny[0]).toMatchObject({
      Action: ['kms:Decrypt', 'kms:ReEncrypt*'],
      Principal: { AWS: '*' },
      Resource: '*',
    })
    const allowed = JSON.stringify(deny[0]?.Condition.StringNotLike['aws:PrincipalArn'])
    expect(allowed).toContain(':role/test-verify-docker-registry')
    expect(allowed).toContain(':role/test-resolve-docker-registry')
    expect(deny[0]?.Condition.StringNotLike['aws:PrincipalArn']).toHaveLength(2)
  })

  it('encrypts the table with the AWS managed key, never with the secrets key', () => {
    const [table] = Object.values(template.findResources('AWS::DynamoDB::GlobalTable'))

    expect(table?.Properties.SSESpecification).toEqual({ SSEEnabled: true, SSEType: 'KMS' })
    expect(JSON.stringify(table)).not.toContain('SecretsKey')
  })

  it('has one customer-managed secrets key, rotated and retained', () => {
    template.resourceCountIs('AWS::KMS::Key', 1)
    template.hasResource('AWS::KMS::Key', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: Match.objectLike({ EnableKeyRotation: true }),
    })
  })

  it('names the secrets key with the alias from the stage settings', () => {
    template.hasResourceProperties('AWS::KMS::Alias', {
      AliasName: 'alias/registry-credentials/test/secrets',
      TargetKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^SecretsKey'), 'Arn'] },
    })
  })
})
