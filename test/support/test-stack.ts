import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb'
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'
import { inject } from 'vitest'
import { type LocalStack, type LocalStackOptions, startLocalStack } from '../../local/local-stack.ts'
import { routeList } from '../../shared/http/routes.ts'
import { assertResponseMatchesOpenApi } from './openapi-validator.ts'

// the operation a request reaches, by the route table's method and path template
function operationOf(method: string, path: string): string | undefined {
  const pathname = `/v3${path.split('?')[0]}`
  // a fixed segment wins over a {parameter}, as in API Gateway
  const parameters = (route: (typeof routeList)[number]) => (route.path.match(/\{\w+\}/g) ?? []).length
  return [...routeList]
    .sort((a, b) => parameters(a) - parameters(b))
    .find(
      (route) =>
        route.method === method && new RegExp(`^${route.path.replace(/\{\w+\}/g, '[^/]+')}$`).test(pathname),
    )?.operationId
}

import { createDynamoApiKeyStore } from '../../shared/adapters/api-key-store.ts'
import { type ApiKeyRecord, generateApiKey, permissionsFor } from '../../shared/domain/api-key.ts'

/** A JSON response as a client sees it. */
export interface ApiResponse<T = unknown> {
  status: number
  headers: Headers
  text: string
  body: T
}

/** Options of one request. */
export interface RequestOptions {
  /** A JSON value to send; strings are sent as they are. */
  body?: unknown
  /** API key; the stack's development key unless given (`null` sends none). */
  key?: string | null
  headers?: Record<string, string>
}

/** The local stack plus what integration tests need around it. */
export interface TestStack extends LocalStack {
  request<T = any>(method: string, path: string, options?: RequestOptions): Promise<ApiResponse<T>>
  /** Mints a key straight into the table (another company, read-only, disabled, expired). */
  mintKey(companyId: string, overrides?: Partial<Omit<ApiKeyRecord, 'hash' | 'companyId'>>): Promise<string>
  /** Every item of the table in raw DynamoDB JSON, as an operator's scan would see it. */
  rawItems(): Promise<Record<string, unknown>[]>
  /** Raw credential items (sort key DOCKER_REGISTRY#…). */
  rawCredentialItems(): Promise<Record<string, any>[]>
}

/**
 * Starts a local stack on free ports for one test file, with a table of its own on the run's
 * DynamoDB Local (test/support/global-setup.ts). The functions log at WARN in tests
 * (vitest.config.ts); tests about logs raise it with `logger.setLogLevel`.
 */
export async function startTestStack(options: LocalStackOptions = {}): Promise<TestStack> {
  const stack = await startLocalStack({
    port: 0,
    dynamoDbEndpoint: inject('dynamoDbEndpoint'),
    tableName: `test-${crypto.randomUUID()}`,
    ...options,
  })
  const raw = new DynamoDBClient({
    endpoint: stack.dynamoDb.endpoint,
    region: stack.kms.region,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  })
  const keys = createDynamoApiKeyStore({
    client: DynamoDBDocumentClient.from(raw),
    tableName: stack.tableName,
  })

  const rawItems = async () => {
    const items: Record<string, unknown>[] = []
    let ExclusiveStartKey: Record<string, any> | undefined
    do {
      const page = await raw.send(new ScanCommand({ TableName: stack.tableName, ExclusiveStartKey }))
      items.push(...(page.Items ?? []))
      ExclusiveStartKey = page.LastEvaluatedKey
    } while (ExclusiveStartKey)
    return items
  }

  return {
    ...stack,
    async request(method, path, { body, key, headers = {} } = {}) {
      const apiKey = key === undefined ? stack.apiKey : key
      const response = await fetch(`${stack.baseUrl}${path}`, {
        method,
        headers: {
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}),
          ...headers,
        },
        ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
      })
      const text = await response.text()
      let parsed: unknown
      try {
        parsed = text ? JSON.parse(text) : undefined
      } catch {
        parsed = undefined
      }
      const result = { status: response.status, headers: response.headers, text, body: parsed as any }
      // every response an integration test receives must match our OpenAPI document
      const operationId = operationOf(method, path)
      if (operationId) assertResponseMatchesOpenApi(operationId, result)
      return result
    },
    async mintKey(companyId, overrides = {}) {
      const { key, hash } = generateApiKey()
      await keys.create({
        hash,
        companyId,
        name: 'test key',
        permissions: permissionsFor({ readOnly: false }),
        enabled: true,
        createdAt: new Date().toISOString(),
        ...overrides,
      })
      return key
    },
    rawItems,
    async rawCredentialItems() {
      return (await rawItems()).filter((item) =>
        String((item.sk as { S?: string })?.S).startsWith('DOCKER_REGISTRY#'),
      )
    },
    async close() {
      raw.destroy()
      await stack.close()
    },
  }
}

/** Captures everything written to stdout and stderr (where the functions' logger writes). */
export function captureOutput(): { text(): string; restore(): void } {
  const chunks: string[] = []
  const originals = {
    out: process.stdout.write.bind(process.stdout),
    err: process.stderr.write.bind(process.stderr),
  }
  const capture =
    (_original: typeof process.stdout.write) =>
    (chunk: unknown, ...rest: unknown[]): boolean => {
      chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'))
      // the write completes without reaching the terminal; a callback, if any, still fires
      const callback = rest.find((argument) => typeof argument === 'function') as (() => void) | undefined
      callback?.()
      return true
    }
  process.stdout.write = capture(originals.out) as typeof process.stdout.write
  process.stderr.write = capture(originals.err) as typeof process.stderr.write
  return {
    text: () => chunks.join(''),
    restore() {
      process.stdout.write = originals.out
      process.stderr.write = originals.err
    },
  }
}

/** A fresh company id (UUIDv4 shape, as the contract accepts any version). */
export function newCompanyId(): string {
  return crypto.randomUUID()
}
