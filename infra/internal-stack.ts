import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ArnFormat, CfnOutput, Duration, Stack, type StackProps, Validations } from 'aws-cdk-lib'
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb'
import { EventBus } from 'aws-cdk-lib/aws-events'
import { Effect, Policy, PolicyStatement } from 'aws-cdk-lib/aws-iam'
import type { IKey } from 'aws-cdk-lib/aws-kms'
import {
  CfnEventInvokeConfig,
  type CfnFunction,
  EventSourceMapping,
  FilterCriteria,
  type IEventSourceDlq,
  StartingPosition,
} from 'aws-cdk-lib/aws-lambda'
import type { RetentionDays } from 'aws-cdk-lib/aws-logs'
import {
  ContextAttribute,
  Schedule,
  ScheduleExpression,
  ScheduleTargetInput,
} from 'aws-cdk-lib/aws-scheduler'
import { LambdaInvoke } from 'aws-cdk-lib/aws-scheduler-targets'
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs'
import type { Construct } from 'constructs'
import {
  USE_WRITE_ATTRIBUTES,
  VERIFICATION_WRITE_ATTRIBUTES,
} from '../shared/adapters/credential-health-store.ts'
import { SCANNED_ATTRIBUTES } from '../shared/adapters/credential-scanner.ts'
import { CREDENTIAL_VERIFIER_FUNCTION_NAME } from '../shared/http/routes.ts'
import { RegistryFunction } from './constructs/registry-function.ts'
import { PUBLISHER_EVENT_SOURCE } from './publisher-event-source.ts'
import {
  acknowledgeCustomerRoleWildcard,
  CREDENTIAL_LEADING_KEYS,
  decryptingRoleName,
  type FunctionDataAccess,
  functionNameVariable,
  HEALTH_CHECK_FUNCTION_NAME,
  internalFunctionName,
  RESOLVE_FUNCTION_NAME,
  routePolicyStatements,
} from './route-permissions.ts'

/** Where the function folders live: `functions/<functionName>/handler.ts`. */
const FUNCTIONS_DIR = fileURLToPath(new URL('../functions/', import.meta.url))

/**
 * What the resolve function may do, in the route table's terms: read one credential item (the
 * envelope included) and decrypt it. No API key lookups: its callers are IAM principals.
 */
export const RESOLVE_DATA_ACCESS: FunctionDataAccess = {
  permission: null,
  credentialActions: ['dynamodb:GetItem'],
  secretsKey: 'open',
  // ecr credentials by role: sts:AssumeRole into customers' roles (never this account's)
  assumesCustomerRoles: true,
}

/**
 * What the credential verifier may do, in the route table's terms: read one credential item
 * (the envelope included) and decrypt it; recording the outcome is a separate statement that
 * allows only the verification attributes.
 */
export const VERIFIER_DATA_ACCESS: FunctionDataAccess = {
  permission: null,
  credentialActions: ['dynamodb:GetItem'],
  secretsKey: 'open',
  // an ecr credential by role is checked by assuming it, as resolve does (never this account's)
  assumesCustomerRoles: true,
  // each verification's activity record, in its own partition
  activityActions: ['dynamodb:PutItem'],
}

/** Records per invocation of the publisher ({@link PUBLISHER_EVENT_SOURCE}). */
export const PUBLISH_BATCH_SIZE = PUBLISHER_EVENT_SOURCE.batchSize

/** Redeliveries of a failed record before it is dead-lettered ({@link PUBLISHER_EVENT_SOURCE}). */
export const PUBLISH_RETRY_ATTEMPTS = PUBLISHER_EVENT_SOURCE.retryAttempts

/** Oldest record the publisher is still given ({@link PUBLISHER_EVENT_SOURCE}). */
export const PUBLISH_MAX_RECORD_AGE = Duration.seconds(PUBLISHER_EVENT_SOURCE.maxRecordAgeSeconds)

