import type { APIGatewayProxyEvent } from 'aws-lambda'
import { routeList } from '../../../shared/http/routes.ts'

/** What an API request to a bench child carries. */
export interface ApiRequest {
  functionName: string
  apiKey?: string
  pathParameters?: Record<string, string>
  query?: Record<string, string>
  body?: unknown
}

/** The API Gateway proxy event API Gateway would send the function behind `functionName`. */
export function apiEvent({
  functionName,
  apiKey,
  pathParameters,
  query,
  body,
}: ApiRequest): APIGatewayProxyEvent {
  const route = routeList.find((candidate) => candidate.functionName === functionName)
  if (!route) throw new Error(`no route is served by ${functionName}`)
  const path = route.path.replace(/\{(\w+)\}/g, (_, name: string) => pathParameters?.[name] ?? '')
  const headers: Record<string, string> = {
    Host: 'bench.local',
    ...(apiKey ? { Authorization: `Bearer ${apiKey}` } : {}),
    ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
  }
  const multiValueHeaders = Object.fromEntries(
    Object.entries(headers).map(([name, value]) => [name, [value]]),
  )
  const hasQuery = query !== undefined && Object.keys(query).length > 0
  return {
    resource: route.path,
    path,
    httpMethod: route.method,
    headers,
    multiValueHeaders,
    queryStringParameters: hasQuery ? query : null,
    multiValueQueryStringParameters: hasQuery
      ? Object.fromEntries(Object.entries(query).map(([name, value]) => [name, [value]]))
      : null,
    pathParameters: pathParameters ?? null,
    stageVariables: null,
    body: body === undefined ? null : JSON.stringify(body),
    isBase64Encoded: false,
    requestContext: {
      accountId: '000000000000',
      apiId: 'bench',
      authorizer: null,
      protocol: 'HTTP/1.1',
      httpMethod: route.method,
      identity: { sourceIp: '127.0.0.1' } as APIGatewayProxyEvent['requestContext']['identity'],
      path,
      stage: 'bench',
      requestId: crypto.randomUUID(),
      requestTimeEpoch: Date.now(),
      resourceId: 'bench',
      resourcePath: route.path,
    },
  }
}
