import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ArnFormat, Aws, CfnOutput, RemovalPolicy, Stack, type StackProps, Validations } from 'aws-cdk-lib'
import {
  AccessLogField,
  AccessLogFormat,
  AuthorizationType,
  EndpointType,
  LambdaIntegration,
  LogGroupLogDestination,
  MethodLoggingLevel,
  ResponseType,
  RestApi,
} from 'aws-cdk-lib/aws-apigateway'
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb'
import { Policy } from 'aws-cdk-lib/aws-iam'
import type { IKey } from 'aws-cdk-lib/aws-kms'
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs'
import type { Construct } from 'constructs'
import { GATEWAY_ERRORS, gatewayErrorTemplate } from '../shared/http/gateway-errors.ts'
import type { RateLimit } from '../shared/http/rate-limit.ts'
import type { Route } from '../shared/http/routes.ts'
import { ApiWebAcl } from './constructs/api-web-acl.ts'
import { RegistryFunction } from './constructs/registry-function.ts'
import {
  acknowledgeCustomerRoleWildcard,
  DECRYPTING_FUNCTION_NAMES,
  decryptingRoleName,
  functionNameVariable,
  internalFunctionName,
  routeCreatesCredentials,
  routePolicyStatements,
  routeUsesSecretsKey,
  routeUsesTable,
} from './route-permissions.ts'

/** Where the function folders live: `functions/<functionName>/handler.ts`. */
const FUNCTIONS_DIR = fileURLToPath(new URL('../functions/', import.meta.url))

/** Properties of the {@link ApiStack}. */
export interface ApiStackProps extends StackProps {
  /** The operations to serve, normally `routeList` of `shared/http/routes.ts`. */
  readonly routes: readonly Route[]
  /** The single table, from the stateful stack. */
  readonly table: ITableV2
  /** The secrets key, from the stateful stack. */
  readonly secretsKey: IKey
  /** Name of the API Gateway stage. */
  readonly apiStageName: string
  /** Steady-state requests per second of the stage. */
  readonly throttlingRateLimit: number
  /** Burst of requests the stage accepts above the rate. */
  readonly throttlingBurstLimit: number
  /** The web ACL's per-API-key rate limit. */
  readonly rateLimitPerKey: RateLimit
  /** The web ACL's per-IP limit over the same window; above the per-key limit. */
  readonly rateLimitPerIp: number
  /** Retention of the access log and of every function's log group. */
  readonly logRetention: RetentionDays
  /** `POWERTOOLS_LOG_LEVEL` of every function. */
  readonly logLevel: string
  /** `POWERTOOLS_SERVICE_NAME` of every function. */
  readonly serviceName: string
  /** `POWERTOOLS_METRICS_NAMESPACE` of every function: where their EMF metrics go. */
  readonly metricsNamespace: string
  /** Prefix of the fixed names of the internal functions the routes invoke and the decrypting roles. */
  readonly stackNamePrefix: string
  /** Most credentials one company may hold, given to the functions that create them. */
  readonly credentialLimit: number
  /**
   * Folder holding one sub-folder per function, each with a `handler.ts`.
   * @default the repository's `functions/` folder
   */
  readonly functionsDir?: string
}

/** `create-docker-registry` → `CreateDockerRegistry`: the construct id of a route's function. */
export function functionConstructId(route: Route): string {
  return route.functionName
    .split('-')
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join('')
}

/**
 * The public Sevalla v3 API: a regional REST API with one Lambda proxy function per route of the
 * route table. API Gateway authenticates nobody; each function checks the API key itself.
 */
export class ApiStack extends Stack {
  /** The REST API. */
  readonly api: RestApi
  /** The function of each route, by `functionName`. */
  readonly functions: ReadonlyMap<string, RegistryFunction>
  /** The web ACL of the stage: per-key and per-IP rate limits, AWS managed rules. */
  readonly webAcl: ApiWebAcl

