import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib'
import type { IRestApi } from 'aws-cdk-lib/aws-apigateway'
import { ComparisonOperator, MathExpression, Metric } from 'aws-cdk-lib/aws-cloudwatch'
import { BillingMode, type ITableV2 } from 'aws-cdk-lib/aws-dynamodb'
import { ServicePrincipal } from 'aws-cdk-lib/aws-iam'
import { Key } from 'aws-cdk-lib/aws-kms'
import type { IFunction } from 'aws-cdk-lib/aws-lambda'
import { type ITopic, Topic } from 'aws-cdk-lib/aws-sns'
import type { IQueue } from 'aws-cdk-lib/aws-sqs'
import type { CfnWebACL } from 'aws-cdk-lib/aws-wafv2'
import {
  type CustomMetricGroup,
  DefaultDashboardFactory,
  MetricStatistic,
  MonitoringFacade,
  SnsAlarmActionStrategy,
} from 'cdk-monitoring-constructs'
import type { Construct } from 'constructs'
import { INTERNAL_OPERATIONS, METRIC } from '../shared/runtime/metrics.ts'

/** The period every alarm evaluates. */
export const ALARM_PERIOD = Duration.minutes(5)

/**
 * Every alarm's threshold, with the reason it is where it is. The alarms notify one topic; the
 * `reason` is the alarm's description, so whoever is paged reads it first.
 */
export const ALARMS = {
  functionErrors: {
    maxCount: 0,
    reason:
      'The function failed (an uncaught error or a timeout). The API functions answer every expected error ' +
      'themselves and resolve returns failures as results, so any Lambda error is a bug or a dependency hang.',
  },
  functionThrottles: {
    maxCount: 0,
    reason:
      'Lambda refused invocations for lack of concurrency: callers got 500s (API) or failed invokes ' +
      '(resolve, publisher). Raise the account concurrency or reserve some for this service.',
  },
  api5xxRate: {
    maxRate: 0.05,
    datapointsToAlarm: 2,
    evaluationPeriods: 3,
    reason:
      'More than 5% of API requests answered 5xx in two of the last three 5-minute periods: clients are ' +
      'failing. Look at the function errors and the DependencyUnavailable metrics on the dashboard.',
  },
  apiLatencyP99: {
    maxLatency: Duration.seconds(5),
    datapointsToAlarm: 2,
    evaluationPeriods: 3,
    reason:
      'p99 latency of the API above 5 s (verification may take up to its 5 s registry deadline, everything ' +
      'else takes well under a second; functions stop at 10 s): DynamoDB or KMS are slow, or cold starts pile up.',
  },
  dynamoThrottledEvents: {
    maxCount: 0,
    reason:
      'DynamoDB throttled requests of the on-demand table (a hot partition or the account table limit): ' +
      'clients get 503 with Retry-After.',
  },
  dynamoSystemErrors: {
    maxCount: 0,
    reason: 'DynamoDB answered with internal errors: clients get 503; check the AWS Health Dashboard.',
  },
  streamIteratorAge: {
    maxAge: Duration.minutes(5),
    reason:
      'Change events are delayed: the publisher is more than 5 minutes behind the table stream (records ' +
      'older than 1 hour are dead-lettered). Check the publisher errors and the EventBridge bus.',
  },
  publishFailures: {
    maxMessages: 0,
    reason:
      'Credential change events were dead-lettered: replay the batch from the table stream using the shard ' +
      'and sequence numbers in the message (within the stream retention of 24 hours).',
  },
  kmsUnavailable: {
    maxCount: 5,
    reason:
      'KMS throttled or failed more than 5 calls in 5 minutes after the SDK retries (our DependencyUnavailable.KMS ' +
      'metric): creates, updates, verifications and resolves fail with 503 / dependency_unavailable. Check the ' +
      'KMS request quota of the account and region.',
  },
  wafBlockedRate: {
    // cdk-monitoring-constructs computes this rate in percent (the API's 5xx rate is a fraction)
    maxPercent: 10,
    datapointsToAlarm: 2,
    evaluationPeriods: 3,
    reason:
      'The web ACL blocked more than 10% of requests in two of the last three 5-minute periods: a client ' +
      'retrying without backoff, an integration above its per-key limit, or an attack. The per-rule graphs ' +
      'on the dashboard say which.',
  },
  resolveDependencyUnavailableRate: {
    maxPercent: 2,
    minInvocations: 10,
    datapointsToAlarm: 2,
    evaluationPeriods: 3,
    reason:
      'More than 2% of resolves (of at least 10 in 5 minutes) failed with dependency_unavailable: DynamoDB or ' +
      'KMS is failing us and deployments cannot get their registry login.',
  },
  resolveRegistryUnavailableRate: {
    maxPercent: 10,
    minInvocations: 10,
    datapointsToAlarm: 2,
    evaluationPeriods: 3,
    reason:
      'More than 10% of resolves (of at least 10 in 5 minutes) failed with registry_unavailable: ECR, STS or ' +
      "Google's token endpoint throttled or could not be reached for a token exchange; deployments of ECR and " +
      'Google images are failing.',
  },
} as const

