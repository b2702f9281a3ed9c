import { Match } from 'aws-cdk-lib/assertions'
import type { CfnRestApi } from 'aws-cdk-lib/aws-apigateway'
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda'
import { beforeAll, describe, expect, it } from 'vitest'
import { GATEWAY_ERRORS } from '../../shared/http/gateway-errors.ts'
import { type Route, routeList, routes } from '../../shared/http/routes.ts'
import { type SynthesizedApp, synthesizeTestApp } from './infra-app.ts'

type Resources = Record<string, { Type: string; Properties: Record<string, unknown> }>

// the full path of an API Gateway resource, rebuilt from its PathPart and ParentId chain.
function resourcePath(resources: Resources, logicalId: string | undefined, rootId: string): string {
  if (logicalId === undefined) return ''
  const resource = resources[logicalId]
  if (!resource) throw new Error(`no resource ${logicalId}`)
  const parent = resource.Properties.ParentId as { Ref?: string; 'Fn::GetAtt'?: [string, string] }
  const parentPath = parent['Fn::GetAtt']?.[0] === rootId ? '' : resourcePath(resources, parent.Ref, rootId)
  return `${parentPath}/${resource.Properties.PathPart}`
}

describe('ApiStack', () => {
  let synthesized: SynthesizedApp
  let resources: Resources

  beforeAll(() => {
    synthesized = synthesizeTestApp()
    resources = synthesized.api.toJSON().Resources
  })

  function functionLogicalId(route: Route): string {
    const registryFunction = synthesized.stacks.api.functions.get(route.functionName)
    if (!registryFunction) throw new Error(`no function for ${route.functionName}`)
    return synthesized.stacks.api.getLogicalId(registryFunction.function.node.defaultChild as CfnFunction)
  }

  function functionProperties(route: Route): Record<string, unknown> {
    const properties = resources[functionLogicalId(route)]?.Properties
    if (!properties) throw new Error(`no function resource for ${route.functionName}`)
    return properties
  }

  describe('functions', () => {
    it('has one function per route, and no other', () => {
      synthesized.api.resourceCountIs('AWS::Lambda::Function', routeList.length)
      expect(new Set(routeList.map(functionLogicalId)).size).toBe(routeList.length)
    })

    it.each(routeList.map((route) => [route.functionName, route] as const))(
      '%s runs on nodejs24.x, arm64, traced',
      (_name, route) => {
        expect(functionProperties(route)).toMatchObject({
          Runtime: 'nodejs24.x',
          Architectures: ['arm64'],
          TracingConfig: { Mode: 'Active' },
          Handler: 'index.handler',
        })
      },
    )

    it.each(routeList.map((route) => [route.functionName, route] as const))(
      '%s logs to a log group of its own, kept for the stage retention',
      (_name, route) => {
        const logGroupRef = (functionProperties(route).LoggingConfig as { LogGroup: { Ref: string } })
          .LogGroup.Ref
        expect(resources[logGroupRef]).toMatchObject({
          Type: 'AWS::Logs::LogGroup',
          Properties: { RetentionInDays: 14 },
        })
      },
    )

    it('gives the create function the table, the key, the credential limit, Powertools settings and source maps', () => {
      const environment = functionProperties(routes.createDockerRegistry).Environment as { Variables: object }

      expect(Object.keys(environment.Variables).sort()).toEqual([
        'CREDENTIAL_LIMIT',
        'NODE_OPTIONS',
        'POWERTOOLS_LOG_LEVEL',
        'POWERTOOLS_METRICS_NAMESPACE',
        'POWERTOOLS_SERVICE_NAME',
        'SECRETS_KEY_ARN',
        'TABLE_NAME',
      ])
      expect(environment.Variables).toMatchObject({
        NODE_OPTIONS: '--enable-source-maps',
        POWERTOOLS_SERVICE_NAME: 'registry-credentials',
        POWERTOOLS_LOG_LEVEL: 'DEBUG',
        // one namespace per stage, the one the monitoring stack's alarms read
        POWERTOOLS_METRICS_NAMESPACE: 'RegistryCredentials-dev',
        CREDENTIAL_LIMIT: '1000',
      })
    })

    it('tells only the create function the credential limit', () => {
      for (const route of routeList) {
        const variables = (functionProperties(route).Environment as { Variables: object }).Variables
        expect(Object.hasOwn(variables, 'CREDENTIAL_LIMIT'), route.functionName).toBe(
          route === routes.createDockerRegistry,
        )
      }
    })

    it('tells only the functions that use the secrets key where it is', () => {
      for (const route of routeList) {
        const variables = (functionProperties(route).Environment as { Variables: object }).Variables
        expect(Object.hasOwn(variables, 'SECRETS_KEY_ARN'), route.functionName).toBe(
          route.secretsKey !== 'none',
        )
      }
    })

    it('tells the ExternalId function the internal resolve and verifier roles, by their fixed names', () => {
      const variables = (
        functionProperties(routes.getExternalId).Environment as { Variables: Record<string, unknown> }
      ).Variables
      const prefix = synthesized.stacks.settings.stackNamePrefix
      const arns = JSON.stringify(variables.ASSUMING_ROLE_ARNS)

      expect(arns).toContain(`:role/${prefix}-resolve-docker-registry,arn:`)
      expect(arns).toContain(`:role/${prefix}-credential-verifier`)
      // the public verify function assumes nothing any more: the verifier does
      expect(arns).not.toContain('verify-docker-registry')
    })

    it('never aims an exchange elsewhere: no function gets an endpoint override', () => {
      for (const route of routeList) {
        const variables = (functionProperties(route).Environment as { Variables: object }).Variables
        expect(
          Object.keys(variables).filter((name) => name.includes('ENDPOINT') || name.includes('OVERRIDE')),
          route.functionName,
        ).toEqual([])
      }
    })

    it('gives the OpenAPI document function no table', () => {
      const variables = (functionProperties(routes.getOpenApiDocument).Environment as { Variables: object })
        .Variables

      expect(variables).not.toHaveProperty('TABLE_NAME')
    })
  })

  describe('methods', () => {
    it.each(routeList.map((route) => [`${route.method} ${route.path}`, route] as const))(
      '%s exists and proxies to its own function, with no gateway authorization',
      (_name, route) => {
        const restApiId = synthesized.stacks.api.getLogicalId(
          synthesized.stacks.api.api.node.defaultChild as CfnRestApi,
        )
        const methods = Object.values(resources).filter(
          (resource) =>
            resource.Type === 'AWS::ApiGateway::Method' &&
            resource.Properties.HttpMethod === route.method &&
            resourcePath(resources, (resource.Properties.ResourceId as { Ref?: string }).Ref, restApiId) ===
              route.path,
        )

        expect(methods).toHaveLength(1)
        const properties = methods[0]?.Properties ?? {}
        expect(properties).toMatchObject({
          AuthorizationType: 'NONE',
          Integration: { Type: 'AWS_PROXY', IntegrationHttpMethod: 'POST' },
        })
        expect(JSON.stringify((properties.Integration as { Uri?: unknown } | undefined)?.Uri)).toContain(
          JSON.stringify({ 'Fn::GetAtt': [functionLogicalId(route), 'Arn'] }),
        )
      },
    )
  })

  describe('stage', () => {
    it('is a regional API', () => {
      synthesized.api.hasResourceProperties('AWS::ApiGateway::RestApi', {
        EndpointConfiguration: { Types: ['REGIONAL'] },
      })
    })

    it('takes its name and throttling from the stage settings in cdk.json', () => {
      synthesized.api.hasResourceProperties('AWS::ApiGateway::Stage', {
        StageName: 'dev',
        TracingEnabled: true,
        MethodSettings: [
          Match.objectLike({
            HttpMethod: '*',
            ResourcePath: '/*',
            ThrottlingRateLimit: 20,
            ThrottlingBurstLimit: 40,
            LoggingLevel: 'ERROR',
            DataTraceEnabled: false,
          }),
        ],
      })
    })

    it('takes other throttling limits from another stage', () => {
      const prod = synthesizeTestApp({ context: { stage: 'prod' } })

      prod.api.hasResourceProperties('AWS::ApiGateway::Stage', {
        StageName: 'prod',
        MethodSettings: [Match.objectLike({ ThrottlingRateLimit: 200, ThrottlingBurstLimit: 400 })],
      })
    })

    it('writes JSON access logs to a log group with retention', () => {
      const [stage] = Object.values(synthesized.api.findResources('AWS::ApiGateway::Stage'))
      const setting = stage?.Properties.AccessLogSetting as { DestinationArn: unknown; Format: string }
      const accessLogGroups = synthesized.api.findResources('AWS::Logs::LogGroup', {
        Properties: { RetentionInDays: 14 },
      })
      const accessLogGroupId = Object.keys(accessLogGroups).find((id) =>
        JSON.stringify(setting.DestinationArn).includes(`"Ref":"${id}"`),
      )

      expect(accessLogGroupId).toBeDefined()
      expect(JSON.parse(setting.Format)).toMatchObject({
        requestId: '$context.requestId',
        status: '$context.status',
        errorType: '$context.error.responseType',
      })
      expect(setting.Format).not.toMatch(/authorization|requestOverride|\$input/i)
    })

    it('has the account-level CloudWatch role API Gateway needs to write logs, retained', () => {
      synthesized.api.hasResource('AWS::ApiGateway::Account', { DeletionPolicy: 'Retain' })
    })
  })

  describe('gateway responses', () => {
    it.each([
      'DEFAULT_4XX',
      'DEFAULT_5XX',
      'THROTTLED',
      'REQUEST_TOO_LARGE',
      'MISSING_AUTHENTICATION_TOKEN',
      'INTEGRATION_FAILURE',
      'INTEGRATION_TIMEOUT',
    ])('rewrites %s', (type) => {
      synthesized.api.hasResourceProperties('AWS::ApiGateway::GatewayResponse', { ResponseType: type })
    })

    it.each(GATEWAY_ERRORS.map((error) => [error.responseType, error] as const))(
      '%s answers the Sevalla error body with the same status and the request id',
      (type, error) => {
        const matches = Object.values(
          synthesized.api.findResources('AWS::ApiGateway::GatewayResponse', {
            Properties: { ResponseType: type },
          }),
        )
        expect(matches).toHaveLength(1)
        const properties = matches[0]?.Properties
        const body = JSON.parse(properties.ResponseTemplates['application/json'])

        expect(properties.StatusCode).toBe(String(error.status))
        // only static ('…') values or request parameters are valid gateway response header mappings
        for (const value of Object.values(properties.ResponseParameters ?? {})) {
          expect(value).toMatch(/^'.*'$|^method\.request\./)
        }
        expect(body.data.message).toContain('$context.requestId')
        expect(body).toEqual({
          message: expect.any(String),
          status: error.status,
          data: { code: expect.stringMatching(/^[a-z_]+$/), message: expect.any(String) },
        })
        expect(properties.ResponseTemplates['application/json']).not.toContain('$context.error.message')
      },
    )

    it('answers an unknown route with 404, not the 403 of API Gateway', () => {
      synthesized.api.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
        ResponseType: 'MISSING_AUTHENTICATION_TOKEN',
        StatusCode: '404',
      })
    })
  })
})
