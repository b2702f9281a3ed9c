import { Match } from 'aws-cdk-lib/assertions'
import { beforeAll, describe, expect, it } from 'vitest'
import { ALARMS, TABLE_OPERATIONS } from '../../infra/monitoring-stack.ts'
import { routeList } from '../../shared/http/routes.ts'
import { type SynthesizedApp, synthesizeTestApp } from './infra-app.ts'

type Json = Record<string, any>

interface MetricStat {
  id: string
  namespace: string
  metricName: string
  dimensions: Record<string, unknown>
  stat: string
}

const PREFIX = 'RegistryCredentials-dev'
const NAMESPACE = PREFIX
const SERVICE = 'registry-credentials'

function alarms(synthesized: SynthesizedApp): Json[] {
  return Object.values(synthesized.monitoring.findResources('AWS::CloudWatch::Alarm')).map(
    (resource) => resource.Properties,
  )
}

function alarmNamed(synthesized: SynthesizedApp, name: string): Json {
  const matches = alarms(synthesized).filter((alarm) => alarm.AlarmName === `${PREFIX}-${name}`)
  expect(matches, `alarm ${name}`).toHaveLength(1)
  return matches[0] as Json
}

// the metrics an alarm reads, whatever the form (a plain metric or a math expression over several)
function metricsOf(alarm: Json): MetricStat[] {
  return (alarm.Metrics as Json[])
    .filter((entry) => entry.MetricStat)
    .map((entry) => ({
      id: entry.Id,
      namespace: entry.MetricStat.Metric.Namespace,
      metricName: entry.MetricStat.Metric.MetricName,
      dimensions: Object.fromEntries(
        (entry.MetricStat.Metric.Dimensions as Json[]).map((dimension) => [dimension.Name, dimension.Value]),
      ),
      stat: entry.MetricStat.Stat,
    }))
}

function expressionOf(alarm: Json): string | undefined {
  return (alarm.Metrics as Json[]).find((entry) => entry.ReturnData !== false && entry.Expression)?.Expression
}

// the export of a resource of another stack, as the monitoring stack imports it
const imported = (stack: string, logicalIdPrefix: string) => ({
  'Fn::ImportValue': expect.stringMatching(
    new RegExp(`^${PREFIX}-${stack}:ExportsOutput(Ref|FnGetAtt)${logicalIdPrefix}`),
  ),
})

const FUNCTIONS = [
  ...routeList.map((route) => ({
    operation: route.operationId,
    stack: 'api',
    logicalId: route.functionName
      .split('-')
      .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
      .join(''),
  })),
  { operation: 'resolveDockerRegistry', stack: 'internal', logicalId: 'ResolveDockerRegistry' },
  { operation: 'publishCredentialEvents', stack: 'internal', logicalId: 'PublishCredentialEvents' },
  { operation: 'credentialVerifier', stack: 'internal', logicalId: 'CredentialVerifier' },
  { operation: 'healthCheck', stack: 'internal', logicalId: 'HealthCheck' },
]

