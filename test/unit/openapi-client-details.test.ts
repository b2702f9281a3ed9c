import { describe, expect, it } from 'vitest'
import { buildOpenApiDocument } from '../../shared/http/openapi.ts'

// what third-party clients and contract tools read from the document besides the schemas
const document = buildOpenApiDocument() as unknown as {
  info: { description: string; license?: unknown; contact?: unknown }
  paths: Record<
    string,
    Record<string, { parameters?: { name: string; example?: unknown }[]; description: string }>
  >
  components: {
    schemas: Record<string, { properties?: Record<string, Record<string, unknown>> }>
    responses: Record<string, { headers: Record<string, { $ref: string }> }>
    headers: Record<string, { required: boolean }>
  }
}

const header = (response: string, name: string) => {
  const ref = document.components.responses[response]?.headers[name]?.$ref
  return ref === undefined ? undefined : document.components.headers[ref.split('/').pop() as string]
}

describe('the OpenAPI document, as clients read it', () => {
  it('names every extension in info.description, not only data.issues', () => {
    for (const extension of [
      'data.issues',
      'data.result',
      'Idempotency-Key',
      '?verify=true',
      '?registry_host=',
      'verify',
    ]) {
      expect(document.info.description).toContain(extension)
    }
  })

  it('has a licence and a contact, as the linters’ recommended rules ask', () => {
    expect(document.info.license).toMatchObject({ name: expect.any(String), identifier: expect.any(String) })
    expect(document.info.contact).toMatchObject({ name: expect.any(String) })
  })

  it('types OpenApiDocument.paths as paths by name (additionalProperties), not an empty object', () => {
    const paths = document.components.schemas.OpenApiDocument?.properties?.paths

    expect(paths).toMatchObject({ type: 'object', additionalProperties: { type: 'object' } })
  })

  it('gives every id path parameter an example contract tools can fill the path with', () => {
    const idParameters = Object.values(document.paths)
      .flatMap((operations) => Object.values(operations))
      .flatMap((operation) => operation.parameters ?? [])
      .filter((parameter) => parameter.name === 'id')

    expect(idParameters.length).toBeGreaterThan(0)
    for (const parameter of idParameters)
      expect(parameter.example).toBe('fb5e5168-4281-4bec-94c5-0d1584e9e657')
  })

  it('requires X-Request-Id only where a function answers; API Gateway’s own answers carry X-Amzn-RequestId', () => {
    expect(header('NotFound', 'X-Request-Id')?.required).toBe(true)
    for (const response of ['BadRequest', 'PayloadTooLarge', 'InternalServerError', 'ServiceUnavailable']) {
      expect(header(response, 'X-Request-Id')?.required, response).toBe(false)
      expect(header(response, 'X-Amzn-RequestId'), response).toBeDefined()
    }
    expect(header('TooManyRequests', 'X-Request-Id')).toBeUndefined()
    expect(header('TooManyRequests', 'X-Amzn-RequestId')?.required).toBe(true)
  })

  it('documents in the PATCH description that a new registry needs a new secret', () => {
    const patch = document.paths['/docker-registries/{id}']?.patch

    expect(patch?.description).toMatch(/changing `registry` needs a new `secret`/)
  })
})
