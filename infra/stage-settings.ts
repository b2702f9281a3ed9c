import { RetentionDays } from 'aws-cdk-lib/aws-logs'
import type { Construct } from 'constructs'
import { isCredentialLimit, MAX_CREDENTIAL_LIMIT } from '../shared/domain/credential-limit.ts'

/**
 * Settings of one deployment stage, as written under `stages.<name>` in the `cdk.json` context.
 * Everything that differs between stages lives here, so no construct holds a stage literal.
 */
export interface StageSettings {
  /** Prefix of the CloudFormation stack names, e.g. `RegistryCredentials-dev`. */
  readonly stackNamePrefix: string
  /** Name of the API Gateway stage (the first path segment of the execute-api URL). */
  readonly apiStageName: string
  /** Alias of the secrets key, e.g. `alias/registry-credentials/dev/secrets`. */
  readonly secretsKeyAlias: string
  /**
   * Name of the custom EventBridge bus the credential change events are published to, e.g.
   * `registry-credentials-dev`; the platform's consumers put their rules on it by this name.
   */
  readonly eventBusName: string
  /**
   * Steady-state requests per second the API stage accepts before answering 429.
   * @default 50
   */
  readonly throttlingRateLimit?: number
  /**
   * Requests the API stage accepts in a burst above the rate limit.
   * @default 100
   */
  readonly throttlingBurstLimit?: number
  /**
   * Requests one API key (one `Authorization` header value) may make per
   * {@link rateLimitWindowSeconds} before the web ACL answers 429; at least 10 (WAF's minimum).
   * @default 600
   */
  readonly rateLimitPerKey?: number
  /**
   * Requests one source IP may make per {@link rateLimitWindowSeconds}, whatever key it sends;
   * above the per-key limit, so one key alone never trips it.
   * @default 3000
   */
  readonly rateLimitPerIp?: number
  /**
   * The window both rate limits count over, in seconds: 60, 120, 300 or 600 (what WAF offers).
   * @default 60
   */
  readonly rateLimitWindowSeconds?: number
  /**
   * ARN of an existing SNS topic every alarm notifies; when absent the monitoring stack creates a
   * KMS-encrypted topic and outputs its ARN.
   * @default - a topic of the monitoring stack
   */
  readonly alarmTopicArn?: string
  /**
   * Days the function and access logs are kept; one of the values CloudWatch Logs accepts.
   * @default 30
   */
  readonly logRetentionDays?: number
  /**
   * Level of the functions' structured logs (`POWERTOOLS_LOG_LEVEL`).
   * @default 'INFO'
   */
  readonly logLevel?: LogLevel
  /**
   * Service name in logs and traces (`POWERTOOLS_SERVICE_NAME`) and in the stacks' tags.
   * @default 'registry-credentials'
   */
  readonly serviceName?: string
  /**
   * Minutes between two scheduled health runs (each re-verifies every credential).
   * @default 1440 (daily)
   */
  readonly healthCheckIntervalMinutes?: number
  /**
   * Checks a health run starts per registry host per second, at most.
   * @default 2
   */
  readonly healthChecksPerHostPerSecond?: number
  /**
   * Most credentials one company may hold: a create beyond it answers 409
   * `credential_limit_reached`. At most 10,000, so a list's `total` always fits the contract.
   * @default 1000
   */
  readonly credentialLimit?: number
}

/** Log levels Powertools accepts. */
export type LogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR'

/** A stage's settings with every default applied. */
export interface ResolvedStageSettings extends Required<Omit<StageSettings, 'alarmTopicArn'>> {
  /** {@link StageSettings.alarmTopicArn}, absent when the stack creates its topic. */
  readonly alarmTopicArn: string | undefined
  /** The stage's key in the `stages` context object. */
  readonly stage: string
  /** {@link StageSettings.logRetentionDays} as the CDK enum. */
  readonly logRetention: RetentionDays
}

