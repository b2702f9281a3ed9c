import { App } from 'aws-cdk-lib'
import { RetentionDays } from 'aws-cdk-lib/aws-logs'
import { describe, expect, it } from 'vitest'
import {
  resolveStageSettings,
  StageSettingsError,
  stageSettingsFromContext,
} from '../../infra/stage-settings.ts'
import { cdkOutdir } from '../support/cdk-outdir.ts'
import { cdkJsonContext } from './infra-app.ts'

const minimal = {
  stackNamePrefix: 'RegistryCredentials-test',
  apiStageName: 'test',
  secretsKeyAlias: 'alias/registry-credentials/test/secrets',
  eventBusName: 'registry-credentials-test',
}

describe('stageSettingsFromContext', () => {
  it('reads the stage cdk.json selects by default', () => {
    // Arrange
    const app = new App({ outdir: cdkOutdir(), context: cdkJsonContext() })

    // Act
    const settings = stageSettingsFromContext(app)

    // Assert
    expect(settings.stage).toBe('dev')
    expect(settings.apiStageName).toBe('dev')
  })

  it('reads the stage chosen with -c stage=prod', () => {
    const app = new App({ outdir: cdkOutdir(), context: { ...cdkJsonContext(), stage: 'prod' } })

    const settings = stageSettingsFromContext(app)

    expect(settings).toMatchObject({
      stage: 'prod',
      stackNamePrefix: 'RegistryCredentials-prod',
      secretsKeyAlias: 'alias/registry-credentials/prod/secrets',
      eventBusName: 'registry-credentials-prod',
      logRetention: RetentionDays.ONE_YEAR,
    })
  })

  it('fails on an unknown stage, naming the stages that exist', () => {
    const app = new App({ outdir: cdkOutdir(), context: { ...cdkJsonContext(), stage: 'staging' } })

    expect(() => stageSettingsFromContext(app)).toThrow(
      new StageSettingsError('unknown stage "staging": cdk.json context "stages" defines dev, prod'),
    )
  })

  it('fails when the context has no stages', () => {
    const app = new App({ outdir: cdkOutdir(), context: { stage: 'dev' } })

    expect(() => stageSettingsFromContext(app)).toThrow(StageSettingsError)
  })
})

describe('resolveStageSettings', () => {
  it('applies the documented defaults', () => {
    const settings = resolveStageSettings('test', minimal)

    expect(settings).toEqual({
      ...minimal,
      stage: 'test',
      throttlingRateLimit: 50,
      throttlingBurstLimit: 100,
      rateLimitPerKey: 600,
      rateLimitPerIp: 3000,
      rateLimitWindowSeconds: 60,
      alarmTopicArn: undefined,
      logRetentionDays: 30,
      logRetention: RetentionDays.ONE_MONTH,
      logLevel: 'INFO',
      serviceName: 'registry-credentials',
      healthCheckIntervalMinutes: 1440,
      healthChecksPerHostPerSecond: 2,
      credentialLimit: 1000,
    })
  })

  it.each([0, 4, 90.5, -1, '60'])('rejects a health check interval of %s minutes', (minutes) => {
    expect(() => resolveStageSettings('test', { ...minimal, healthCheckIntervalMinutes: minutes })).toThrow(
      StageSettingsError,
    )
  })

  it.each([0, 10_001, 2.5, '1000'])(
    'rejects the credential limit %j (1 to 10,000 so total fits the contract)',
    (limit) => {
      expect(() => resolveStageSettings('test', { ...minimal, credentialLimit: limit })).toThrow(
        /credentialLimit must be a whole number from 1 to 10000/,
      )
    },
  )

  it('takes a credential limit up to 10,000', () => {
    expect(resolveStageSettings('test', { ...minimal, credentialLimit: 10_000 }).credentialLimit).toBe(10_000)
  })

  it('rejects a misspelt setting instead of silently using the default', () => {
    expect(() => resolveStageSettings('test', { ...minimal, throttlingRate: 10 })).toThrow(
      /unknown settings: throttlingRate/,
    )
  })

  it('rejects a stack name prefix too long for the fixed role names to fit IAM', () => {
    expect(() => resolveStageSettings('test', { ...minimal, stackNamePrefix: 'P'.repeat(41) })).toThrow(
      StageSettingsError,
    )
    expect(
      resolveStageSettings('test', { ...minimal, stackNamePrefix: 'P'.repeat(40) }).stackNamePrefix,
    ).toHaveLength(40)
  })

  it('rejects a retention CloudWatch Logs does not offer', () => {
    expect(() => resolveStageSettings('test', { ...minimal, logRetentionDays: 31 })).toThrow(
      /logRetentionDays must be one of/,
    )
  })

  it('rejects a missing key alias', () => {
    const { secretsKeyAlias: _omitted, ...withoutAlias } = minimal

    expect(() => resolveStageSettings('test', withoutAlias)).toThrow(/secretsKeyAlias/)
  })

  it('rejects a missing event bus name', () => {
    const { eventBusName: _omitted, ...withoutBus } = minimal

    expect(() => resolveStageSettings('test', withoutBus)).toThrow(/eventBusName/)
  })

  it.each(['default', 'aws.partner/example', 'has space'])('rejects %s as the event bus name', (name) => {
    expect(() => resolveStageSettings('test', { ...minimal, eventBusName: name })).toThrow(/eventBusName/)
  })

  it('rejects a non-positive throttling rate', () => {
    expect(() => resolveStageSettings('test', { ...minimal, throttlingRateLimit: 0 })).toThrow(
      /throttlingRateLimit must be a positive number/,
    )
  })

  it('reads the rate limits and the alarm topic', () => {
    const settings = resolveStageSettings('test', {
      ...minimal,
      rateLimitPerKey: 100,
      rateLimitPerIp: 1000,
      rateLimitWindowSeconds: 300,
      alarmTopicArn: 'arn:aws:sns:eu-west-1:123456789012:platform-alarms',
    })

    expect(settings).toMatchObject({
      rateLimitPerKey: 100,
      rateLimitPerIp: 1000,
      rateLimitWindowSeconds: 300,
      alarmTopicArn: 'arn:aws:sns:eu-west-1:123456789012:platform-alarms',
    })
  })

  it.each([9, 10.5, '100'])(
    'rejects %s as a per-key rate limit (WAF needs an integer of at least 10)',
    (limit) => {
      expect(() => resolveStageSettings('test', { ...minimal, rateLimitPerKey: limit })).toThrow(
        /rateLimitPerKey must be an integer from 10/,
      )
    },
  )

  it('rejects a per-IP limit that is not above the per-key limit', () => {
    expect(() =>
      resolveStageSettings('test', { ...minimal, rateLimitPerKey: 500, rateLimitPerIp: 500 }),
    ).toThrow(/rateLimitPerIp must be above rateLimitPerKey/)
  })

  it('rejects a window WAF does not offer', () => {
    expect(() => resolveStageSettings('test', { ...minimal, rateLimitWindowSeconds: 30 })).toThrow(
      /rateLimitWindowSeconds must be one of 60, 120, 300, 600/,
    )
  })

  it('rejects an alarm topic that is not an SNS topic ARN', () => {
    expect(() =>
      resolveStageSettings('test', { ...minimal, alarmTopicArn: 'arn:aws:sqs:eu-west-1:123456789012:q' }),
    ).toThrow(/alarmTopicArn/)
  })
})