/** The DynamoDB operations the functions and the stream use, whose system errors are summed. */
export const TABLE_OPERATIONS = [
  'GetItem',
  'PutItem',
  'UpdateItem',
  'DeleteItem',
  'Query',
  'TransactWriteItems',
  'TransactGetItems',
  'BatchWriteItem',
  'GetRecords',
] as const

/** One function to watch, with the operation its metrics carry as their dimension. */
export interface MonitoredFunction {
  readonly operation: string
  readonly function: IFunction
  /** Whether the function calls KMS (its DependencyUnavailable.KMS counts towards the KMS alarm). */
  readonly usesKms: boolean
}

/** Properties of the {@link MonitoringStack}. */
export interface MonitoringStackProps extends StackProps {
  /** Prefix of the alarm and dashboard names. */
  readonly stackNamePrefix: string
  /** `service` dimension of our own metrics. */
  readonly serviceName: string
  /** Namespace of our own (EMF) metrics. */
  readonly metricsNamespace: string
  /**
   * An existing topic to notify.
   * @default - a KMS-encrypted topic of this stack
   */
  readonly alarmTopicArn?: string
  readonly api: IRestApi
  readonly apiStageName: string
  readonly webAcl: CfnWebACL
  readonly table: ITableV2
  /** Every function of the service: the API's, the resolver and the publisher. */
  readonly functions: readonly MonitoredFunction[]
  /** The table stream's publisher (its IteratorAge is the events' delay). */
  readonly publisher: IFunction
  /** The resolve function (its invocations are the denominator of the resolve rates). */
  readonly resolver: IFunction
  /** The publisher's on-failure queue. */
  readonly publishFailures: IQueue
}

/**
 * What an operator of the service watches: alarms on every failure mode, all notifying one SNS
 * topic, and one CloudWatch dashboard with the API, the web ACL, every function, the table, the
 * event pipeline and our own metrics (outcomes per operation, resolve results, KMS failures).
 * Built with cdk-monitoring-constructs (cdklabs): its alarms and widgets come with the periods,
 * statistics and annotations the AWS metrics need; thresholds and reasons are ours ({@link ALARMS}).
 */
export class MonitoringStack extends Stack {
  /** The topic every alarm notifies (on alarm and on recovery). */
  readonly alarmTopic: ITopic
  /** The facade holding the alarms and the dashboard. */
  readonly monitoring: MonitoringFacade

  constructor(scope: Construct, id: string, props: MonitoringStackProps) {
    super(scope, id, props)

    this.alarmTopic =
      props.alarmTopicArn === undefined
        ? this.createAlarmTopic()
        : Topic.fromTopicArn(this, 'AlarmTopic', props.alarmTopicArn)

    this.monitoring = new MonitoringFacade(this, 'Monitoring', {
      alarmFactoryDefaults: {
        alarmNamePrefix: props.stackNamePrefix,
        actionsEnabled: true,
        action: new SnsAlarmActionStrategy({ onAlarmTopic: this.alarmTopic, onOkTopic: this.alarmTopic }),
        datapointsToAlarm: 1,
        evaluationPeriods: 1,
      },
      metricFactoryDefaults: { namespace: props.metricsNamespace, period: ALARM_PERIOD },
      dashboardFactory: new DefaultDashboardFactory(this, 'Dashboards', {
        dashboardNamePrefix: props.stackNamePrefix,
        createDashboard: true,
        createSummaryDashboard: false,
        createAlarmDashboard: false,
      }),
    })

    this.monitorApi(props)
    this.monitorOwnMetrics(props)
    for (const monitored of props.functions) this.monitorFunction(monitored, props)
    this.monitorTable(props)
    this.monitorEventPipeline(props)

    new CfnOutput(this, 'AlarmTopicArn', {
      description: 'SNS topic every alarm of the service notifies: subscribe the on-call channel to it',
      value: this.alarmTopic.topicArn,
    })
  }

