import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import {
  AuthenticationError,
  CredentialNotFoundError,
  DependencyUnavailableError,
  InvalidInputError,
  PermissionDeniedError,
} from '../../shared/domain/errors.ts'
import { mapError, RequestBodyTooLargeError } from '../../shared/http/error-response.ts'
import { buildOpenApiDocument, renderOpenApiDocument } from '../../shared/http/openapi.ts'
import { routeList } from '../../shared/http/routes.ts'
import { assertMatchesOpenApi, openApiViolations } from '../support/openapi-validator.ts'

// the Sevalla v3 contract we are wire-compatible with, a verbatim copy of the reference.
const REFERENCE_PATH = new URL('../fixtures/sevalla-v3-docker-registries.openapi.json', import.meta.url)
const COMMITTED_PATH = new URL('../../shared/http/openapi.json', import.meta.url)

/** What ours may add to the reference, and nothing else: the documented extensions. */
const EXTRA_PATHS = [
  '/openapi.json',
  '/docker-registries/{id}/verify',
  '/docker-registries/{id}/health',
  '/docker-registries/{id}/activity',
  '/docker-registries/external-id',
]
const ERROR_BODY_EXTENSIONS = ['data.issues', 'data.result']
/** Optional query parameters ours adds to a reference operation (the `?verify=true` extension). */
const EXTRA_OPTIONAL_PARAMETERS: Record<string, string[]> = {
  'POST /docker-registries': [
    'query:verify',
    'query:registry_host',
    'query:image',
    'query:platform',
    'header:idempotency-key',
  ],
}

/**
 * Request fields ours widens, as documented extensions: ours is `anyOf` of exactly the
 * reference's constraint and one alternative described as an extension, so every value the
 * reference accepts stays accepted.
 */
const WIDENED_REQUEST_FIELDS = ['username', 'secret']

type Json = Record<string, any>
type Mode = 'same' | 'narrower'

const reference: Json = JSON.parse(readFileSync(REFERENCE_PATH, 'utf8'))
const ours: Json = buildOpenApiDocument()

const METHODS = ['get', 'put', 'post', 'patch', 'delete', 'head', 'options', 'trace']
const ANNOTATIONS = new Set(['description', 'examples', 'example', 'title', '$comment', 'deprecated'])
const LOWER_BOUNDS = ['minimum', 'exclusiveMinimum', 'minLength', 'minItems', 'minProperties']
const UPPER_BOUNDS = ['maximum', 'exclusiveMaximum', 'maxLength', 'maxItems', 'maxProperties']
const MUST_MATCH = ['format', 'pattern', 'const']
const HANDLED = new Set([
  ...ANNOTATIONS,
  ...LOWER_BOUNDS,
  ...UPPER_BOUNDS,
  ...MUST_MATCH,
  'type',
  'enum',
  'default',
  'required',
  'properties',
  'additionalProperties',
  'items',
])

/** Follows local `$ref`s (`#/components/...`) within `document`. */
function deref(document: Json, value: Json | undefined): Json | undefined {
  let current = value
  while (typeof current?.$ref === 'string') {
    current = current.$ref
      .slice(2)
      .split('/')
      .reduce(
        (node: Json | undefined, segment: string) =>
          node?.[segment.replaceAll('~1', '/').replaceAll('~0', '~')],
        document,
      )
  }
  return current
}

function operationsOf(document: Json): string[] {
  return Object.entries(document.paths as Json).flatMap(([path, item]) =>
    Object.keys(item)
      .filter((method) => METHODS.includes(method))
      .map((method) => `${method.toUpperCase()} ${path}`),
  )
}

function operationAt(document: Json, operation: string): Json {
  const [method, path] = operation.split(' ') as [string, string]
  return document.paths[path]?.[method.toLowerCase()]
}

const equal = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b)
const sameSet = (a: unknown[] = [], b: unknown[] = []) =>
  a.length === b.length && a.every((item) => b.some((other) => equal(item, other)))
const show = (value: unknown) => (value === undefined ? 'absent' : JSON.stringify(value))

/**
 * Differences between our schema and the reference's, as `where.keyword: ours … reference …`.
 * `same` (requests, parameters, success bodies): every constraint equal. `narrower` (error bodies):
 * ours may only constrain more, and may add properties only at `extensions` (dot paths).
 */