const LOG_LEVELS: readonly LogLevel[] = ['DEBUG', 'INFO', 'WARN', 'ERROR']
const RETENTION_DAYS = new Set<number>(
  Object.values(RetentionDays).filter((value): value is number => typeof value === 'number'),
)
/** Every setting a stage in `cdk.json` may have (the README's deploy table lists each). */
export const STAGE_SETTING_KEYS: ReadonlySet<string> = new Set<string>([
  'stackNamePrefix',
  'apiStageName',
  'secretsKeyAlias',
  'eventBusName',
  'throttlingRateLimit',
  'throttlingBurstLimit',
  'rateLimitPerKey',
  'rateLimitPerIp',
  'rateLimitWindowSeconds',
  'alarmTopicArn',
  'logRetentionDays',
  'logLevel',
  'serviceName',
  'healthCheckIntervalMinutes',
  'healthChecksPerHostPerSecond',
  'credentialLimit',
])

/** The evaluation windows a WAF rate-based rule accepts, in seconds. */
export const RATE_LIMIT_WINDOWS_SECONDS: readonly number[] = [60, 120, 300, 600]

/** WAF's bounds on a rate-based rule's limit. */
const RATE_LIMIT_MIN = 10
const RATE_LIMIT_MAX = 2_000_000_000

/** Thrown when the `cdk.json` context does not describe a usable stage. */
export class StageSettingsError extends Error {
  override readonly name = 'StageSettingsError'
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function requiredString(stage: string, raw: Record<string, unknown>, key: string, pattern: RegExp): string {
  const value = raw[key]
  if (typeof value !== 'string' || !pattern.test(value)) {
    throw new StageSettingsError(`stages.${stage}.${key} must be a string matching ${pattern}`)
  }
  return value
}

function positiveNumber(stage: string, raw: Record<string, unknown>, key: string, fallback: number): number {
  const value = raw[key] ?? fallback
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new StageSettingsError(`stages.${stage}.${key} must be a positive number`)
  }
  return value
}

/**
 * Validates one stage's raw context object and applies the defaults. Unknown keys are rejected,
 * so a misspelt setting fails the synth instead of silently keeping its default.
 */
export function resolveStageSettings(stage: string, raw: unknown): ResolvedStageSettings {
  if (!isRecord(raw)) throw new StageSettingsError(`stages.${stage} must be an object`)
  const unknown = Object.keys(raw).filter((key) => !STAGE_SETTING_KEYS.has(key))
  if (unknown.length > 0) {
    throw new StageSettingsError(`stages.${stage} has unknown settings: ${unknown.join(', ')}`)
  }
  const throttlingBurstLimit = positiveNumber(stage, raw, 'throttlingBurstLimit', 100)
  if (!Number.isInteger(throttlingBurstLimit)) {
    throw new StageSettingsError(`stages.${stage}.throttlingBurstLimit must be an integer`)
  }
  const logRetentionDays = raw.logRetentionDays ?? 30
  if (typeof logRetentionDays !== 'number' || !RETENTION_DAYS.has(logRetentionDays)) {
    throw new StageSettingsError(
      `stages.${stage}.logRetentionDays must be one of ${[...RETENTION_DAYS].sort((a, b) => a - b).join(', ')}`,
    )
  }
  const logLevel = raw.logLevel ?? 'INFO'
  if (typeof logLevel !== 'string' || !LOG_LEVELS.includes(logLevel as LogLevel)) {
    throw new StageSettingsError(`stages.${stage}.logLevel must be one of ${LOG_LEVELS.join(', ')}`)
  }
  const healthCheckIntervalMinutes = positiveNumber(stage, raw, 'healthCheckIntervalMinutes', 1440)
  if (!Number.isInteger(healthCheckIntervalMinutes) || healthCheckIntervalMinutes < 5) {
    throw new StageSettingsError(
      `stages.${stage}.healthCheckIntervalMinutes must be an integer of at least 5`,
    )
  }
  const rateLimits = resolveRateLimits(stage, raw)
  const alarmTopicArn =
    raw.alarmTopicArn === undefined
      ? undefined
      : requiredString(
          stage,
          raw,
          'alarmTopicArn',
          /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$/,
        )
  const credentialLimit = raw.credentialLimit ?? 1000
  if (!isCredentialLimit(credentialLimit)) {
    throw new StageSettingsError(
      `stages.${stage}.credentialLimit must be a whole number from 1 to ${MAX_CREDENTIAL_LIMIT}`,
    )
  }
  return {
    stage,
    healthCheckIntervalMinutes,
    healthChecksPerHostPerSecond: positiveNumber(stage, raw, 'healthChecksPerHostPerSecond', 2),
    ...rateLimits,
    alarmTopicArn,
    credentialLimit,
    // at most 40 characters: the fixed names of the decrypting roles (`<prefix>-verify-docker-registry`)
    // must fit IAM's 64
    stackNamePrefix: requiredString(stage, raw, 'stackNamePrefix', /^[A-Za-z][A-Za-z0-9-]{0,39}$/),
    apiStageName: requiredString(stage, raw, 'apiStageName', /^[A-Za-z0-9_]{1,128}$/),
    secretsKeyAlias: requiredString(stage, raw, 'secretsKeyAlias', /^alias\/(?!aws\/)[A-Za-z0-9/_-]{1,250}$/),
    // a custom bus: not the account's `default` bus, not a partner (`aws.…`, with slashes) bus
    eventBusName: requiredString(stage, raw, 'eventBusName', /^(?!default$)(?!aws\.)[A-Za-z0-9._-]{1,256}$/),
    throttlingRateLimit: positiveNumber(stage, raw, 'throttlingRateLimit', 50),
    throttlingBurstLimit,
    logRetentionDays,
    logRetention: logRetentionDays as RetentionDays,
    logLevel: logLevel as LogLevel,
    serviceName:
      raw.serviceName === undefined
        ? 'registry-credentials'
        : requiredString(stage, raw, 'serviceName', /^[a-z][a-z0-9-]{0,62}$/),
  }
}

