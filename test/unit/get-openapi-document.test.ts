import { readFileSync } from 'node:fs'
import type { APIGatewayProxyEvent, Context } from 'aws-lambda'
import { describe, expect, it } from 'vitest'
import { handler as middyHandler } from '../../functions/get-openapi-document/handler.ts'
import type { ProxyHandler } from '../../local/http-gateway.ts'
import { assertMatchesOpenApi } from '../support/openapi-validator.ts'

// lambda passes a plain context; the request id middleware adds the rest.
const handler = middyHandler as unknown as ProxyHandler

const committed = JSON.parse(readFileSync(new URL('../../shared/http/openapi.json', import.meta.url), 'utf8'))

// an anonymous request, as API Gateway's proxy integration sends it: no Authorization header.
function openApiRequest(requestId: string): APIGatewayProxyEvent {
  return {
    resource: '/v3/openapi.json',
    path: '/v3/openapi.json',
    httpMethod: 'GET',
    headers: { accept: 'application/json' },
    multiValueHeaders: { accept: ['application/json'] },
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: null,
    stageVariables: null,
    body: null,
    isBase64Encoded: false,
    requestContext: { requestId } as APIGatewayProxyEvent['requestContext'],
  }
}

const context: Context = {
  callbackWaitsForEmptyEventLoop: false,
  functionName: 'get-openapi-document',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:eu-west-1:000000000000:function:get-openapi-document',
  memoryLimitInMB: '256',
  awsRequestId: 'lambda-request',
  logGroupName: '/aws/lambda/get-openapi-document',
  logStreamName: 'test',
  getRemainingTimeInMillis: () => 10_000,
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
}

describe('getOpenApiDocument handler', () => {
  it('answers 200 with the committed document, without an API key', async () => {
    const response = await handler(openApiRequest('req-openapi-1'), context)

    expect(response.statusCode).toBe(200)
    expect(JSON.parse(response.body)).toEqual(committed)
  })

  it('answers JSON that shared caches may keep for five minutes', async () => {
    const response = await handler(openApiRequest('req-openapi-2'), context)

    expect(response.headers?.['content-type']).toMatch(/^application\/json\b/)
    expect(response.headers?.['cache-control']).toBe('public, max-age=300')
  })

  it('names the request in x-request-id', async () => {
    const response = await handler(openApiRequest('req-openapi-3'), context)

    expect(response.headers?.['x-request-id']).toBe('req-openapi-3')
  })

  it('answers what its own document says it answers', async () => {
    const response = await handler(openApiRequest('req-openapi-4'), context)

    assertMatchesOpenApi(
      'getOpenApiDocument',
      response.statusCode,
      JSON.parse(response.body),
      response.headers,
    )
  })
})