function schemaDifferences(
  oursDocument: Json,
  ourSchema: Json | undefined,
  theirSchema: Json | undefined,
  where: string,
  mode: Mode,
  extensions: readonly string[] = [],
  path: readonly string[] = [],
): string[] {
  let mine = deref(oursDocument, ourSchema) ?? {}
  const theirs = deref(reference, theirSchema) ?? {}
  const field = path.join('.').replaceAll('.[]', '[]')
  const at = (keyword: string) => `${where}${field ? ` ${field}` : ''}: ${keyword}`
  const differences: string[] = []
  if (mode === 'same' && path.length === 0 && (mine.if !== undefined || mine.then !== undefined)) {
    // the create body's one conditional: the reference's secret pattern unless it is a gcr key
    const { if: condition, then, ...rest } = mine
    const narrowsBack =
      equal(then, { properties: { secret: { pattern: theirs.properties?.secret?.pattern } } }) &&
      condition?.not?.properties?.registry?.const === 'gcr' &&
      equal(condition?.not?.required, ['registry', 'username']) &&
      Object.keys(condition ?? {}).length === 1
    if (!narrowsBack)
      differences.push(`${at('if')} is not the reference's secret pattern for all but gcr keys`)
    mine = rest
  }
  if (mode === 'same' && mine.anyOf !== undefined && WIDENED_REQUEST_FIELDS.includes(field)) {
    const [contract, extension, ...more] = mine.anyOf as Json[]
    const widening =
      more.length === 0 &&
      equal(contract, { pattern: theirs.pattern }) &&
      typeof extension?.description === 'string' &&
      extension.description.startsWith('Extension:')
    if (!widening) differences.push(`${at('anyOf')} is not the reference's pattern or one extension`)
    const { anyOf: _, ...rest } = mine
    // a pattern beside the anyOf would apply as well, so it is compared as it stands
    mine = { ...rest, pattern: rest.pattern ?? contract?.pattern }
  }
  const differ = (keyword: string) =>
    differences.push(
      `${at(keyword)} is ${show(mine[keyword])} in ours, ${show(theirs[keyword])} in the reference`,
    )

  if (!equal(mine.type, theirs.type)) differ('type')
  for (const keyword of MUST_MATCH) {
    if (
      theirs[keyword] === undefined
        ? mode === 'same' && mine[keyword] !== undefined
        : !equal(mine[keyword], theirs[keyword])
    )
      differ(keyword)
  }
  if (theirs.enum === undefined ? mode === 'same' && mine.enum !== undefined : mine.enum === undefined)
    differ('enum')
  else if (theirs.enum !== undefined) {
    const fits =
      mode === 'same'
        ? sameSet(mine.enum, theirs.enum)
        : mine.enum.every((option: unknown) => theirs.enum.includes(option))
    if (!fits) differ('enum')
  }
  if (!equal(mine.default, theirs.default)) differ('default')
  for (const [keywords, tighter] of [
    [LOWER_BOUNDS, (a: number, b: number) => a >= b],
    [UPPER_BOUNDS, (a: number, b: number) => a <= b],
  ] as const) {
    for (const keyword of keywords) {
      const fits =
        theirs[keyword] === undefined
          ? mode === 'narrower' || mine[keyword] === undefined
          : mine[keyword] !== undefined &&
            (mode === 'same' ? mine[keyword] === theirs[keyword] : tighter(mine[keyword], theirs[keyword]))
      if (!fits) differ(keyword)
    }
  }
  const myAdditional = mine.additionalProperties ?? true
  const theirAdditional = theirs.additionalProperties ?? true
  if (
    mode === 'same'
      ? !equal(myAdditional, theirAdditional)
      : theirAdditional === false && myAdditional !== false
  )
    differ('additionalProperties')
  const required =
    mode === 'same'
      ? sameSet(mine.required, theirs.required)
      : (theirs.required ?? []).every((name: string) => mine.required?.includes(name))
  if (!required) differ('required')

  const myProperties: Json = mine.properties ?? {}
  const theirProperties: Json = theirs.properties ?? {}
  for (const name of Object.keys(myProperties)) {
    if (name in theirProperties) {
      differences.push(
        ...schemaDifferences(
          oursDocument,
          myProperties[name],
          theirProperties[name],
          where,
          mode,
          extensions,
          [...path, name],
        ),
      )
    } else if (!extensions.includes([...path, name].join('.'))) {
      differences.push(`${at(`properties.${name}`)} is in ours, not in the reference`)
    }
  }
  if (mode === 'same') {
    for (const name of Object.keys(theirProperties)) {
      if (!(name in myProperties))
        differences.push(`${at(`properties.${name}`)} is in the reference, not in ours`)
    }
  }
  if (mine.items !== undefined || theirs.items !== undefined) {
    differences.push(
      ...schemaDifferences(oursDocument, mine.items, theirs.items, where, mode, extensions, [...path, '[]']),
    )
  }
  // anything this comparison does not model must simply be equal
  for (const keyword of new Set([...Object.keys(mine), ...Object.keys(theirs)])) {
    if (!HANDLED.has(keyword) && !equal(mine[keyword], theirs[keyword])) differ(keyword)
  }
  return differences
}