/** Properties of the {@link InternalStack}. */
export interface InternalStackProps extends StackProps {
  /** The single table (with its NEW_AND_OLD_IMAGES stream), from the stateful stack. */
  readonly table: ITableV2
  /** The secrets key, from the stateful stack. */
  readonly secretsKey: IKey
  /** Prefix of the fixed name of the resolve role, which the secrets key names. */
  readonly stackNamePrefix: string
  /** Name of the custom event bus the change events are published to. */
  readonly eventBusName: string
  /** Retention of every function's log group. */
  readonly logRetention: RetentionDays
  /** `POWERTOOLS_LOG_LEVEL` of every function. */
  readonly logLevel: string
  /** `POWERTOOLS_SERVICE_NAME` of every function. */
  readonly serviceName: string
  /** `POWERTOOLS_METRICS_NAMESPACE` of every function: where their EMF metrics go. */
  readonly metricsNamespace: string
  /**
   * Minutes between two scheduled health runs.
   * @default 1440 (daily)
   */
  readonly healthCheckIntervalMinutes?: number
  /**
   * Checks a health run starts per registry host per second, at most.
   * @default 2
   */
  readonly healthChecksPerHostPerSecond?: number
  /**
   * Folder holding one sub-folder per function, each with a `handler.ts`.
   * @default the repository's `functions/` folder
   */
  readonly functionsDir?: string
}

/**
 * What the platform's deploy system uses, none of it reachable through the public API:
 * - change events: the table's stream drives a publisher that puts `DockerRegistryCredential*`
 *   events on a custom bus, reporting partial batch failures and dead-lettering what it cannot
 *   publish, so a committed write is never silently without its event;
 * - the resolve function, invoked directly by IAM principals, which hands out a decrypted login.
 */
export class InternalStack extends Stack {
  /** The bus the change events are published to. */
  readonly eventBus: EventBus
  /** The stream-triggered publisher of change events. */
  readonly publisher: RegistryFunction
  /** The publisher's on-failure destination: metadata of the batches it gave up on. */
  readonly publishFailures: Queue
  /** The mapping of the table's stream to the publisher. */
  readonly tableStream: EventSourceMapping
  /** The function that resolves a stored credential into a registry login. */
  readonly resolver: RegistryFunction
  /** The internal verifier: the only function that decrypts for a verification. */
  readonly verifier: RegistryFunction
  /** The fan-out of the scheduled health checks. */
  readonly healthCheck: RegistryFunction
  /** The schedule of the health runs. */
  readonly healthSchedule: Schedule

  constructor(scope: Construct, id: string, props: InternalStackProps) {
    super(scope, id, props)

    const streamArn = props.table.tableStreamArn
    if (streamArn === undefined) throw new Error('the table must have a stream to publish change events')
    const functionsDir = props.functionsDir ?? FUNCTIONS_DIR
    const functionDefaults = {
      serviceName: props.serviceName,
      metricsNamespace: props.metricsNamespace,
      logLevel: props.logLevel,
      logRetention: props.logRetention,
    }

    this.eventBus = new EventBus(this, 'EventBus', {
      eventBusName: props.eventBusName,
      description: 'Docker registry credential change events (source registry-credentials)',
    })

    // SQS-managed encryption, not a KMS key: the publisher's role stays without any KMS permission.
    // Lambda puts only batch metadata here (shard, sequence numbers, reason), never a record, so no
    // envelope ever reaches the queue.
    this.publishFailures = new Queue(this, 'PublishFailures', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    })

    this.publisher = new RegistryFunction(this, 'PublishCredentialEvents', {
      ...functionDefaults,
      entry: join(functionsDir, PUBLISHER_EVENT_SOURCE.functionName, 'handler.ts'),
      description: 'Publishes credential change events from the table stream',
      environment: { EVENT_BUS_NAME: this.eventBus.eventBusName },
    })
    this.grantDataAccess(this.publisher, [
      new PolicyStatement({
        sid: 'PublishEvents',
        effect: Effect.ALLOW,
        actions: ['events:PutEvents'],
        resources: [this.eventBus.eventBusArn],
      }),
      // what the event source mapping reads with the function's role. No dynamodb:ListStreams:
      // it supports no resource-level permission, and the mapping names its stream by ARN.
      new PolicyStatement({
        sid: 'ReadTableStream',
        effect: Effect.ALLOW,
        actions: ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator'],
        resources: [streamArn],
      }),
      new PolicyStatement({
        sid: 'DeadLetterFailedBatches',
        effect: Effect.ALLOW,
        actions: ['sqs:SendMessage'],
        resources: [this.publishFailures.queueArn],
      }),
    ])