  // CloudWatch can publish to an encrypted topic only through a customer managed key whose policy
  // lets it (the AWS managed aws/sns key cannot be shared), so the topic gets a key of its own.
  private createAlarmTopic(): ITopic {
    const key = new Key(this, 'AlarmTopicKey', {
      description: 'Encrypts the alarm notifications of the registry credentials service',
      enableKeyRotation: true,
    })
    key.grant(new ServicePrincipal('cloudwatch.amazonaws.com'), 'kms:Decrypt', 'kms:GenerateDataKey*')
    return new Topic(this, 'AlarmTopic', {
      displayName: 'Registry credentials alarms',
      masterKey: key,
      enforceSSL: true,
    })
  }

  private monitorApi(props: MonitoringStackProps): void {
    this.monitoring.addLargeHeader(`${props.stackNamePrefix}: registry credentials`)
    this.monitoring.monitorApiGateway({
      api: props.api,
      apiStage: props.apiStageName,
      humanReadableName: 'API (all operations)',
      alarmFriendlyName: 'Api',
      add5XXFaultRateAlarm: {
        Critical: {
          maxErrorRate: ALARMS.api5xxRate.maxRate,
          datapointsToAlarm: ALARMS.api5xxRate.datapointsToAlarm,
          evaluationPeriods: ALARMS.api5xxRate.evaluationPeriods,
          alarmDescriptionOverride: ALARMS.api5xxRate.reason,
        },
      },
      addLatencyP99Alarm: {
        Critical: {
          maxLatency: ALARMS.apiLatencyP99.maxLatency,
          datapointsToAlarm: ALARMS.apiLatencyP99.datapointsToAlarm,
          evaluationPeriods: ALARMS.apiLatencyP99.evaluationPeriods,
          alarmDescriptionOverride: ALARMS.apiLatencyP99.reason,
        },
      },
    })
    this.monitoring.monitorWebApplicationFirewallAclV2({
      acl: props.webAcl,
      region: this.region,
      humanReadableName: 'Web ACL (rate limits, managed rules)',
      alarmFriendlyName: 'WebAcl',
      addBlockedRequestsRateAlarm: {
        Warning: {
          maxErrorRate: ALARMS.wafBlockedRate.maxPercent,
          datapointsToAlarm: ALARMS.wafBlockedRate.datapointsToAlarm,
          evaluationPeriods: ALARMS.wafBlockedRate.evaluationPeriods,
          alarmDescriptionOverride: ALARMS.wafBlockedRate.reason,
        },
      },
    })
  }

  private monitorFunction(monitored: MonitoredFunction, props: MonitoringStackProps): void {
    const isPublisher = monitored.function === props.publisher
    this.monitoring.monitorLambdaFunction({
      lambdaFunction: monitored.function,
      humanReadableName: `Function ${monitored.operation}`,
      alarmFriendlyName: monitored.operation,
      addFaultCountAlarm: {
        Critical: {
          maxErrorCount: ALARMS.functionErrors.maxCount,
          alarmDescriptionOverride: ALARMS.functionErrors.reason,
        },
      },
      addThrottlesCountAlarm: {
        Critical: {
          maxErrorCount: ALARMS.functionThrottles.maxCount,
          alarmDescriptionOverride: ALARMS.functionThrottles.reason,
        },
      },
      ...(isPublisher
        ? {
            addMaxIteratorAgeAlarm: {
              Critical: {
                maxAgeInMillis: ALARMS.streamIteratorAge.maxAge.toMilliseconds(),
                alarmDescriptionOverride: ALARMS.streamIteratorAge.reason,
              },
            },
          }
        : {}),
    })
  }

