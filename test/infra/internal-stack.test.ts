import type { CfnElement } from 'aws-cdk-lib'
import { Match } from 'aws-cdk-lib/assertions'
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations'
import { Queue } from 'aws-cdk-lib/aws-sqs'
import type { IConstruct } from 'constructs'
import { beforeAll, describe, expect, it } from 'vitest'
import type { RegistryFunction } from '../../infra/constructs/registry-function.ts'
import { PUBLISHER_EVENT_SOURCE } from '../../infra/publisher-event-source.ts'
import { assertSupportedPattern, type EventPattern, matchesEventPattern } from '../../local/event-filter.ts'
import { buildTestApp, type SynthesizedApp, synthesizeTestApp } from './infra-app.ts'
import {
  ACTIVITY_ONLY,
  ASSUME_CUSTOMER_ROLES,
  BASELINE,
  COMPANIES_ONLY,
  type Grant,
  importedValue,
  roleGrants,
  SECRETS_ONLY,
  sortGrants,
} from './role-grants.ts'

type Properties = Record<string, unknown>

// a DynamoDB stream record's keys as Lambda's filter sees them (the stream's own JSON shape).
function streamRecord(pk: string, sk: string) {
  return { eventName: 'INSERT', dynamodb: { Keys: { pk: { S: pk }, sk: { S: sk } } } }
}

// the local stack's implementation of Lambda's filter language, which refuses rules it lacks
function matchesPattern(pattern: unknown, value: unknown): boolean {
  assertSupportedPattern(pattern)
  return matchesEventPattern(pattern as EventPattern, value)
}