    this.tableStream = new EventSourceMapping(this, 'TableStream', {
      target: this.publisher.function,
      eventSourceArn: streamArn,
      // TRIM_HORIZON, not LATEST: when the mapping is first created (or ever replaced) it starts
      // from the oldest record the stream still holds, so writes made before it existed are
      // published rather than lost; the duplicates this can cause carry the same event_id.
      startingPosition: StartingPosition.TRIM_HORIZON,
      batchSize: PUBLISH_BATCH_SIZE,
      reportBatchItemFailures: true,
      // only a thrown error or a timeout splits a batch; a reported item failure retries from it.
      bisectBatchOnError: PUBLISHER_EVENT_SOURCE.bisectBatchOnError,
      retryAttempts: PUBLISH_RETRY_ATTEMPTS,
      maxRecordAge: PUBLISH_MAX_RECORD_AGE,
      // one batch per shard at a time: the events of one credential are published in write order.
      parallelizationFactor: 1,
      onFailure: this.deadLetterDestination(),
      // credential items only (the local stack's poller applies the same pattern)
      filters: [FilterCriteria.filter(PUBLISHER_EVENT_SOURCE.filterPattern)],
    })

    // any dead letter is an event the consumers did not get: the monitoring stack alarms on it.

    this.resolver = new RegistryFunction(this, 'ResolveDockerRegistry', {
      ...functionDefaults,
      entry: join(functionsDir, RESOLVE_FUNCTION_NAME, 'handler.ts'),
      roleName: decryptingRoleName(props.stackNamePrefix, RESOLVE_FUNCTION_NAME),
      description: 'Resolves a stored credential into a registry login (internal, IAM invoke only)',
      // the KMS key id comes from the envelope, so the key's ARN is not configured; the ECR
      // exchange signs with the customer's key pair or assumed role, so the role has no ECR
      // permission either; it may only assume customers' roles.
      environment: { TABLE_NAME: props.table.tableName },
    })
    acknowledgeCustomerRoleWildcard(
      this.grantDataAccess(this.resolver, [
        ...routePolicyStatements(RESOLVE_DATA_ACCESS, {
          tableArn: props.table.tableArn,
          secretsKeyArn: props.secretsKey.keyArn,
        }),
        // the last-use stamp, and nothing else: UpdateItem of its two attributes only
        new PolicyStatement({
          sid: 'StampLastUse',
          effect: Effect.ALLOW,
          actions: ['dynamodb:UpdateItem'],
          resources: [props.table.tableArn],
          conditions: {
            'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [CREDENTIAL_LEADING_KEYS] },
            'ForAllValues:StringEquals': { 'dynamodb:Attributes': [...USE_WRITE_ATTRIBUTES] },
            StringEqualsIfExists: { 'dynamodb:ReturnValues': ['NONE'] },
          },
        }),
      ]),
    )
    this.node.addValidation({ validate: () => this.resolverDestinationErrors() })

    const functionArn = (name: string) =>
      this.formatArn({
        service: 'lambda',
        resource: 'function',
        resourceName: internalFunctionName(props.stackNamePrefix, name),
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      })
    const tableResources = { tableArn: props.table.tableArn, secretsKeyArn: props.secretsKey.keyArn }