  private monitorTable(props: MonitoringStackProps): void {
    this.monitoring.monitorDynamoTable({
      table: props.table,
      billingMode: BillingMode.PAY_PER_REQUEST,
      humanReadableName: 'Table',
      alarmFriendlyName: 'Table',
      addReadThrottledEventsCountAlarm: {
        Critical: {
          maxThrottledEventsThreshold: ALARMS.dynamoThrottledEvents.maxCount,
          alarmDescriptionOverride: ALARMS.dynamoThrottledEvents.reason,
        },
      },
      addWriteThrottledEventsCountAlarm: {
        Critical: {
          maxThrottledEventsThreshold: ALARMS.dynamoThrottledEvents.maxCount,
          alarmDescriptionOverride: ALARMS.dynamoThrottledEvents.reason,
        },
      },
    })
    // by hand, not addSystemErrorCountAlarm: that one sums a fixed list of operations without
    // FILL (a period in which only one operation erred has no sum) and leaves out the
    // transactions the writes use.
    const systemErrors = new MathExpression({
      label: 'System errors (all operations)',
      expression: TABLE_OPERATIONS.map((operation) => `FILL(${operation.toLowerCase()}, 0)`).join(' + '),
      usingMetrics: Object.fromEntries(
        TABLE_OPERATIONS.map((operation) => [
          operation.toLowerCase(),
          new Metric({
            namespace: 'AWS/DynamoDB',
            metricName: 'SystemErrors',
            dimensionsMap: { TableName: props.table.tableName, Operation: operation },
            statistic: MetricStatistic.SUM,
            period: ALARM_PERIOD,
          }),
        ]),
      ),
      period: ALARM_PERIOD,
    })
    this.monitoring.monitorCustom({
      humanReadableName: 'Table: system errors',
      alarmFriendlyName: 'Table',
      metricGroups: [
        {
          title: 'DynamoDB system errors',
          metrics: [
            {
              metric: systemErrors,
              alarmFriendlyName: 'SystemErrors',
              addAlarm: {
                Critical: {
                  threshold: ALARMS.dynamoSystemErrors.maxCount,
                  comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
                  alarmDescriptionOverride: ALARMS.dynamoSystemErrors.reason,
                },
              },
            },
          ],
        },
      ],
    })
  }

  private monitorEventPipeline(props: MonitoringStackProps): void {
    this.monitoring.monitorSqsQueue({
      queue: props.publishFailures,
      humanReadableName: 'Change events: dead letters',
      alarmFriendlyName: 'PublishFailures',
      addQueueMaxSizeAlarm: {
        Critical: {
          maxMessageCount: ALARMS.publishFailures.maxMessages,
          alarmDescriptionOverride: ALARMS.publishFailures.reason,
        },
      },
    })
  }

  private ownMetric(props: MonitoringStackProps, operation: string, metricName: string): Metric {
    return new Metric({
      namespace: props.metricsNamespace,
      metricName,
      dimensionsMap: { service: props.serviceName, operation },
      statistic: MetricStatistic.SUM,
      period: ALARM_PERIOD,
    })
  }

