import ajvModule, { type ValidateFunction } from 'ajv/dist/2020.js'
import formatsModule from 'ajv-formats'
import document from '../../shared/http/openapi.json' with { type: 'json' }

// ajv and ajv-formats are CommonJS modules whose default export sits on `.default` under nodenext.
const Ajv2020 = ajvModule.default
const addFormats = formatsModule.default

/** Response headers as fetch gives them, or as a Lambda proxy result carries them. */
export type ResponseHeaders = Headers | Record<string, string | number | boolean | undefined>

/** A response as the integration suite's `request()` returns it (`ApiResponse`), or any alike. */
export interface ResponseLike {
  status: number
  body: unknown
  headers?: ResponseHeaders
}

type Json = Record<string, unknown>

interface DocumentedOperation {
  method: string
  path: string
  pointer: string
  responses: Json
}

/** Our OpenAPI document, exactly as committed and served at `GET /v3/openapi.json`. */
export const openApiDocument: Json = document

// the document is loaded as one schema resource, so `$ref`s into `#/components` resolve; its own
// top-level keywords are declared so strict mode (which catches typos in our schemas) accepts it.
const DOCUMENT_ID = 'https://registry-credentials.invalid/openapi.json'
const ajv = new Ajv2020({ allErrors: true, strict: true })
addFormats(ajv)
ajv.addVocabulary(['openapi', 'info', 'servers', 'tags', 'paths', 'components'])
ajv.addSchema(openApiDocument, DOCUMENT_ID)

const escapePointer = (segment: string) => segment.replaceAll('~', '~0').replaceAll('/', '~1')

function resolvePointer(pointer: string): unknown {
  let value: unknown = openApiDocument
  for (const segment of pointer.split('/').slice(1)) {
    const key = segment.replaceAll('~1', '/').replaceAll('~0', '~')
    value = (value as Json | undefined)?.[key]
  }
  return value
}

// follows a local `$ref` (`#/components/...`) to what it names, keeping track of where that is.
function dereference(pointer: string): { pointer: string; value: Json } {
  let current = pointer
  let value = resolvePointer(current) as Json
  while (typeof value?.$ref === 'string') {
    current = value.$ref.slice(1)
    value = resolvePointer(current) as Json
  }
  return { pointer: current, value }
}

const operations = new Map<string, DocumentedOperation>()
for (const [path, pathItem] of Object.entries(openApiDocument.paths as Record<string, Json>)) {
  for (const [method, operation] of Object.entries(pathItem as Record<string, Json>)) {
    operations.set(operation.operationId as string, {
      method: method.toUpperCase(),
      path,
      pointer: `/paths/${escapePointer(path)}/${method}`,
      responses: operation.responses as Json,
    })
  }
}

const validators = new Map<string, ValidateFunction>()
function validatorAt(pointer: string): ValidateFunction {
  let validate = validators.get(pointer)
  if (!validate) {
    validate = ajv.compile({ $ref: `${DOCUMENT_ID}#${pointer}` })
    validators.set(pointer, validate)
  }
  return validate
}

function operationOf(operationId: string): DocumentedOperation {
  const operation = operations.get(operationId)
  if (!operation) {
    throw new Error(`unknown operationId "${operationId}"; documented: ${[...operations.keys()].join(', ')}`)
  }
  return operation
}

function headerValue(headers: ResponseHeaders, name: string): string | undefined {
  if (headers instanceof Headers) return headers.get(name) ?? undefined
  const key = Object.keys(headers).find((candidate) => candidate.toLowerCase() === name.toLowerCase())
  const value = key === undefined ? undefined : headers[key]
  return value === undefined ? undefined : String(value)
}

function describeErrors(validate: ValidateFunction, what: string): string[] {
  return (validate.errors ?? []).map((error) => {
    const at = `${what}${error.instancePath}`
    const allowed = error.params && 'allowedValues' in error.params ? ` (${error.params.allowedValues})` : ''
    const extra =
      error.params && 'additionalProperty' in error.params ? ` ("${error.params.additionalProperty}")` : ''
    return `${at} ${error.message}${allowed}${extra}`
  })
}