function integerInRange(stage: string, raw: Record<string, unknown>, key: string, fallback: number): number {
  const value = raw[key] ?? fallback
  if (
    typeof value !== 'number' ||
    !Number.isInteger(value) ||
    value < RATE_LIMIT_MIN ||
    value > RATE_LIMIT_MAX
  ) {
    throw new StageSettingsError(
      `stages.${stage}.${key} must be an integer from ${RATE_LIMIT_MIN} to ${RATE_LIMIT_MAX}`,
    )
  }
  return value
}

// the per-IP limit must stay above the per-key one: a single well-behaved key from one address
// (a CI runner) must meet its own limit first, with the per-key 429 it can act on.
function resolveRateLimits(
  stage: string,
  raw: Record<string, unknown>,
): Pick<ResolvedStageSettings, 'rateLimitPerKey' | 'rateLimitPerIp' | 'rateLimitWindowSeconds'> {
  const rateLimitPerKey = integerInRange(stage, raw, 'rateLimitPerKey', 600)
  const rateLimitPerIp = integerInRange(stage, raw, 'rateLimitPerIp', 3000)
  if (rateLimitPerIp <= rateLimitPerKey) {
    throw new StageSettingsError(`stages.${stage}.rateLimitPerIp must be above rateLimitPerKey`)
  }
  const rateLimitWindowSeconds = raw.rateLimitWindowSeconds ?? 60
  if (
    typeof rateLimitWindowSeconds !== 'number' ||
    !RATE_LIMIT_WINDOWS_SECONDS.includes(rateLimitWindowSeconds)
  ) {
    throw new StageSettingsError(
      `stages.${stage}.rateLimitWindowSeconds must be one of ${RATE_LIMIT_WINDOWS_SECONDS.join(', ')}`,
    )
  }
  return { rateLimitPerKey, rateLimitPerIp, rateLimitWindowSeconds }
}

/**
 * Reads the selected stage (`-c stage=<name>`, default from `cdk.json`) and its settings from
 * the context, failing with a message that names the stages that do exist.
 */
export function stageSettingsFromContext(scope: Construct): ResolvedStageSettings {
  const stages: unknown = scope.node.tryGetContext('stages')
  if (!isRecord(stages) || Object.keys(stages).length === 0) {
    throw new StageSettingsError('cdk.json context must define "stages" with at least one stage')
  }
  const known = Object.keys(stages).join(', ')
  const stage: unknown = scope.node.tryGetContext('stage')
  if (typeof stage !== 'string' || stage === '') {
    throw new StageSettingsError(`no stage selected: pass -c stage=<name>, one of ${known}`)
  }
  if (!Object.hasOwn(stages, stage)) {
    throw new StageSettingsError(`unknown stage "${stage}": cdk.json context "stages" defines ${known}`)
  }
  return resolveStageSettings(stage, stages[stage])
}