  constructor(scope: Construct, id: string, props: ApiStackProps) {
    super(scope, id, props)

    const accessLogGroup = new LogGroup(this, 'AccessLogs', { retention: props.logRetention })

    this.api = new RestApi(this, 'Api', {
      description: 'Docker registry credentials, Sevalla v3 compatible',
      endpointConfiguration: { types: [EndpointType.REGIONAL] },
      defaultMethodOptions: { authorizationType: AuthorizationType.NONE },
      // API Gateway needs an account-level role to write any log; it is kept on stack deletion
      // because every REST API of the account and region shares it.
      cloudWatchRole: true,
      cloudWatchRoleRemovalPolicy: RemovalPolicy.RETAIN,
      deployOptions: {
        stageName: props.apiStageName,
        throttlingRateLimit: props.throttlingRateLimit,
        throttlingBurstLimit: props.throttlingBurstLimit,
        tracingEnabled: true,
        metricsEnabled: true,
        // execution logs at ERROR only, and never data traces: a data trace would write request
        // bodies, secrets included, into CloudWatch.
        loggingLevel: MethodLoggingLevel.ERROR,
        dataTraceEnabled: false,
        accessLogDestination: new LogGroupLogDestination(accessLogGroup),
        accessLogFormat: accessLogFormat(),
      },
    })

    for (const error of GATEWAY_ERRORS) {
      this.api.addGatewayResponse(error.id, {
        type: ResponseType.of(error.responseType),
        statusCode: String(error.status),
        // only static values and request parameters map into gateway response headers; the
        // request id is in the body and in API Gateway's own x-amzn-RequestId header
        responseHeaders: {
          'content-type': "'application/json'",
          ...Object.fromEntries(
            Object.entries(error.headers ?? {}).map(([name, value]) => [name, `'${value}'`]),
          ),
        },
        templates: { 'application/json': gatewayErrorTemplate(error) },
      })
    }

    const functionsDir = props.functionsDir ?? FUNCTIONS_DIR
    const functions = new Map<string, RegistryFunction>()
    for (const route of props.routes) {
      const registryFunction = this.routeFunction(route, props, functionsDir)
      functions.set(route.functionName, registryFunction)
      this.api.root.resourceForPath(route.path).addMethod(
        route.method,
        // allowTestInvoke off: the console's test invocations would need a second, broader
        // invoke permission per method.
        new LambdaIntegration(registryFunction.function, { proxy: true, allowTestInvoke: false }),
        { authorizationType: AuthorizationType.NONE, operationName: route.operationId },
      )
    }
    this.functions = functions

    this.webAcl = new ApiWebAcl(this, 'WebAcl', {
      name: `${props.stackNamePrefix}-api`,
      stage: this.api.deploymentStage,
      perKey: props.rateLimitPerKey,
      perIpLimit: props.rateLimitPerIp,
    })

    this.acknowledgeFindings()

    new CfnOutput(this, 'ApiUrl', {
      description: 'Base URL of the v3 API (append /docker-registries)',
      value: this.api.urlForPath('/v3'),
    })
  }

