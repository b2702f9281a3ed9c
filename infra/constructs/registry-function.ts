import { basename, dirname, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { AssetHashType, DockerImage, Duration, Validations } from 'aws-cdk-lib'
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam'
import {
  Architecture,
  type CfnFunction,
  Code,
  Function as LambdaFunction,
  Runtime,
  Tracing,
} from 'aws-cdk-lib/aws-lambda'
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs'
import { Construct } from 'constructs'
import { bundleFunctionSync } from '../bundling/function-bundle.ts'
import { FUNCTION_NAME_METADATA_KEY } from '../function-metadata.ts'
import { functionTimeoutSeconds } from '../function-timeouts.ts'

// the bundling settings live in infra/bundling/function-bundle.ts; re-exported for the tests.
export {
  ESM_REQUIRE_SHIM,
  LAMBDA_ESBUILD_OPTIONS,
  LAMBDA_MODULE_ALIASES,
} from '../bundling/function-bundle.ts'

// the folder holding package.json: the asset's source (only its bundle is staged)
const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url))

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
   * Longest an invocation may run.
   * @default the function's timeout in infra/function-timeouts.ts (by its functions/ folder),
   * which the local stack runs it with too
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
 * local esbuild during synth with the AWS SDK inside (so the code runs against the SDK version it
 * was tested with), split so rarely used code loads on demand, minified with source maps of our own
 * code, X-Ray tracing, and a log group of its own with retention.
 *
 * The execution role is created here with no AWS managed policy: it may write only to this
 * function's log group (and send traces); callers add data access to {@link role} in policies of
 * their own, which the X-Ray acknowledgement on the default policy does not cover.
 */
export class RegistryFunction extends Construct {
  /** The Lambda function. */
  readonly function: LambdaFunction
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

    this.function = new LambdaFunction(this, 'Function', {
      handler: 'index.handler',
      code: Code.fromAsset(PROJECT_ROOT, {
        assetHashType: AssetHashType.OUTPUT,
        bundling: {
          // never Docker: the bundle is built by the esbuild in node_modules (in a child Node).
          image: DockerImage.fromRegistry('registry-function-bundles-locally'),
          // never run (the local bundling always succeeds), but part of CDK's bundling cache key:
          // without the entry in it, every function of a synth would get the first one's bundle.
          command: ['bundle', relative(PROJECT_ROOT, props.entry)],
          local: {
            tryBundle(outputDir: string) {
              bundleFunctionSync(props.entry, outputDir)
              return true
            },
          },
        },
      }),
      runtime: Runtime.NODEJS_24_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout ?? Duration.seconds(functionTimeoutSeconds(basename(dirname(props.entry)))),
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
        // stack traces name our TypeScript files and lines; the maps hold only our own code, so
        // the first logged error of a container (when Node decodes a map) stays cheap.
        NODE_OPTIONS: '--enable-source-maps',
      },
    })

    // names the function (its functions/ folder) in the template, next to the asset metadata
    const cfnFunction = this.function.node.defaultChild as CfnFunction
    cfnFunction.addMetadata(FUNCTION_NAME_METADATA_KEY, basename(dirname(props.entry)))

    // the role's default policy holds only the log writes above and what active tracing adds.
    Validations.of(this.role.node.findChild('DefaultPolicy')).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'xray:PutTraceSegments and xray:PutTelemetryRecords (active tracing) support no resource-level ' +
        'permissions; the default policy holds only those and the writes to the log group of the function.',
    })
  }
}
