import { type App, Validations } from 'aws-cdk-lib'
import { AwsSolutionsChecks } from 'cdk-nag'
import { routeList } from '../shared/http/routes.ts'
import { INTERNAL_OPERATIONS } from '../shared/runtime/metrics.ts'
import { ApiStack } from './api-stack.ts'
import { InternalStack } from './internal-stack.ts'
import { MonitoringStack } from './monitoring-stack.ts'
import { DECRYPTING_FUNCTION_NAMES, decryptingRoleName, routeUsesSecretsKey } from './route-permissions.ts'
import { type ResolvedStageSettings, stageSettingsFromContext } from './stage-settings.ts'
import { StatefulStack } from './stateful-stack.ts'

/** The stacks of one stage. */
export interface RegistryCredentialsStacks {
  /** The stage's settings, defaults applied. */
  readonly settings: ResolvedStageSettings
  /** The table and the secrets key. */
  readonly stateful: StatefulStack
  /** The REST API and its functions. */
  readonly api: ApiStack
  /** What the platform uses: change events (bus, stream publisher) and the resolve function. */
  readonly internal: InternalStack
  /** Alarms on every failure mode into one topic, and the dashboard. */
  readonly monitoring: MonitoringStack
}

/**
 * Builds the stage selected in the context into `app` and registers cdk-nag's AWS Solutions pack,
 * so every synth (CLI or test) fails on an unacknowledged finding.
 */
export function buildRegistryCredentialsApp(app: App): RegistryCredentialsStacks {
  const settings = stageSettingsFromContext(app)
  const tags = { service: settings.serviceName, stage: settings.stage }
  // one namespace per stage: two stages in one account never mix their metrics or alarms
  const metricsNamespace = settings.stackNamePrefix

  const stateful = new StatefulStack(app, 'Stateful', {
    stackName: `${settings.stackNamePrefix}-stateful`,
    description: 'Registry credentials: table and secrets key (retained)',
    tags,
    secretsKeyAlias: settings.secretsKeyAlias,
    decryptingRoleNames: DECRYPTING_FUNCTION_NAMES.map((name) =>
      decryptingRoleName(settings.stackNamePrefix, name),
    ),
  })

  const api = new ApiStack(app, 'Api', {
    stackName: `${settings.stackNamePrefix}-api`,
    description: 'Registry credentials: Sevalla v3 REST API and its functions',
    tags,
    routes: routeList,
    table: stateful.table,
    secretsKey: stateful.secretsKey,
    apiStageName: settings.apiStageName,
    throttlingRateLimit: settings.throttlingRateLimit,
    throttlingBurstLimit: settings.throttlingBurstLimit,
    rateLimitPerKey: { limit: settings.rateLimitPerKey, windowSeconds: settings.rateLimitWindowSeconds },
    rateLimitPerIp: settings.rateLimitPerIp,
    logRetention: settings.logRetention,
    logLevel: settings.logLevel,
    serviceName: settings.serviceName,
    metricsNamespace,
    credentialLimit: settings.credentialLimit,
    stackNamePrefix: settings.stackNamePrefix,
  })

  const internal = new InternalStack(app, 'Internal', {
    stackName: `${settings.stackNamePrefix}-internal`,
    description: 'Registry credentials: change events and the resolve function of the deploy system',
    tags,
    table: stateful.table,
    secretsKey: stateful.secretsKey,
    eventBusName: settings.eventBusName,
    stackNamePrefix: settings.stackNamePrefix,
    logRetention: settings.logRetention,
    logLevel: settings.logLevel,
    serviceName: settings.serviceName,
    healthCheckIntervalMinutes: settings.healthCheckIntervalMinutes,
    healthChecksPerHostPerSecond: settings.healthChecksPerHostPerSecond,
    metricsNamespace,
  })

  const monitoring = new MonitoringStack(app, 'Monitoring', {
    stackName: `${settings.stackNamePrefix}-monitoring`,
    description: 'Registry credentials: alarms, their SNS topic and the dashboard',
    tags,
    stackNamePrefix: settings.stackNamePrefix,
    serviceName: settings.serviceName,
    metricsNamespace,
    ...(settings.alarmTopicArn === undefined ? {} : { alarmTopicArn: settings.alarmTopicArn }),
    api: api.api,
    apiStageName: settings.apiStageName,
    webAcl: api.webAcl.webAcl,
    table: stateful.table,
    functions: [
      ...routeList.map((route) => {
        const registryFunction = api.functions.get(route.functionName)
        if (!registryFunction) throw new Error(`no function for ${route.functionName}`)
        return {
          operation: route.operationId,
          function: registryFunction.function,
          usesKms: routeUsesSecretsKey(route),
        }
      }),
      { operation: INTERNAL_OPERATIONS.resolve, function: internal.resolver.function, usesKms: true },
      { operation: INTERNAL_OPERATIONS.publish, function: internal.publisher.function, usesKms: false },
      { operation: INTERNAL_OPERATIONS.verifier, function: internal.verifier.function, usesKms: true },
      { operation: INTERNAL_OPERATIONS.healthCheck, function: internal.healthCheck.function, usesKms: false },
    ],
    publisher: internal.publisher.function,
    resolver: internal.resolver.function,
    publishFailures: internal.publishFailures,
  })

  Validations.of(app).addPlugins(new AwsSolutionsChecks(app))
  return { settings, stateful, api, internal, monitoring }
}