    this.verifier = new RegistryFunction(this, 'CredentialVerifier', {
      ...functionDefaults,
      entry: join(functionsDir, CREDENTIAL_VERIFIER_FUNCTION_NAME, 'handler.ts'),
      functionName: internalFunctionName(props.stackNamePrefix, CREDENTIAL_VERIFIER_FUNCTION_NAME),
      roleName: decryptingRoleName(props.stackNamePrefix, CREDENTIAL_VERIFIER_FUNCTION_NAME),
      description: 'Verifies a stored credential against its registry (internal, IAM invoke only)',
      environment: { TABLE_NAME: props.table.tableName },
    })
    const verifierAccess = this.grantDataAccess(this.verifier, [
      ...routePolicyStatements(VERIFIER_DATA_ACCESS, tableResources),
      // the outcome, and nothing else: UpdateItem of the verification attributes only, so this
      // role can never rewrite a credential's fields or its envelope
      new PolicyStatement({
        sid: 'RecordVerifications',
        effect: Effect.ALLOW,
        actions: ['dynamodb:UpdateItem'],
        resources: [props.table.tableArn],
        conditions: {
          'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [CREDENTIAL_LEADING_KEYS] },
          'ForAllValues:StringEquals': { 'dynamodb:Attributes': [...VERIFICATION_WRITE_ATTRIBUTES] },
          StringEqualsIfExists: { 'dynamodb:ReturnValues': ['NONE'] },
        },
      }),
    ])

    acknowledgeCustomerRoleWildcard(verifierAccess)

    const healthCheckName = internalFunctionName(props.stackNamePrefix, HEALTH_CHECK_FUNCTION_NAME)
    this.healthCheck = new RegistryFunction(this, 'HealthCheck', {
      ...functionDefaults,
      entry: join(functionsDir, HEALTH_CHECK_FUNCTION_NAME, 'handler.ts'),
      functionName: healthCheckName,
      description: 'Scheduled health checks: re-verifies every credential through the verifier',
      environment: {
        TABLE_NAME: props.table.tableName,
        [functionNameVariable(CREDENTIAL_VERIFIER_FUNCTION_NAME)]: internalFunctionName(
          props.stackNamePrefix,
          CREDENTIAL_VERIFIER_FUNCTION_NAME,
        ),
        HEALTH_CHECKS_PER_HOST_PER_SECOND: String(props.healthChecksPerHostPerSecond ?? 2),
      },
    })
    this.grantDataAccess(this.healthCheck, [
      // Scan has no partition key for LeadingKeys to scope: the attribute list is what keeps the
      // envelopes (and every other attribute) out of this role's reach
      new PolicyStatement({
        sid: 'ScanCredentialIds',
        effect: Effect.ALLOW,
        actions: ['dynamodb:Scan'],
        resources: [props.table.tableArn],
        conditions: {
          'ForAllValues:StringEquals': { 'dynamodb:Attributes': [...SCANNED_ATTRIBUTES] },
          StringEquals: { 'dynamodb:Select': 'SPECIFIC_ATTRIBUTES' },
        },
      }),
      // the verifier for each credential, and itself to continue a run that needs longer
      new PolicyStatement({
        sid: 'InvokeVerifierAndContinue',
        effect: Effect.ALLOW,
        actions: ['lambda:InvokeFunction'],
        resources: [functionArn(CREDENTIAL_VERIFIER_FUNCTION_NAME), functionArn(HEALTH_CHECK_FUNCTION_NAME)],
      }),
    ])
    // an invocation that dies (a timeout) is retried with the same run id, which skips what it
    // already checked; an hour old, a run is dropped: the next one is due anyway
    this.healthCheck.function.configureAsyncInvoke({ retryAttempts: 2, maxEventAge: Duration.hours(1) })

    this.healthSchedule = new Schedule(this, 'HealthCheckSchedule', {
      description: 'Re-verifies every credential (the run id is the scheduled time)',
      schedule: ScheduleExpression.rate(Duration.minutes(props.healthCheckIntervalMinutes ?? 1440)),
      target: new LambdaInvoke(this.healthCheck.function, {
        input: ScheduleTargetInput.fromObject({ run_id: ContextAttribute.scheduledTime }),
        retryAttempts: 2,
        maxEventAge: Duration.hours(1),
      }),
    })