function parameterDifferences(oursDocument: Json, operation: string): string[] {
  const key = (parameter: Json) => `${parameter.in}:${parameter.name}`
  const mine = ((operationAt(oursDocument, operation).parameters ?? []) as Json[]).map(
    (p) => deref(oursDocument, p) as Json,
  )
  const theirs = ((operationAt(reference, operation).parameters ?? []) as Json[]).map(
    (p) => deref(reference, p) as Json,
  )
  const differences: string[] = []
  for (const parameter of theirs) {
    const match = mine.find((candidate) => key(candidate) === key(parameter))
    if (!match) {
      differences.push(`${operation} parameter ${key(parameter)} is in the reference, not in ours`)
      continue
    }
    if (Boolean(match.required) !== Boolean(parameter.required)) {
      differences.push(
        `${operation} parameter ${key(parameter)}: required is ${match.required} in ours, ${parameter.required} in the reference`,
      )
    }
    differences.push(
      ...schemaDifferences(
        oursDocument,
        match.schema,
        parameter.schema,
        `${operation} parameter ${key(parameter)}`,
        'same',
      ),
    )
  }
  for (const parameter of mine) {
    if (theirs.some((candidate) => key(candidate) === key(parameter))) continue
    const documentedExtension =
      EXTRA_OPTIONAL_PARAMETERS[operation]?.includes(key(parameter)) && !parameter.required
    if (!documentedExtension)
      differences.push(`${operation} parameter ${key(parameter)} is in ours, not in the reference`)
  }
  return differences
}

function requestBodyDifferences(oursDocument: Json, operation: string): string[] {
  const mine = deref(oursDocument, operationAt(oursDocument, operation).requestBody)
  const theirs = deref(reference, operationAt(reference, operation).requestBody)
  if (!mine || !theirs)
    return mine === theirs
      ? []
      : [`${operation} request body: ${mine ? 'only ours has one' : 'only the reference has one'}`]
  const differences: string[] = []
  if (Boolean(mine.required) !== Boolean(theirs.required))
    differences.push(`${operation} request body: required differs`)
  for (const [mediaType, content] of Object.entries(theirs.content as Json)) {
    const match = mine.content?.[mediaType]
    if (!match) differences.push(`${operation} request body: ${mediaType} is not accepted by ours`)
    else
      differences.push(
        ...schemaDifferences(oursDocument, match.schema, content.schema, `${operation} request body`, 'same'),
      )
  }
  return differences
}

const isSuccess = (status: string) => status.startsWith('2')

function statusDifferences(oursDocument: Json, operation: string): string[] {
  const mine = Object.keys(operationAt(oursDocument, operation).responses)
  const theirs = Object.keys(operationAt(reference, operation).responses)
  return [
    ...theirs
      .filter((status) => !mine.includes(status))
      .map((status) => `${operation}: reference status ${status} is not in ours`),
    ...mine
      .filter((status) => !theirs.includes(status) && isSuccess(status))
      .map((status) => `${operation}: ours adds success status ${status}; only error statuses may be added`),
  ]
}