function excerpt(body: unknown): string {
  const text = JSON.stringify(body) ?? String(body)
  return text.length > 600 ? `${text.slice(0, 600)}…` : text
}

/** The statuses our document lists for an operation, in ascending order. */
export function documentedStatuses(operationId: string): number[] {
  return Object.keys(operationOf(operationId).responses)
    .map(Number)
    .sort((a, b) => a - b)
}

/**
 * Every way a response breaks our OpenAPI document, as readable sentences; empty when it
 * conforms. Checks that the status is documented for the operation, that the body matches the
 * documented schema (and, on errors, repeats the status), and, when headers are given, the
 * content type and every documented required header.
 */
export function openApiViolations(
  operationId: string,
  status: number,
  body: unknown,
  headers?: ResponseHeaders,
): string[] {
  const operation = operationOf(operationId)
  const where = `${operationId} (${operation.method} ${operation.path}) answered ${status}`
  if (!(String(status) in operation.responses)) {
    return [`${where}, a status the document does not list (documented: ${documentedStatuses(operationId)})`]
  }
  const response = dereference(`${operation.pointer}/responses/${status}`)
  const violations: string[] = []

  const content = (response.value.content ?? {}) as Json
  const mediaTypes = Object.keys(content)
  const mediaType = mediaTypes[0]
  if (mediaType) {
    const validate = validatorAt(`${response.pointer}/content/${escapePointer(mediaType)}/schema`)
    if (!validate(body)) violations.push(...describeErrors(validate, 'body'))
    const repeated = (body as { status?: unknown } | null)?.status
    if (status >= 400 && typeof repeated === 'number' && repeated !== status) {
      violations.push(`body.status is ${repeated}, not the response status`)
    }
  } else if (body !== undefined && body !== '') {
    violations.push('body is present, but the document lists no content for this status')
  }

  if (headers) {
    const contentType = headerValue(headers, 'content-type')?.split(';')[0]?.trim().toLowerCase()
    if (mediaType && contentType !== mediaType) {
      violations.push(`content-type is ${contentType ?? 'missing'}, not ${mediaType}`)
    }
    for (const name of Object.keys((response.value.headers ?? {}) as Json)) {
      const documented = dereference(`${response.pointer}/headers/${escapePointer(name)}`)
      const value = headerValue(headers, name)
      if (value === undefined) {
        if (documented.value.required) violations.push(`header ${name} is missing`)
        continue
      }
      const schema = documented.value.schema as { type?: string } | undefined
      if (!schema) continue
      const validate = validatorAt(`${documented.pointer}/schema`)
      const typed = schema.type === 'integer' && /^-?\d+$/.test(value) ? Number(value) : value
      if (!validate(typed)) violations.push(...describeErrors(validate, `header ${name}`))
    }
  }

  return violations.map((violation, index) => (index === 0 ? `${where}: ${violation}` : violation))
}

/**
 * Throws, with a readable message, unless `status` is documented for `operationId` and `body`
 * (and `headers`, when given) match what our OpenAPI document says of it. Integration tests call
 * it on every response they receive.
 *
 * @example assertMatchesOpenApi('getDockerRegistryV3', response.status, response.body, response.headers)
 */
export function assertMatchesOpenApi(
  operationId: string,
  status: number,
  body: unknown,
  headers?: ResponseHeaders,
): void {
  const violations = openApiViolations(operationId, status, body, headers)
  if (violations.length === 0) return
  throw new Error(
    [
      `response does not match the OpenAPI document (shared/http/openapi.json):`,
      ...violations.map((violation) => `  - ${violation}`),
      `  body: ${excerpt(body)}`,
    ].join('\n'),
  )
}

/**
 * {@link assertMatchesOpenApi} for a whole response (`{ status, body, headers }`, as the
 * integration suite's `request()` returns it); returns the response for chaining.
 */
export function assertResponseMatchesOpenApi<T extends ResponseLike>(operationId: string, response: T): T {
  assertMatchesOpenApi(operationId, response.status, response.body, response.headers)
  return response
}