describe('InternalStack', () => {
  let synthesized: SynthesizedApp

  beforeAll(() => {
    synthesized = synthesizeTestApp()
  })

  function internalId(construct: IConstruct): string {
    return synthesized.stacks.internal.getLogicalId(construct.node.defaultChild as CfnElement)
  }

  function statefulId(construct: IConstruct): string {
    return synthesized.stacks.stateful.getLogicalId(construct.node.defaultChild as CfnElement)
  }

  function resource(logicalId: string): { Type: string; Properties: Properties; DependsOn?: string[] } {
    const found = synthesized.internal.toJSON().Resources[logicalId]
    if (!found) throw new Error(`no resource ${logicalId}`)
    return found
  }

  function onlyResource(type: string): Properties {
    const found = Object.values(synthesized.internal.findResources(type))
    expect(found, type).toHaveLength(1)
    return found[0]?.Properties as Properties
  }

  // names a policy resource by what it points at, following imports into the stateful stack.
  function resourceName(registryFunction: RegistryFunction) {
    const table = statefulId(synthesized.stacks.stateful.table)
    const names = new Map<string, string>([
      [JSON.stringify({ 'Fn::GetAtt': [internalId(registryFunction.logGroup), 'Arn'] }), 'own log group'],
      [
        JSON.stringify({ 'Fn::GetAtt': [internalId(synthesized.stacks.internal.eventBus), 'Arn'] }),
        'event bus',
      ],
      [
        JSON.stringify({ 'Fn::GetAtt': [internalId(synthesized.stacks.internal.publishFailures), 'Arn'] }),
        'dlq',
      ],
      [JSON.stringify({ 'Fn::GetAtt': [table, 'Arn'] }), 'table'],
      [JSON.stringify({ 'Fn::GetAtt': [table, 'StreamArn'] }), 'table stream'],
      [
        JSON.stringify({ 'Fn::GetAtt': [statefulId(synthesized.stacks.stateful.secretsKey), 'Arn'] }),
        'secrets key',
      ],
    ])
    return (value: unknown): string => {
      if (value === '*') return '*'
      const text = JSON.stringify(importedValue(synthesized.stateful, value) ?? value)
      return names.get(text) ?? text
    }
  }

  function grantsOf(registryFunction: RegistryFunction): Grant[] {
    return sortGrants(
      roleGrants(synthesized.internal, internalId(registryFunction.role), resourceName(registryFunction)),
    )
  }

  function functionProperties(registryFunction: RegistryFunction): Properties {
    return resource(internalId(registryFunction.function)).Properties
  }

  describe('event bus', () => {
    it('is a custom bus named by the stage settings', () => {
      synthesized.internal.resourceCountIs('AWS::Events::EventBus', 1)
      synthesized.internal.hasResourceProperties('AWS::Events::EventBus', {
        Name: 'registry-credentials-dev',
      })
    })

    it('takes another name in another stage', () => {
      const prod = synthesizeTestApp({ context: { stage: 'prod' } })

      prod.internal.hasResourceProperties('AWS::Events::EventBus', { Name: 'registry-credentials-prod' })
    })
  })

  describe('table stream mapping', () => {
    let mapping: Properties

    beforeAll(() => {
      mapping = onlyResource('AWS::Lambda::EventSourceMapping')
    })

    it("reads the table's stream, from the oldest record it holds", () => {
      expect(importedValue(synthesized.stateful, mapping.EventSourceArn)).toEqual({
        'Fn::GetAtt': [statefulId(synthesized.stacks.stateful.table), 'StreamArn'],
      })
      expect(mapping.StartingPosition).toBe('TRIM_HORIZON')
    })

    it('invokes the publisher', () => {
      expect(mapping.FunctionName).toEqual({
        Ref: internalId(synthesized.stacks.internal.publisher.function),
      })
    })

    it('lets the publisher report partial batch failures', () => {
      expect(mapping.FunctionResponseTypes).toEqual(['ReportBatchItemFailures'])
    })

    it('retries a bounded number of times, within the 24 hours the stream keeps a record', () => {
      expect(mapping).toMatchObject({
        BisectBatchOnFunctionError: true,
        ParallelizationFactor: 1,
        BatchSize: 10,
      })
      expect(mapping.MaximumRetryAttempts).toBeGreaterThan(0)
      expect(mapping.MaximumRetryAttempts).toBeLessThanOrEqual(100)
      expect(mapping.MaximumRecordAgeInSeconds).toBeGreaterThanOrEqual(60)
      expect(mapping.MaximumRecordAgeInSeconds).toBeLessThan(24 * 3600)
    })

    it('sends what it gives up on to the dead-letter queue', () => {
      expect(mapping.DestinationConfig).toEqual({
        OnFailure: {
          Destination: { 'Fn::GetAtt': [internalId(synthesized.stacks.internal.publishFailures), 'Arn'] },
        },
      })
    })

    it('lets only credential items invoke the publisher', () => {
      const filters = (mapping.FilterCriteria as { Filters: { Pattern: string }[] }).Filters
      const patterns = filters.map((filter) => JSON.parse(filter.Pattern))
      const passes = (record: unknown) => patterns.some((pattern) => matchesPattern(pattern, record))

      expect(patterns).toEqual([PUBLISHER_EVENT_SOURCE.filterPattern])
      expect(passes(streamRecord('COMPANY#0191f7a0', 'DOCKER_REGISTRY#0191f7a1'))).toBe(true)
      expect(passes(streamRecord('API_KEY#ab12', 'API_KEY'))).toBe(false)
      expect(passes(streamRecord('COMPANY#0191f7a0', 'API_KEY'))).toBe(false)
      expect(passes(streamRecord('API_KEY#ab12', 'DOCKER_REGISTRY#0191f7a1'))).toBe(false)
      // the company's count and its Idempotency-Key records share the partition, never the prefix
      expect(passes(streamRecord('COMPANY#0191f7a0', 'DOCKER_REGISTRY~COUNT'))).toBe(false)
      expect(passes(streamRecord('COMPANY#0191f7a0', 'IDEMPOTENCY#create-docker-registry#ab12'))).toBe(false)
    })

    it('is created only after the role may read the stream and dead-letter', () => {
      // Lambda checks the role's permissions when the mapping is created
      const dataAccess = synthesized.stacks.internal.publisher.node.findChild('DataAccess')
      const publisher = resource(internalId(synthesized.stacks.internal.publisher.function))

      expect(publisher.DependsOn).toContain(internalId(dataAccess))
    })
  })

  describe('dead-letter queue', () => {
    it('is encrypted, keeps messages 14 days and refuses plain HTTP', () => {
      const queue = onlyResource('AWS::SQS::Queue')

      expect(queue).toMatchObject({ SqsManagedSseEnabled: true, MessageRetentionPeriod: 14 * 24 * 3600 })
      synthesized.internal.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: internalId(synthesized.stacks.internal.publishFailures) }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Deny',
              Action: 'sqs:*',
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            }),
          ]),
        },
      })
    })

    it('leaves its alarm to the monitoring stack, which notifies the alarm topic', () => {
      synthesized.internal.resourceCountIs('AWS::CloudWatch::Alarm', 0)
    })
  })

  describe('publisher', () => {
    it('runs on nodejs24.x, arm64, traced, and knows only the bus', () => {
      const properties = functionProperties(synthesized.stacks.internal.publisher)

      expect(properties).toMatchObject({
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        TracingConfig: { Mode: 'Active' },
      })
      const variables = (properties.Environment as { Variables: Record<string, unknown> }).Variables
      expect(Object.keys(variables).sort()).toEqual([
        'EVENT_BUS_NAME',
        'NODE_OPTIONS',
        'POWERTOOLS_LOG_LEVEL',
        'POWERTOOLS_METRICS_NAMESPACE',
        'POWERTOOLS_SERVICE_NAME',
      ])
      expect(variables.EVENT_BUS_NAME).toEqual({ Ref: internalId(synthesized.stacks.internal.eventBus) })
    })

    it('may put events on its bus, read the stream and dead-letter, and nothing else', () => {
      expect(grantsOf(synthesized.stacks.internal.publisher)).toEqual(
        sortGrants([
          ...BASELINE,
          { action: 'events:PutEvents', resource: 'event bus' },
          { action: 'dynamodb:DescribeStream', resource: 'table stream' },
          { action: 'dynamodb:GetRecords', resource: 'table stream' },
          { action: 'dynamodb:GetShardIterator', resource: 'table stream' },
          { action: 'sqs:SendMessage', resource: 'dlq' },
        ]),
      )
    })

    it('has no KMS permission and no access to table items', () => {
      const actions = grantsOf(synthesized.stacks.internal.publisher).map((grant) => grant.action)

      expect(actions.filter((action) => action.startsWith('kms:'))).toEqual([])
      expect(actions.filter((action) => /Item$|^dynamodb:(Query|Scan)$/.test(action))).toEqual([])
    })
  })

  describe('resolve function', () => {
    it('runs on nodejs24.x, arm64, traced, and knows only the table', () => {
      const properties = functionProperties(synthesized.stacks.internal.resolver)

      expect(properties).toMatchObject({
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        TracingConfig: { Mode: 'Active' },
      })
      const variables = (properties.Environment as { Variables: Record<string, unknown> }).Variables
      expect(Object.keys(variables).sort()).toEqual([
        'NODE_OPTIONS',
        'POWERTOOLS_LOG_LEVEL',
        'POWERTOOLS_METRICS_NAMESPACE',
        'POWERTOOLS_SERVICE_NAME',
        'TABLE_NAME',
      ])
    })

    it("may read credential items, decrypt registry secrets, stamp the last use and assume other accounts' roles, and nothing else", () => {
      expect(grantsOf(synthesized.stacks.internal.resolver)).toEqual(
        sortGrants([
          ...BASELINE,
          { action: 'dynamodb:GetItem', resource: 'table', condition: COMPANIES_ONLY },
          {
            action: 'dynamodb:UpdateItem',
            resource: 'table',
            condition: {
              'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['COMPANY#*'] },
              'ForAllValues:StringEquals': {
                'dynamodb:Attributes': ['pk', 'sk', 'last_used_at', 'last_used_image_host'],
              },
              StringEqualsIfExists: { 'dynamodb:ReturnValues': ['NONE'] },
            },
          },
          { action: 'kms:Decrypt', resource: 'secrets key', condition: SECRETS_ONLY },
          ...ASSUME_CUSTOMER_ROLES,
        ]),
      )
    })

    it('has no asynchronous invocation destination', () => {
      const functionRef = { Ref: internalId(synthesized.stacks.internal.resolver.function) }

      expect(
        Object.values(synthesized.internal.findResources('AWS::Lambda::EventInvokeConfig')).filter(
          (config) => JSON.stringify(config.Properties.FunctionName) === JSON.stringify(functionRef),
        ),
      ).toEqual([])
    })

    it('fails the synth when somebody gives it an on-success destination', () => {
      // Arrange: every login it resolves would be copied into this queue
      const { app, stacks } = buildTestApp()
      const leak = new Queue(stacks.internal, 'Leak', { enforceSSL: true })
      stacks.internal.resolver.function.configureAsyncInvoke({ onSuccess: new SqsDestination(leak) })

      // Act and Assert
      expect(() => app.synth()).toThrow(/must have no on-success destination/)
    })
  })

  // the function ARNs the policies name are built from the fixed function names
  const functionArn = (name: string) => ({
    'Fn::Join': [
      '',
      [
        'arn:',
        { Ref: 'AWS::Partition' },
        ':lambda:',
        { Ref: 'AWS::Region' },
        ':',
        { Ref: 'AWS::AccountId' },
        `:function:${synthesized.stacks.settings.stackNamePrefix}-${name}`,
      ],
    ],
  })

  describe('credential verifier', () => {
    it('has the fixed name the API stack invokes and the fixed role the key policy names', () => {
      const prefix = synthesized.stacks.settings.stackNamePrefix
      const properties = functionProperties(synthesized.stacks.internal.verifier)

      expect(properties.FunctionName).toBe(`${prefix}-credential-verifier`)
      expect(resource(internalId(synthesized.stacks.internal.verifier.role)).Properties.RoleName).toBe(
        `${prefix}-credential-verifier`,
      )
    })

    it('is the function the public verify route invokes by name', () => {
      const verify = synthesized.stacks.api.functions.get('verify-docker-registry')
      const id = synthesized.stacks.api.getLogicalId(verify?.function.node.defaultChild as CfnElement)
      const variables = synthesized.api.toJSON().Resources[id].Properties.Environment.Variables

      expect(variables.CREDENTIAL_VERIFIER_FUNCTION_NAME).toBe(
        functionProperties(synthesized.stacks.internal.verifier).FunctionName,
      )
      expect(variables).not.toHaveProperty('SECRETS_KEY_ARN')
    })

    it('may read and decrypt a credential, and write only its verification attributes', () => {
      expect(grantsOf(synthesized.stacks.internal.verifier)).toEqual(
        sortGrants([
          ...BASELINE,
          { action: 'dynamodb:GetItem', resource: 'table', condition: COMPANIES_ONLY },
          {
            action: 'dynamodb:UpdateItem',
            resource: 'table',
            condition: {
              'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['COMPANY#*'] },
              'ForAllValues:StringEquals': {
                'dynamodb:Attributes': [
                  'pk',
                  'sk',
                  'verification_result',
                  'verification_message',
                  'verified_at',
                  'verification_image',
                  'verification_platform',
                  'verification_run',
                ],
              },
              StringEqualsIfExists: { 'dynamodb:ReturnValues': ['NONE'] },
            },
          },
          { action: 'kms:Decrypt', resource: 'secrets key', condition: SECRETS_ONLY },
          { action: 'dynamodb:PutItem', resource: 'table', condition: ACTIVITY_ONLY },
          ...ASSUME_CUSTOMER_ROLES,
        ]),
      )
    })
  })

  describe('health checks', () => {
    it('scan only ids, provider, host and run (never the envelope), invoke only the verifier and themselves', () => {
      expect(grantsOf(synthesized.stacks.internal.healthCheck)).toEqual(
        sortGrants([
          ...BASELINE,
          {
            action: 'dynamodb:Scan',
            resource: 'table',
            condition: {
              'ForAllValues:StringEquals': {
                'dynamodb:Attributes': [
                  'pk',
                  'sk',
                  'id',
                  'company_id',
                  'registry',
                  'registry_host',
                  'verification_run',
                ],
              },
              StringEquals: { 'dynamodb:Select': 'SPECIFIC_ATTRIBUTES' },
            },
          },
          { action: 'lambda:InvokeFunction', resource: JSON.stringify(functionArn('credential-verifier')) },
          { action: 'lambda:InvokeFunction', resource: JSON.stringify(functionArn('health-check')) },
        ]),
      )
    })

    it('run on the schedule of the stage settings, daily by default, with the scheduled time as run id', () => {
      const schedule = onlyResource('AWS::Scheduler::Schedule')

      expect(schedule).toMatchObject({
        ScheduleExpression: 'rate(1 day)',
        State: 'ENABLED',
        Target: {
          Arn: { 'Fn::GetAtt': [internalId(synthesized.stacks.internal.healthCheck.function), 'Arn'] },
          Input: JSON.stringify({ run_id: '<aws.scheduler.scheduled-time>' }),
          RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 3600 },
        },
      })
    })

    it('take their rate and per-host limit from cdk.json', () => {
      const context = {
        stages: {
          dev: {
            stackNamePrefix: 'T',
            apiStageName: 't',
            secretsKeyAlias: 'alias/t',
            eventBusName: 't',
            healthCheckIntervalMinutes: 360,
            healthChecksPerHostPerSecond: 5,
          },
        },
      }
      const other = synthesizeTestApp({ context })
      const [schedule] = Object.values(other.internal.findResources('AWS::Scheduler::Schedule'))
      const fn =
        other.internal.toJSON().Resources[
          other.stacks.internal.getLogicalId(
            other.stacks.internal.healthCheck.function.node.defaultChild as CfnElement,
          )
        ]

      expect(schedule?.Properties.ScheduleExpression).toBe('rate(6 hours)')
      expect(fn.Properties.Environment.Variables.HEALTH_CHECKS_PER_HOST_PER_SECOND).toBe('5')
    })

    it("let the Scheduler's role invoke the health-check function and nothing else", () => {
      const schedule = onlyResource('AWS::Scheduler::Schedule') as {
        Target: { RoleArn: { 'Fn::GetAtt': string[] } }
      }
      const roleId = schedule.Target.RoleArn['Fn::GetAtt'][0] as string
      const fnArn = { 'Fn::GetAtt': [internalId(synthesized.stacks.internal.healthCheck.function), 'Arn'] }

      const grants = roleGrants(synthesized.internal, roleId, (value) => JSON.stringify(value))

      expect(grants.map((grant) => grant.action)).toEqual(['lambda:InvokeFunction', 'lambda:InvokeFunction'])
      expect(grants.map((grant) => grant.resource).sort()).toEqual(
        [JSON.stringify(fnArn), JSON.stringify({ 'Fn::Join': ['', [fnArn, ':*']] })].sort(),
      )
    })

    it('retry a run that died with the same event, for an hour at most', () => {
      const config = onlyResource('AWS::Lambda::EventInvokeConfig')

      expect(config).toMatchObject({ MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 3600 })
    })
  })

  describe('outputs', () => {
    it('names the bus, the dead-letter queue, the resolve, verifier and health-check functions for the platform', () => {
      const stack = synthesized.stacks.internal
      const expected = {
        EventBusName: { Ref: internalId(stack.eventBus) },
        EventBusArn: { 'Fn::GetAtt': [internalId(stack.eventBus), 'Arn'] },
        PublishFailuresQueueUrl: { Ref: internalId(stack.publishFailures) },
        ResolveFunctionName: { Ref: internalId(stack.resolver.function) },
        ResolveFunctionArn: { 'Fn::GetAtt': [internalId(stack.resolver.function), 'Arn'] },
        CredentialVerifierFunctionName: { Ref: internalId(stack.verifier.function) },
        HealthCheckFunctionName: { Ref: internalId(stack.healthCheck.function) },
      }

      // the CDK's own exports (ExportsOutput…) carry values to the monitoring stack; they are no
      // outputs meant for the platform
      const outputs = Object.keys(synthesized.internal.toJSON().Outputs).filter(
        (name) => !name.startsWith('ExportsOutput'),
      )
      expect(outputs.sort()).toEqual(Object.keys(expected).sort())
      for (const [name, value] of Object.entries(expected)) {
        synthesized.internal.hasOutput(name, { Value: value, Description: Match.stringLikeRegexp('.') })
      }
    })
  })
})