// an error status the reference does not list must still carry a Sevalla error body.
function referenceErrorBody(operation: string): Json {
  const responses = operationAt(reference, operation).responses as Json
  const [, response] = Object.entries(responses).find(([status]) => !isSuccess(status)) as [string, Json]
  return response.content['application/json'].schema
}

function responseDifferences(oursDocument: Json, operation: string, status: string): string[] {
  const mine = deref(oursDocument, operationAt(oursDocument, operation).responses[status])
  const theirs = deref(reference, operationAt(reference, operation).responses[status])
  if (!mine) return [`${operation} ${status}: not in ours`]
  const where = `${operation} ${status}`
  const mode: Mode = isSuccess(status) ? 'same' : 'narrower'
  const extensions = isSuccess(status) ? [] : ERROR_BODY_EXTENSIONS
  const theirContent: Json = theirs?.content ?? {
    'application/json': { schema: referenceErrorBody(operation) },
  }
  const differences: string[] = []
  for (const [mediaType, content] of Object.entries(theirContent)) {
    const match = mine.content?.[mediaType]
    if (!match) differences.push(`${where}: ${mediaType} is not what ours answers`)
    else
      differences.push(
        ...schemaDifferences(oursDocument, match.schema, content.schema, where, mode, extensions),
      )
  }
  for (const mediaType of Object.keys(mine.content ?? {})) {
    if (!(mediaType in theirContent))
      differences.push(`${where}: ours answers ${mediaType}, the reference does not`)
  }
  return differences
}

const referenceOperations = operationsOf(reference)
const responseCases = referenceOperations.flatMap((operation) =>
  Object.keys(operationAt(ours, operation)?.responses ?? {}).map((status) => [operation, status] as const),
)

describe('our OpenAPI document against the Sevalla v3 reference', () => {
  it('has the same paths and methods, plus only the documented extra paths', () => {
    const extra = operationsOf(ours).filter((operation) => !referenceOperations.includes(operation))

    expect(referenceOperations.filter((operation) => !operationsOf(ours).includes(operation))).toEqual([])
    expect(extra.every((operation) => EXTRA_PATHS.includes(operation.split(' ')[1] as string))).toBe(true)
  })

  it('serves the paths under a server URL ending in /v3, like the reference', () => {
    expect(reference.servers[0].url).toMatch(/\/v3$/)
    expect(ours.servers.map((server: Json) => server.url)).toEqual(['/v3'])
  })

  it('authenticates with the same bearer scheme', () => {
    const { description: _ours, ...scheme } = ours.components.securitySchemes.bearerAuth
    const { description: _theirs, ...theirScheme } = reference.components.securitySchemes.bearerAuth

    expect(scheme).toEqual(theirScheme)
  })

  it.each(referenceOperations)('%s has the same operationId', (operation) => {
    expect(operationAt(ours, operation).operationId).toBe(operationAt(reference, operation).operationId)
  })

  it.each(referenceOperations)('%s has the same parameters', (operation) => {
    expect(parameterDifferences(ours, operation)).toEqual([])
  })

  it.each(referenceOperations)('%s has the same request body', (operation) => {
    expect(requestBodyDifferences(ours, operation)).toEqual([])
  })

  it.each(referenceOperations)(
    '%s lists every reference status and adds only error statuses',
    (operation) => {
      expect(statusDifferences(ours, operation)).toEqual([])
    },
  )

  it.each(responseCases)('%s %s answers a body compatible with the reference', (operation, status) => {
    expect(responseDifferences(ours, operation, status)).toEqual([])
  })
})