  // our EMF metrics: what the AWS metrics cannot say (which error code, which dependency)
  private monitorOwnMetrics(props: MonitoringStackProps): void {
    const kmsUsers = props.functions.filter((monitored) => monitored.usesKms)
    const kmsFailures = new MathExpression({
      label: 'KMS calls failed or throttled (all functions)',
      expression: kmsUsers.map((_, index) => `FILL(k${index}, 0)`).join(' + '),
      usingMetrics: Object.fromEntries(
        kmsUsers.map((monitored, index) => [
          `k${index}`,
          this.ownMetric(props, monitored.operation, METRIC.dependencyUnavailable('KMS')),
        ]),
      ),
      period: ALARM_PERIOD,
    })
    const resolveRate = (code: string, minInvocations: number) => {
      // ids are unique per graph: one id per code
      const [failed, invocations] = [`${code}_count`, `${code}_invocations`]
      return new MathExpression({
        label: `${code} %`,
        // below the minimum count a rate says nothing (one failure of two resolves is 50%)
        expression: `IF(${invocations} >= ${minInvocations}, 100 * FILL(${failed}, 0) / ${invocations}, 0)`,
        usingMetrics: {
          [failed]: this.ownMetric(props, INTERNAL_OPERATIONS.resolve, METRIC.resolve(code)),
          [invocations]: props.resolver.metricInvocations({
            statistic: MetricStatistic.SUM,
            period: ALARM_PERIOD,
          }),
        },
        period: ALARM_PERIOD,
      })
    }

    const outcomes: CustomMetricGroup = {
      title: 'API outcomes per operation (Success, Error.<code>)',
      // an unquoted name matches by token: every Error.<code>
      metrics: [this.search(props, undefined, `(MetricName="${METRIC.success}" OR MetricName=Error)`)],
    }
    this.monitoring.monitorCustom({
      humanReadableName: 'Service metrics',
      alarmFriendlyName: 'Service',
      metricGroups: [
        outcomes,
        {
          title: 'Dependencies failed or throttled (after SDK retries)',
          metrics: [
            {
              metric: kmsFailures,
              alarmFriendlyName: 'KmsUnavailable',
              addAlarm: {
                Critical: {
                  threshold: ALARMS.kmsUnavailable.maxCount,
                  comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
                  alarmDescriptionOverride: ALARMS.kmsUnavailable.reason,
                },
              },
            },
          ],
        },
        {
          title: 'Resolve failures (% of invocations)',
          metrics: [
            {
              metric: resolveRate(
                'dependency_unavailable',
                ALARMS.resolveDependencyUnavailableRate.minInvocations,
              ),
              alarmFriendlyName: 'ResolveDependencyUnavailable',
              addAlarm: {
                Critical: {
                  threshold: ALARMS.resolveDependencyUnavailableRate.maxPercent,
                  comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
                  datapointsToAlarm: ALARMS.resolveDependencyUnavailableRate.datapointsToAlarm,
                  evaluationPeriods: ALARMS.resolveDependencyUnavailableRate.evaluationPeriods,
                  alarmDescriptionOverride: ALARMS.resolveDependencyUnavailableRate.reason,
                },
              },
            },
            {
              metric: resolveRate(
                'registry_unavailable',
                ALARMS.resolveRegistryUnavailableRate.minInvocations,
              ),
              alarmFriendlyName: 'ResolveRegistryUnavailable',
              addAlarm: {
                Warning: {
                  threshold: ALARMS.resolveRegistryUnavailableRate.maxPercent,
                  comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
                  datapointsToAlarm: ALARMS.resolveRegistryUnavailableRate.datapointsToAlarm,
                  evaluationPeriods: ALARMS.resolveRegistryUnavailableRate.evaluationPeriods,
                  alarmDescriptionOverride: ALARMS.resolveRegistryUnavailableRate.reason,
                },
              },
            },
          ],
        },
        {
          title: 'Resolve results by code',
          metrics: [this.search(props, INTERNAL_OPERATIONS.resolve, 'MetricName=Resolve')],
        },
        {
          title: 'Verification results, idempotent replays, limit refusals',
          metrics: [
            this.search(props, undefined, 'MetricName=Verification'),
            this.search(props, undefined, `MetricName="${METRIC.idempotentReplay}"`),
            this.search(props, undefined, `MetricName="${METRIC.limitRefused}"`),
          ],
        },
        {
          title: 'Change events',
          metrics: [
            this.ownMetric(props, INTERNAL_OPERATIONS.publish, METRIC.eventsPublished),
            this.ownMetric(props, INTERNAL_OPERATIONS.publish, METRIC.eventsNotPublished),
          ],
        },
      ],
    })
  }

  // a SEARCH over our namespace; an undefined operation matches every operation
  private search(props: MonitoringStackProps, operation: string | undefined, query: string) {
    return {
      searchQuery: query,
      namespace: props.metricsNamespace,
      dimensionsMap: { service: props.serviceName, operation: operation as string },
      statistic: MetricStatistic.SUM,
    }
  }
}