describe('MonitoringStack', () => {
  let dev: SynthesizedApp

  beforeAll(() => {
    dev = synthesizeTestApp()
  })

  describe('alarm topic', () => {
    it('is created, encrypted with a rotated key CloudWatch may use, and refuses plain HTTP', () => {
      dev.monitoring.resourceCountIs('AWS::SNS::Topic', 1)
      const [keyId] = Object.keys(dev.monitoring.findResources('AWS::KMS::Key'))
      dev.monitoring.hasResourceProperties('AWS::SNS::Topic', {
        KmsMasterKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] },
      })
      dev.monitoring.hasResourceProperties('AWS::KMS::Key', {
        EnableKeyRotation: true,
        KeyPolicy: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Allow',
              Principal: { Service: 'cloudwatch.amazonaws.com' },
              Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
            }),
          ]),
        },
      })
      dev.monitoring.hasResourceProperties('AWS::SNS::TopicPolicy', {
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          ]),
        },
      })
      dev.monitoring.hasOutput('AlarmTopicArn', { Value: { Ref: Match.stringLikeRegexp('^AlarmTopic') } })
    })

    it('is notified by every alarm, on alarm and on recovery', () => {
      const [topicId] = Object.keys(dev.monitoring.findResources('AWS::SNS::Topic'))

      expect(alarms(dev).length).toBeGreaterThan(0)
      for (const alarm of alarms(dev)) {
        expect(alarm.ActionsEnabled).toBe(true)
        expect(alarm.AlarmActions).toEqual([{ Ref: topicId }])
        expect(alarm.OKActions).toEqual([{ Ref: topicId }])
        expect(alarm.AlarmDescription).toMatch(/\S{10,}/)
      }
    })

    it("is the existing topic of cdk.json's alarmTopicArn when set, and then none is created", () => {
      const topicArn = 'arn:aws:sns:eu-west-1:123456789012:platform-alarms'
      const stages = {
        dev: {
          stackNamePrefix: PREFIX,
          apiStageName: 'dev',
          secretsKeyAlias: 'alias/registry-credentials/dev/secrets',
          eventBusName: 'registry-credentials-dev',
          alarmTopicArn: topicArn,
        },
      }
      const existing = synthesizeTestApp({ context: { stages } })

      existing.monitoring.resourceCountIs('AWS::SNS::Topic', 0)
      existing.monitoring.resourceCountIs('AWS::KMS::Key', 0)
      for (const alarm of alarms(existing)) expect(alarm.AlarmActions).toEqual([topicArn])
    })
  })

  describe('alarms', () => {
    it('has exactly the alarms below', () => {
      // 2 per function, iterator age, API 5xx + p99, WAF, 3 DynamoDB, queue, KMS, 2 resolve rates
      expect(alarms(dev)).toHaveLength(FUNCTIONS.length * 2 + 1 + 2 + 1 + 3 + 1 + 1 + 2)
    })

    it.each(FUNCTIONS)(
      'alarms on any error and any throttle of $operation',
      ({ operation, stack, logicalId }) => {
        for (const [suffix, metricName, threshold] of [
          ['Fault-Count-Critical', 'Errors', ALARMS.functionErrors.maxCount],
          ['Throttled-Count-Critical', 'Throttles', ALARMS.functionThrottles.maxCount],
        ] as const) {
          const alarm = alarmNamed(dev, `${operation}-${suffix}`)
          expect(metricsOf(alarm)).toEqual([
            {
              id: expect.any(String),
              namespace: 'AWS/Lambda',
              metricName,
              dimensions: { FunctionName: imported(stack, `${logicalId}Function`) },
              stat: 'Sum',
            },
          ])
          expect(alarm).toMatchObject({ Threshold: threshold, ComparisonOperator: 'GreaterThanThreshold' })
          expect(threshold).toBe(0)
        }
      },
    )

    it("alarms when the publisher's IteratorAge passes 5 minutes (events delayed)", () => {
      const alarm = alarmNamed(dev, 'publishCredentialEvents-Iterator-Age-Max-Critical')

      expect(metricsOf(alarm)).toEqual([
        expect.objectContaining({ namespace: 'AWS/Lambda', metricName: 'IteratorAge', stat: 'Maximum' }),
      ])
      expect(alarm).toMatchObject({ Threshold: 300_000, ComparisonOperator: 'GreaterThanThreshold' })
    })

    it("alarms on the API stage's 5xx rate above 5% in two of three periods", () => {
      const alarm = alarmNamed(dev, 'Api-Fault-Rate-Critical')

      expect(metricsOf(alarm)).toEqual([
        {
          id: expect.any(String),
          namespace: 'AWS/ApiGateway',
          metricName: '5XXError',
          dimensions: { ApiName: 'Api', Stage: 'dev' },
          stat: 'Average',
        },
      ])
      expect(alarm).toMatchObject({
        Threshold: 0.05,
        ComparisonOperator: 'GreaterThanThreshold',
        DatapointsToAlarm: 2,
        EvaluationPeriods: 3,
      })
    })

    it("alarms on the API stage's p99 latency above 5 s", () => {
      const alarm = alarmNamed(dev, 'Api-Latency-P99-Critical')

      expect(metricsOf(alarm)).toEqual([
        expect.objectContaining({
          namespace: 'AWS/ApiGateway',
          metricName: 'Latency',
          dimensions: { ApiName: 'Api', Stage: 'dev' },
          stat: 'p99',
        }),
      ])
      expect(alarm).toMatchObject({ Threshold: 5000, ComparisonOperator: 'GreaterThanThreshold' })
    })

    it.each([
      ['Table-Read-Throttled-Events-Critical', 'ReadThrottleEvents'],
      ['Table-Write-Throttled-Events-Critical', 'WriteThrottleEvents'],
    ])('alarms on any DynamoDB %s', (name, metricName) => {
      const alarm = alarmNamed(dev, name)

      expect(metricsOf(alarm)).toEqual([
        expect.objectContaining({
          namespace: 'AWS/DynamoDB',
          metricName,
          dimensions: expect.objectContaining({ TableName: imported('stateful', 'Table') }),
          stat: 'Sum',
        }),
      ])
      expect(alarm).toMatchObject({ Threshold: 0, ComparisonOperator: 'GreaterThanThreshold' })
    })

    it('alarms on any DynamoDB system error of any operation the service uses, transactions included', () => {
      const alarm = alarmNamed(dev, 'Table-SystemErrors-Critical')

      expect(metricsOf(alarm).map(({ id: _id, ...metric }) => metric)).toEqual(
        TABLE_OPERATIONS.map((operation) => ({
          namespace: 'AWS/DynamoDB',
          metricName: 'SystemErrors',
          dimensions: { TableName: imported('stateful', 'Table'), Operation: operation },
          stat: 'Sum',
        })),
      )
      expect(TABLE_OPERATIONS).toEqual(
        expect.arrayContaining(['TransactWriteItems', 'PutItem', 'GetRecords']),
      )
      // every term filled: one operation erring alone still makes a sum
      expect(expressionOf(alarm)).toBe(
        TABLE_OPERATIONS.map((operation) => `FILL(${operation.toLowerCase()}, 0)`).join(' + '),
      )
      expect(alarm).toMatchObject({ Threshold: 0, ComparisonOperator: 'GreaterThanThreshold' })
    })

    it('alarms as soon as anything is dead-lettered by the publisher', () => {
      const alarm = alarmNamed(dev, 'PublishFailures-Queue-Message-Count-Max-Critical')

      expect(metricsOf(alarm)).toEqual([
        expect.objectContaining({
          namespace: 'AWS/SQS',
          metricName: 'ApproximateNumberOfMessagesVisible',
          dimensions: { QueueName: imported('internal', 'PublishFailures') },
          stat: 'Maximum',
        }),
      ])
      expect(alarm).toMatchObject({ Threshold: 0, ComparisonOperator: 'GreaterThanThreshold' })
    })

    it('alarms on KMS failures counted by every function that calls KMS (our metric)', () => {
      const alarm = alarmNamed(dev, 'Service-KmsUnavailable-Critical')
      const kmsOperations = [
        ...routeList.filter((route) => route.secretsKey !== 'none').map((route) => route.operationId),
        'resolveDockerRegistry',
        'credentialVerifier',
      ]

      expect(metricsOf(alarm).map(({ id: _id, ...metric }) => metric)).toEqual(
        kmsOperations.map((operation) => ({
          namespace: NAMESPACE,
          metricName: 'DependencyUnavailable.KMS',
          dimensions: { service: SERVICE, operation },
          stat: 'Sum',
        })),
      )
      expect(expressionOf(alarm)).toBe(kmsOperations.map((_, index) => `FILL(k${index}, 0)`).join(' + '))
      expect(alarm).toMatchObject({ Threshold: 5, ComparisonOperator: 'GreaterThanThreshold' })
    })

    it('alarms when the web ACL blocks more than 10% of requests', () => {
      const alarm = alarmNamed(dev, 'WebAcl-Blocked-Rate-Warning')
      const dimensions = { Region: { Ref: 'AWS::Region' }, Rule: 'ALL', WebACL: `${PREFIX}-api` }

      expect(
        metricsOf(alarm).map(({ metricName, dimensions, namespace }) => ({
          metricName,
          dimensions,
          namespace,
        })),
      ).toEqual(
        expect.arrayContaining([
          { namespace: 'AWS/WAFV2', metricName: 'BlockedRequests', dimensions },
          { namespace: 'AWS/WAFV2', metricName: 'AllowedRequests', dimensions },
        ]),
      )
      expect(expressionOf(alarm)).toBe('100 * (blocked / (allowed + blocked))')
      expect(alarm).toMatchObject({
        Threshold: 10,
        ComparisonOperator: 'GreaterThanThreshold',
        DatapointsToAlarm: 2,
      })
      // the dimension is the web ACL's own name
      dev.api.hasResourceProperties('AWS::WAFv2::WebACL', { Name: `${PREFIX}-api` })
    })

    it.each([
      ['Service-ResolveDependencyUnavailable-Critical', 'dependency_unavailable', 2],
      ['Service-ResolveRegistryUnavailable-Warning', 'registry_unavailable', 10],
    ])('alarms on the %s rate of resolves', (name, code, percent) => {
      const alarm = alarmNamed(dev, name)

      expect(metricsOf(alarm).map(({ id: _id, ...metric }) => metric)).toEqual([
        {
          namespace: NAMESPACE,
          metricName: `Resolve.${code}`,
          dimensions: { service: SERVICE, operation: 'resolveDockerRegistry' },
          stat: 'Sum',
        },
        {
          namespace: 'AWS/Lambda',
          metricName: 'Invocations',
          dimensions: { FunctionName: imported('internal', 'ResolveDockerRegistryFunction') },
          stat: 'Sum',
        },
      ])
      expect(expressionOf(alarm)).toBe(
        `IF(${code}_invocations >= 10, 100 * FILL(${code}_count, 0) / ${code}_invocations, 0)`,
      )
      expect(alarm).toMatchObject({ Threshold: percent, ComparisonOperator: 'GreaterThanThreshold' })
    })

    it('gives our own metrics only the service and operation dimensions', () => {
      for (const alarm of alarms(dev)) {
        for (const metric of metricsOf(alarm).filter((candidate) => candidate.namespace === NAMESPACE)) {
          expect(Object.keys(metric.dimensions).sort()).toEqual(['operation', 'service'])
        }
      }
    })
  })

  describe('dashboard', () => {
    it('is one dashboard, named after the stage, showing every part of the service', () => {
      const dashboards = Object.values(dev.monitoring.findResources('AWS::CloudWatch::Dashboard'))
      expect(dashboards).toHaveLength(1)
      const properties = dashboards[0]?.Properties as Json
      const body = JSON.stringify(properties.DashboardBody)

      expect(properties.DashboardName).toBe(PREFIX)
      for (const shown of [
        'AWS/ApiGateway',
        'AWS/WAFV2',
        'AWS/DynamoDB',
        'AWS/SQS',
        'IteratorAge',
        ...FUNCTIONS.map(({ operation }) => operation),
        'DependencyUnavailable.KMS',
        'EventsPublished',
        'EventsNotPublished',
        'IdempotentReplay',
        'LimitRefused',
        'MetricName=Verification',
        'MetricName=Resolve',
        'MetricName=Error',
      ]) {
        expect(body, shown).toContain(shown)
      }
    })
  })
})