describe('the comparison with the reference', () => {
  const mutated = (change: (document: Json) => void) => {
    const document = structuredClone(ours)
    change(document)
    return document
  }

  it('notices a changed request pattern', () => {
    const document = mutated((d) => {
      d.components.schemas.CreateDockerRegistryInput.properties.username.pattern = '^[a-z]+$'
    })

    expect(requestBodyDifferences(document, 'POST /docker-registries')).toEqual([
      expect.stringContaining('username: pattern'),
    ])
  })

  it('allows the documented username widening: the reference pattern or the extension', () => {
    const username = ours.components.schemas.CreateDockerRegistryInput.properties.username

    expect(username.anyOf[0]).toEqual({
      pattern:
        reference.paths['/docker-registries'].post.requestBody.content['application/json'].schema.properties
          .username.pattern,
    })
  })

  it('notices a widening that no longer keeps the reference pattern', () => {
    const document = mutated((d) => {
      d.components.schemas.CreateDockerRegistryInput.properties.username.anyOf[0].pattern = '^[a-z]+$'
    })

    expect(requestBodyDifferences(document, 'POST /docker-registries')).toContainEqual(
      expect.stringContaining('username: anyOf'),
    )
  })

  it('notices a widening of a field that is not documented as widened', () => {
    const document = mutated((d) => {
      const name = d.components.schemas.CreateDockerRegistryInput.properties.name
      name.anyOf = [{ minLength: 1 }, { description: 'Extension: anything' }]
    })

    expect(requestBodyDifferences(document, 'POST /docker-registries')).toContainEqual(
      expect.stringContaining('name: anyOf'),
    )
  })

  it('notices a body conditional that does not give back the reference secret pattern', () => {
    const document = mutated((d) => {
      d.components.schemas.CreateDockerRegistryInput.then.properties.secret.pattern = '^.{8,4096}$'
    })

    expect(requestBodyDifferences(document, 'POST /docker-registries')).toContainEqual(
      expect.stringContaining(': if is not'),
    )
  })

  it('notices a second extension alternative', () => {
    const document = mutated((d) => {
      d.components.schemas.UpdateDockerRegistryInput.properties.secret.anyOf.push({
        description: 'Extension: more',
      })
    })

    expect(requestBodyDifferences(document, 'PATCH /docker-registries/{id}')).toContainEqual(
      expect.stringContaining('secret: anyOf'),
    )
  })

  it('notices a changed parameter default', () => {
    const document = mutated((d) => {
      d.paths['/docker-registries'].get.parameters[0].schema.default = 50
    })

    expect(parameterDifferences(document, 'GET /docker-registries')).toEqual([
      expect.stringContaining('default'),
    ])
  })

  it('notices a missing enum value in a success body', () => {
    const document = mutated((d) => {
      d.components.schemas.DockerRegistry.properties.registry.enum.pop()
    })

    expect(responseDifferences(document, 'GET /docker-registries/{id}', '200')).toContainEqual(
      expect.stringContaining('registry: enum'),
    )
  })

  it('notices a property added to a success body', () => {
    const document = mutated((d) => {
      d.components.schemas.DockerRegistry.properties.secret = { type: 'string' }
    })

    expect(responseDifferences(document, 'GET /docker-registries/{id}', '200')).toContainEqual(
      expect.stringContaining('properties.secret is in ours'),
    )
  })

  it('notices a request body that accepts unknown properties', () => {
    const document = mutated((d) => {
      d.components.schemas.UpdateDockerRegistryInput.additionalProperties = true
    })

    expect(requestBodyDifferences(document, 'PATCH /docker-registries/{id}')).toEqual([
      expect.stringContaining('additionalProperties'),
    ])
  })

  it('notices a reference status missing from ours', () => {
    const document = mutated((d) => {
      delete d.paths['/docker-registries/{id}'].get.responses['404']
    })

    expect(statusDifferences(document, 'GET /docker-registries/{id}')).toEqual([
      expect.stringContaining('status 404 is not in ours'),
    ])
  })

  it('refuses an added success status', () => {
    const document = mutated((d) => {
      d.paths['/docker-registries'].post.responses['200'] =
        d.paths['/docker-registries'].post.responses['201']
    })

    expect(statusDifferences(document, 'POST /docker-registries')).toEqual([
      expect.stringContaining('success status 200'),
    ])
  })

  it('allows data.issues in error bodies but no other addition', () => {
    const document = mutated((d) => {
      d.components.schemas.Error.properties.data.properties.trace = { type: 'string' }
    })

    expect(responseDifferences(document, 'POST /docker-registries', '400')).toEqual([
      expect.stringContaining('data: properties.trace is in ours'),
    ])
  })

  it('refuses an error body looser than the reference', () => {
    const document = mutated((d) => {
      d.components.schemas.Error.required = ['message']
    })

    expect(responseDifferences(document, 'GET /docker-registries', '401')).toEqual([
      expect.stringContaining('required'),
    ])
  })
})