    this.acknowledgeFindings()

    new CfnOutput(this, 'EventBusName', {
      description:
        'Bus of the DockerRegistryCredentialCreated|Updated|Deleted events (source registry-credentials)',
      value: this.eventBus.eventBusName,
    })
    new CfnOutput(this, 'EventBusArn', {
      description: "ARN of the change event bus, for consumers' rules and cross-account policies",
      value: this.eventBus.eventBusArn,
    })
    new CfnOutput(this, 'PublishFailuresQueueUrl', {
      description: 'Dead letters of the change event publisher: batch metadata to replay from the stream',
      value: this.publishFailures.queueUrl,
    })
    new CfnOutput(this, 'ResolveFunctionName', {
      description: 'Resolve function: grant the deploy system lambda:InvokeFunction on it',
      value: this.resolver.function.functionName,
    })
    new CfnOutput(this, 'CredentialVerifierFunctionName', {
      description: 'The internal verifier (the verify route and the health checks invoke it)',
      value: this.verifier.function.functionName,
    })
    new CfnOutput(this, 'HealthCheckFunctionName', {
      description: 'The health-check fan-out: invoke it with {"run_id": "<any id>"} to start a run now',
      value: this.healthCheck.function.functionName,
    })
    new CfnOutput(this, 'ResolveFunctionArn', {
      description: 'ARN of the resolve function, the resource of the lambda:InvokeFunction grant',
      value: this.resolver.function.functionArn,
    })
  }

  // data access in a policy of its own, apart from the logs and X-Ray statements of the role's
  // default policy, so nothing here hides behind the X-Ray acknowledgement; the function (and so
  // the event source mapping, which Lambda validates against the role) waits for it.
  private grantDataAccess(registryFunction: RegistryFunction, statements: PolicyStatement[]): Policy {
    const dataAccess = new Policy(registryFunction, 'DataAccess', {
      statements,
      roles: [registryFunction.role],
    })
    registryFunction.function.node.addDependency(dataAccess)
    return dataAccess
  }

  // SqsDlq would also grant sqs:GetQueueAttributes and sqs:GetQueueUrl to the role; the statement
  // above grants the one action Lambda uses.
  private deadLetterDestination(): IEventSourceDlq {
    const queueArn = this.publishFailures.queueArn
    return { bind: () => ({ destination: queueArn }) }
  }

  // the resolve function answers with a password: an on-success destination of its asynchronous
  // invocations (EventBridge rule targets) would copy every login into a queue, topic or bus.
  private resolverDestinationErrors(): string[] {
    const functionName = JSON.stringify(this.resolve(this.resolver.function.functionName))
    return this.node
      .findAll()
      .filter((node): node is CfnEventInvokeConfig => node instanceof CfnEventInvokeConfig)
      .filter((config) => JSON.stringify(this.resolve(config.functionName)) === functionName)
      .filter((config) => this.resolve(config.destinationConfig)?.onSuccess !== undefined)
      .map(
        (config) =>
          `${config.node.path}: the resolve function returns a password and must have no on-success destination`,
      )
  }

  private acknowledgeFindings(): void {
    // the role the Scheduler target creates for itself (CDK names it per target)
    for (const child of this.node.children) {
      if (!child.node.id.startsWith('SchedulerRoleForTarget')) continue
      const policy = child.node.tryFindChild('DefaultPolicy')
      if (!policy) continue
      Validations.of(policy).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${this.getLogicalId(this.healthCheck.function.node.defaultChild as CfnFunction)}.Arn>:*]`,
        reason:
          "The Scheduler's role may invoke the health-check function only: CDK's grantInvoke adds the " +
          "function's own versions and aliases (<arn>:*) beside its ARN; no other function is covered.",
      })
    }
    Validations.of(this.publishFailures).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        'This queue is itself the dead-letter destination (on-failure destination of the table stream ' +
        'mapping of the event publisher); nothing consumes it automatically, so it has no DLQ of its own.',
    })
  }
}