  private routeFunction(route: Route, props: ApiStackProps, functionsDir: string): RegistryFunction {
    const environment: Record<string, string> = {}
    if (routeUsesTable(route)) environment.TABLE_NAME = props.table.tableName
    if (routeUsesSecretsKey(route)) environment.SECRETS_KEY_ARN = props.secretsKey.keyArn
    const internalName = (name: string) => internalFunctionName(props.stackNamePrefix, name)
    for (const invoked of route.invokes ?? [])
      environment[functionNameVariable(invoked)] = internalName(invoked)
    if (routeCreatesCredentials(route)) environment.CREDENTIAL_LIMIT = String(props.credentialLimit)
    if (route.namesAssumingRoles) {
      // the roles that assume customers' ECR roles are the decrypting ones (the internal resolve
      // and verifier functions), by their fixed names
      environment.ASSUMING_ROLE_ARNS = DECRYPTING_FUNCTION_NAMES.map(
        (name) =>
          `arn:${Aws.PARTITION}:iam::${Aws.ACCOUNT_ID}:role/${decryptingRoleName(props.stackNamePrefix, name)}`,
      ).join(',')
    }

    const registryFunction = new RegistryFunction(this, functionConstructId(route), {
      entry: join(functionsDir, route.functionName, 'handler.ts'),
      description: `${route.method} ${route.path}`,
      serviceName: props.serviceName,
      metricsNamespace: props.metricsNamespace,
      logLevel: props.logLevel,
      logRetention: props.logRetention,
      environment,
    })

    const statements = routePolicyStatements(route, {
      tableArn: props.table.tableArn,
      secretsKeyArn: props.secretsKey.keyArn,
      functionArn: (name) =>
        this.formatArn({
          service: 'lambda',
          resource: 'function',
          resourceName: internalName(name),
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        }),
    })
    if (statements.length > 0) {
      // data access in a policy of its own, apart from the logs and X-Ray statements of the
      // role's default policy, so nothing here hides behind the X-Ray acknowledgement.
      const dataAccess = new Policy(registryFunction, 'DataAccess', {
        statements,
        roles: [registryFunction.role],
      })
      registryFunction.function.node.addDependency(dataAccess)
      if (route.assumesCustomerRoles) acknowledgeCustomerRoleWildcard(dataAccess)
    }

    return registryFunction
  }

  private acknowledgeFindings(): void {
    const reasonNoGatewayAuth =
      'Every route but the public OpenAPI document authenticates inside its function with a Sevalla ' +
      'API key (Authorization: Bearer), checked against the hashed keys in the table with the ' +
      'permission of the route; Sevalla clients send no IAM signature or Cognito token.'
    Validations.of(this.api).acknowledge(
      { id: 'AwsSolutions-APIG4', reason: reasonNoGatewayAuth },
      { id: 'AwsSolutions-COG4', reason: reasonNoGatewayAuth },
      {
        id: 'AwsSolutions-APIG2',
        reason:
          'Each function validates path, query and body against the shared valibot schemas and answers ' +
          'with the Sevalla error body listing every failing field; a gateway validator would answer ' +
          'first, in another shape.',
      },
    )
    const cloudWatchRole = this.api.node.tryFindChild('CloudWatchRole')
    if (cloudWatchRole) {
      Validations.of(cloudWatchRole).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
        reason:
          'The account-level role API Gateway writes the logs of every REST API with, as AWS documents it; ' +
          'it serves all APIs of the account and region, so it cannot be scoped to the log groups of this API.',
      })
    }
  }
}

// one JSON object per request; no header is logged, so neither is the API key.
function accessLogFormat(): AccessLogFormat {
  return AccessLogFormat.custom(
    JSON.stringify({
      requestId: AccessLogField.contextRequestId(),
      extendedRequestId: AccessLogField.contextExtendedRequestId(),
      requestTime: AccessLogField.contextRequestTime(),
      sourceIp: AccessLogField.contextIdentitySourceIp(),
      userAgent: AccessLogField.contextIdentityUserAgent(),
      httpMethod: AccessLogField.contextHttpMethod(),
      resourcePath: AccessLogField.contextResourcePath(),
      path: AccessLogField.contextPath(),
      protocol: AccessLogField.contextProtocol(),
      status: AccessLogField.contextStatus(),
      responseLength: AccessLogField.contextResponseLength(),
      responseLatency: AccessLogField.contextResponseLatency(),
      integrationStatus: AccessLogField.contextIntegrationStatus(),
      integrationLatency: AccessLogField.contextIntegrationLatency(),
      errorType: AccessLogField.contextErrorResponseType(),
      xrayTraceId: AccessLogField.contextXrayTraceId(),
    }),
  )
}