describe('the committed openapi.json', () => {
  it('is what the schemas and route table generate (run `npm run openapi` after changing them)', () => {
    expect(readFileSync(COMMITTED_PATH, 'utf8')).toBe(renderOpenApiDocument())
  })

  it('documents every route of the route table', () => {
    const documented = operationsOf(ours).map((operation) => operationAt(ours, operation).operationId)

    expect(documented.sort()).toEqual(routeList.map((route) => route.operationId).sort())
  })

  it('asks for the bearer key on every authenticated operation, and on no other', () => {
    for (const route of routeList) {
      const operation = operationAt(ours, `${route.method} ${route.path.slice('/v3'.length)}`)

      expect(operation?.security, `${route.operationId} security`).toEqual(
        route.permission ? [{ bearerAuth: [] }] : [],
      )
    }
  })
})

describe('error bodies as the API maps them', () => {
  const requestId = 'c0ffee00-0000-4000-8000-000000000000'
  const cases = [
    ['createDockerRegistryV3', new InvalidInputError([{ path: 'username', message: 'must be a string' }])],
    ['listDockerRegistriesV3', new AuthenticationError('missing')],
    ['deleteDockerRegistryV3', new PermissionDeniedError('docker_registries:write')],
    ['getDockerRegistryV3', new CredentialNotFoundError()],
    ['updateDockerRegistryV3', new RequestBodyTooLargeError(16_384)],
    ['createDockerRegistryV3', Object.assign(new Error('Unsupported Media Type'), { statusCode: 415 })],
    ['createDockerRegistryV3', Object.assign(new Error('Invalid JSON'), { statusCode: 422 })],
    ['getDockerRegistryV3', new DependencyUnavailableError('DynamoDB', 1)],
    ['getOpenApiDocument', new Error('boom')],
  ] as const

  it.each(cases)('%s: %s matches the documented error response', (operationId, error) => {
    const { response } = mapError(error, requestId)

    assertMatchesOpenApi(operationId, response.statusCode, JSON.parse(response.body), {
      ...response.headers,
      'x-request-id': requestId,
    })
  })
})

describe('assertMatchesOpenApi', () => {
  const credential = {
    id: '0190f0e2-1c3a-7b4d-8e5f-0123456789ab',
    company_id: '0190f0e2-1c3a-7b4d-8e5f-0123456789ac',
    name: 'My Docker Hub',
    registry: 'dockerHub',
    username: 'my-docker-user',
    created_at: '2025-01-30T00:00:00.000Z',
    updated_at: '2025-01-30T00:00:00.000Z',
  }
  const headers = new Headers({ 'content-type': 'application/json; charset=utf-8', 'x-request-id': 'r-1' })

  it('accepts a documented response', () => {
    expect(openApiViolations('getDockerRegistryV3', 200, credential, headers)).toEqual([])
  })

  it('refuses a status the operation does not document', () => {
    expect(() => assertMatchesOpenApi('getDockerRegistryV3', 201, credential, headers)).toThrow(
      /answered 201, a status the document does not list/,
    )
  })

  it('refuses a body that does not match, naming the field', () => {
    expect(() =>
      assertMatchesOpenApi('listDockerRegistriesV3', 200, {
        data: [credential],
        total: 1,
        offset: 0,
        limit: 25,
      }),
    ).toThrow(/additional properties \("company_id"\)/)
  })

  it('refuses a response without a documented required header', () => {
    expect(
      openApiViolations('getDockerRegistryV3', 200, credential, { 'content-type': 'application/json' }),
    ).toEqual([expect.stringContaining('header X-Request-Id is missing')])
  })

  it('refuses an error body whose status differs from the response status', () => {
    const body = { message: 'Not found', status: 400, data: { code: 'not_found', message: 'No.' } }

    expect(openApiViolations('getDockerRegistryV3', 404, body)).toEqual([
      expect.stringContaining('body.status is 400'),
    ])
  })

  it('refuses an unknown operationId', () => {
    expect(() => assertMatchesOpenApi('getDockerRegistry', 200, credential)).toThrow(/unknown operationId/)
  })
})
