import { Duration, Validations } from 'aws-cdk-lib'
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam'
import { Architecture, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda'
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs'
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs'
import { Construct } from 'constructs'

/**
 * Defines `require` inside the ESM bundle: a few CommonJS dependencies still call it, and esbuild's
 * ESM output has no `require` of its own.
 */
export const ESM_REQUIRE_SHIM =
  "import { createRequire as __createRequire } from 'node:module';const require = __createRequire(import.meta.url);"

/** Properties of a {@link RegistryFunction}. */
export interface RegistryFunctionProps {
  /** Path of the handler module (`functions/<name>/handler.ts`); it must export `handler`. */
  readonly entry: string
  /** Service name in logs and traces (`POWERTOOLS_SERVICE_NAME`). */
  readonly serviceName: string
  /**
   * CloudWatch namespace of the function's EMF metrics (`POWERTOOLS_METRICS_NAMESPACE`).
   * @default 'RegistryCredentials'
   */
  readonly metricsNamespace?: string
  /**
   * Level of the structured logs (`POWERTOOLS_LOG_LEVEL`).
   * @default 'INFO'
   */
  readonly logLevel?: string
  /**
   * How long the function's log group keeps its events.
   * @default RetentionDays.ONE_MONTH
   */
  readonly logRetention?: RetentionDays
  /**
   * Memory of the function, in MB; CPU grows with it, which is what shortens cold starts.
   * @default 512
   */
  readonly memorySize?: number
  /**
   * Longest an invocation may run; well under API Gateway's 29 s integration timeout.
   * @default Duration.seconds(10)
   */
  readonly timeout?: Duration
  /**
   * Environment variables besides the Powertools and source map settings.
   * @default - none
   */
  readonly environment?: Record<string, string>
  /**
   * Description of the function in the Lambda console.
   * @default - none
   */
  readonly description?: string
  /**
   * A fixed name for the execution role, for roles a key policy must name.
   * @default a name CloudFormation generates
   */
  readonly roleName?: string
  /**
   * A fixed function name, for internal functions other stacks (or the function itself) invoke.
   * @default a name CloudFormation generates
   */
  readonly functionName?: string
}

/**
 * The one Lambda function shape of this project: Node.js 24 on arm64, an ESM bundle built by the
 * local esbuild with the AWS SDK inside (so the code runs against the SDK version it was tested
 * with), minified with source maps, X-Ray tracing, and a log group of its own with retention.
 *
 * The execution role is created here with no AWS managed policy: it may write only to this
 * function's log group (and send traces); callers add data access to {@link role} in policies of
 * their own, which the X-Ray acknowledgement on the default policy does not cover.
 */
export class RegistryFunction extends Construct {
  /** The Lambda function. */
  readonly function: NodejsFunction
  /** The execution role; grant data access to it. */
  readonly role: Role
  /** The function's log group. */
  readonly logGroup: LogGroup

  constructor(scope: Construct, id: string, props: RegistryFunctionProps) {
    super(scope, id)

    this.logGroup = new LogGroup(this, 'LogGroup', {
      retention: props.logRetention ?? RetentionDays.ONE_MONTH,
    })

    // an explicit role instead of AWSLambdaBasicExecutionRole, whose logs:* on every log group
    // would let a compromised function write into (or create) any log group of the account.
    this.role = new Role(this, 'Role', {
      ...(props.roleName === undefined ? {} : { roleName: props.roleName }),
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of ${this.node.path}`,
    })
    this.logGroup.grantWrite(this.role)

    this.function = new NodejsFunction(this, 'Function', {
      entry: props.entry,
      handler: 'handler',
      runtime: Runtime.NODEJS_24_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout ?? Duration.seconds(10),
      tracing: Tracing.ACTIVE,
      role: this.role,
      logGroup: this.logGroup,
      ...(props.description === undefined ? {} : { description: props.description }),
      ...(props.functionName === undefined ? {} : { functionName: props.functionName }),
      environment: {
        ...props.environment,
        POWERTOOLS_SERVICE_NAME: props.serviceName,
        POWERTOOLS_METRICS_NAMESPACE: props.metricsNamespace ?? 'RegistryCredentials',
        POWERTOOLS_LOG_LEVEL: props.logLevel ?? 'INFO',
        NODE_OPTIONS: '--enable-source-maps',
      },
      bundling: {
        format: OutputFormat.ESM,
        target: 'node24',
        mainFields: ['module', 'main'],
        banner: ESM_REQUIRE_SHIM,
        minify: true,
        sourceMap: true,
        // bundle the AWS SDK instead of using the runtime's copy: the version is pinned by our
        // lockfile, and a bundle that loads only the clients it uses starts faster.
        externalModules: [],
        // never Docker: the bundle is built by the esbuild in node_modules.
        forceDockerBundling: false,
      },
    })

    // the role's default policy holds only the log writes above and what active tracing adds.
    Validations.of(this.role.node.findChild('DefaultPolicy')).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'xray:PutTraceSegments and xray:PutTelemetryRecords (active tracing) support no resource-level ' +
        'permissions; the default policy holds only those and the writes to the log group of the function.',
    })
  }
}
