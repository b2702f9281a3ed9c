import {
  type ConversionConfig,
  type JsonSchema,
  toJsonSchema,
  toJsonSchemaDefs,
} from '@valibot/to-json-schema'
import * as v from 'valibot'
import packageJson from '../../package.json' with { type: 'json' }
import { ActivityReport } from '../domain/activity.ts'
import { CreateDockerRegistryHeaders } from '../domain/create-request.ts'
import { CredentialHealthReport } from '../domain/credential-health.ts'
import {
  CreateDockerRegistryInput,
  CredentialPathParameters,
  DeletedMessage,
  DockerRegistry,
  DockerRegistryPage,
  DockerRegistrySummary,
  ListDockerRegistriesQuery,
  UpdateDockerRegistryInput,
} from '../domain/docker-registry.ts'
import { ExternalIdentity } from '../domain/external-identity.ts'
import {
  CreateDockerRegistryQuery,
  UpdateDockerRegistryQuery,
  VERIFICATION_STATUSES,
  VerificationReport,
  VerifyDockerRegistryQuery,
} from '../domain/verify-credential.ts'
import { MAX_BODY_BYTES } from './middleware/body-size-limit.ts'
import { type Route, routes } from './routes.ts'

/** The prefix every route path carries; the document's server URL ends with it, like Sevalla's. */
export const API_BASE_PATH = '/v3'

/** One failing input field, as `data.issues` lists it. */
const InputIssueSchema = v.strictObject({
  path: v.pipe(
    v.string(),
    v.description('Dot path of the failing field (`username`, `limit`); empty for the body as a whole'),
    v.examples(['username']),
  ),
  message: v.pipe(
    v.string(),
    v.description('What is wrong with the field; never quotes the value received'),
    v.examples(['must not contain ":" (Basic auth puts it between the username and the password)']),
  ),
})

/**
 * The Sevalla v3 error body every 4xx and 5xx carries, with our one extension: `data.issues` on
 * validation errors. It describes {@link import('./error-response.ts').ErrorBody}.
 */
export const ErrorBodySchema = v.strictObject({
  message: v.pipe(v.string(), v.description('Error message'), v.examples(['Not found'])),
  status: v.pipe(
    v.number(),
    v.integer(),
    v.minValue(400),
    v.maxValue(599),
    v.description('HTTP status code, the same as the status of the response'),
    v.examples([404]),
  ),
  data: v.pipe(
    v.strictObject({
      code: v.pipe(v.string(), v.description('Machine-readable error code'), v.examples(['not_found'])),
      message: v.pipe(
        v.string(),
        v.description('Additional error details or instructions'),
        v.examples(['No Docker registry credential with this id exists.']),
      ),
      issues: v.optional(
        v.pipe(
          v.array(InputIssueSchema),
          v.minLength(1),
          v.description(
            'Every failing field of a rejected request (400 validation errors only). An extension to the Sevalla v3 error body.',
          ),
        ),
      ),
      result: v.optional(
        v.pipe(
          v.picklist(VERIFICATION_STATUSES),
          v.description(
            'Why the registry refused a credential created with `?verify=true` (400 `verification_failed` only). An extension to the Sevalla v3 error body.',
          ),
        ),
      ),
    }),
    v.description('Error details'),
  ),
})

/** What `GET /v3/openapi.json` answers: this document. */
const OpenApiDocumentSchema = v.pipe(
  v.looseObject({
    openapi: v.pipe(v.string(), v.regex(/^3\.1\.\d+$/)),
    info: v.looseObject({ title: v.string(), version: v.string() }),
    // a record, so generated clients type it as paths by name (not `Record<string, never>`)
    paths: v.record(v.string(), v.looseObject({})),
  }),
  v.description('An OpenAPI 3.1 document'),
)

// every body the API reads or writes, by component name.
const componentSchemas = {
  ActivityReport,
  CreateDockerRegistryInput,
  CredentialHealthReport,
  DeletedMessage,
  DockerRegistry,
  DockerRegistryPage,
  DockerRegistrySummary,
  Error: ErrorBodySchema,
  ExternalIdentity,
  OpenApiDocument: OpenApiDocumentSchema,
  UpdateDockerRegistryInput,
  VerificationReport,
}
type ComponentName = keyof typeof componentSchemas

/** What the route table does not say about an operation. */
interface OperationDocs {
  summary: string
  description: string
  tag: string
  /** The JSON body the handler validates. */
  body?: ComponentName
  /** The query schema the handler validates (strings off the wire). */
  query?: v.GenericSchema
  /** The path parameter schema the handler validates. */
  path?: v.GenericSchema
  /** The header schema the handler validates (lower-case names). */
  headers?: v.GenericSchema
  success: { status: 200 | 201; description: string; body: ComponentName }
}

const TAG_REGISTRIES = 'Docker Registries'
const TAG_DOCUMENTATION = 'Documentation'
const NEVER_THE_SECRET = 'The secret is write-only: no response ever includes it.'

// keyed like the route table, so a route without documentation does not compile.
const operationDocs: { [K in keyof typeof routes]: OperationDocs } = {
  listDockerRegistries: {
    summary: 'List Docker registry credentials',
    description: `One page of the calling company's Docker registry credentials, newest first. ${NEVER_THE_SECRET}`,
    tag: TAG_REGISTRIES,
    query: ListDockerRegistriesQuery,
    success: { status: 200, description: 'One page of credentials', body: 'DockerRegistryPage' },
  },
  createDockerRegistry: {
    summary: 'Create Docker registry credential',
    description: `Stores a credential for a private registry; the secret is encrypted with a key of its own. ${NEVER_THE_SECRET}`,
    tag: TAG_REGISTRIES,
    body: 'CreateDockerRegistryInput',
    query: CreateDockerRegistryQuery,
    headers: CreateDockerRegistryHeaders,
    success: { status: 201, description: 'The credential created', body: 'DockerRegistry' },
  },
  getDockerRegistry: {
    summary: 'Get Docker registry credential',
    description: `One credential of the calling company. ${NEVER_THE_SECRET}`,
    tag: TAG_REGISTRIES,
    path: CredentialPathParameters,
    success: { status: 200, description: 'The credential', body: 'DockerRegistry' },
  },
  updateDockerRegistry: {
    summary: 'Update Docker registry credential',
    description: `Changes any subset of the fields; a new secret is encrypted with a fresh key. A secret belongs to its registry: changing \`registry\` needs a new \`secret\` in the same request, and a credential pinned with \`registry_host\` cannot change \`registry\` at all (400, the reason in \`message\`). ${NEVER_THE_SECRET}`,
    tag: TAG_REGISTRIES,
    body: 'UpdateDockerRegistryInput',
    path: CredentialPathParameters,
    query: UpdateDockerRegistryQuery,
    success: { status: 200, description: 'The credential as updated', body: 'DockerRegistry' },
  },
  deleteDockerRegistry: {
    summary: 'Delete Docker registry credential',
    description: 'Deletes a credential and its encrypted secret.',
    tag: TAG_REGISTRIES,
    path: CredentialPathParameters,
    success: { status: 200, description: 'The credential was deleted', body: 'DeletedMessage' },
  },
  verifyDockerRegistry: {
    summary: 'Verify Docker registry credential (extension)',
    description:
      "Checks a stored credential against its registry (Registry HTTP API v2; ECR by token exchange), optionally for pulling one `image`, records the outcome as its last verification (see the health route) and reports it: against the host pinned with `registry_host`, else the provider's own host, never a host named now. Not part of the Sevalla v3 API.",
    tag: TAG_REGISTRIES,
    path: CredentialPathParameters,
    query: VerifyDockerRegistryQuery,
    success: { status: 200, description: 'What the registry said', body: 'VerificationReport' },
  },
  getDockerRegistryActivity: {
    summary: 'Get Docker registry credential activity (extension)',
    description:
      'The audit trail of a credential: its last 100 changes (who: the API key id and name, never the key; which fields; whether the secret was rotated) and verifications (result, on demand or scheduled), newest first, each written in the same transaction as what it records and kept 90 days, also after the credential is deleted. Not part of the Sevalla v3 API.',
    tag: TAG_REGISTRIES,
    path: CredentialPathParameters,
    success: { status: 200, description: 'The newest records first', body: 'ActivityReport' },
  },
  getDockerRegistryHealth: {
    summary: 'Get Docker registry credential health (extension)',
    description:
      'The last verification of a credential (on demand with the verify route, or by the scheduled health checks that re-verify every credential daily) and when a deployment last resolved it. Not part of the Sevalla v3 API.',
    tag: TAG_REGISTRIES,
    path: CredentialPathParameters,
    success: { status: 200, description: 'What is known about its health', body: 'CredentialHealthReport' },
  },
  getExternalId: {
    summary: 'Get your ExternalId for ECR roles (extension)',
    description:
      "The ExternalId this service sends whenever it assumes one of your IAM roles for an `ecr` credential with username `assume-role` (the secret is the role's ARN), the roles of this service that assume it, and a trust policy requiring both. The service refuses a role whose trust does not require the ExternalId. Not part of the Sevalla v3 API.",
    tag: TAG_REGISTRIES,
    success: {
      status: 200,
      description: 'Your ExternalId and the trust policy to paste',
      body: 'ExternalIdentity',
    },
  },
  getOpenApiDocument: {
    summary: 'Get this OpenAPI document',
    description: 'This document, generated from the schemas the API validates with. No API key needed.',
    tag: TAG_DOCUMENTATION,
    success: { status: 200, description: 'This OpenAPI 3.1 document', body: 'OpenApiDocument' },
  },
}

// the query schema parses strings and carries no descriptions of its own.
const PARAMETER_DESCRIPTIONS: Record<string, string> = {
  limit: 'Maximum number of items per page',
  offset: 'Number of items to skip',
  verify:
    'Extension: `true` checks the credential against its registry first and stores it only if the registry accepts it. Not for ECR role credentials (`username: assume-role`, 400): create those, then verify them with `POST /docker-registries/{id}/verify`',
  image:
    "Extension: an image reference on the credential's registry host (e.g. `ghcr.io/acme/api:1.4.2`); the check then asks for `repository:<name>:pull` and reads the image's manifest, as a pull would (with `?verify=true` on create)",
  platform:
    'Extension, with `image`: a platform the image must have, `os/architecture[/variant]` (e.g. `linux/amd64`); `platform_mismatch` when it lacks it',
  'idempotency-key':
    'Extension: a key of your choosing (e.g. a UUID) that makes retries safe: for 24 hours, a retry with the same key and the same name, registry and username gets the first answer again instead of creating a second credential. The key is stored in the same write as the credential: a request that failed left nothing, so its retry runs; concurrent requests with one key store one credential and all answer it. The secret is not compared (no trace of it is kept), so a retry that corrects the secret needs a new key',
  registry_host:
    "Extension: pins the credential, for good, to the registry host (`host[:port]`) its secret belongs to, which must be one of the provider's; the service then presents the secret to that host only (verification) and resolves it only for images on it. Needed to verify `ecr` and `custom` credentials; a pinned credential never moves to another registry",
}

/** A reusable error response: its component name, description and headers. */
interface ErrorResponseDocs {
  name: string
  description: string
  headers?: string[]
  /**
   * Who answers: `function` (always with X-Request-Id), `gateway` (API Gateway itself, only its
   * X-Amzn-RequestId), or `either` (X-Request-Id only when a function answered).
   */
  answeredBy: 'function' | 'gateway' | 'either'
}

/**
 * The create operation's 409, which is not the update's: the company holds as many credentials
 * as it may. No `Retry-After`: retrying does not help until one is deleted.
 */
const CREDENTIAL_LIMIT_RESPONSE: ErrorResponseDocs = {
  name: 'CredentialLimitReached',
  answeredBy: 'function',
  description:
    'The company already holds as many credentials as it may (`data.code` `credential_limit_reached`; 1,000 unless the deployment sets another limit, at most 10,000). Nothing was stored; delete a credential first.',
}

// whether an operation stores new credentials (and so can reach the company's limit)
const createsCredentials = (route: Route) =>
  route.method === 'POST' && route.credentialActions.includes('dynamodb:PutItem')

/** Every error status the API answers, with the reusable response that documents it. */
const ERROR_RESPONSES: Record<number, ErrorResponseDocs> = {
  400: {
    name: 'BadRequest',
    answeredBy: 'either',
    description:
      'The request is invalid: malformed JSON, an unknown property, a body, path or query parameter that fails its schema, or an update the credential does not allow. `message` says why, and `data.issues` lists every failing field.',
  },
  401: {
    name: 'Unauthorized',
    answeredBy: 'function',
    description: 'No API key, or a malformed, unknown, disabled or expired one.',
    headers: ['WWW-Authenticate'],
  },
  403: {
    name: 'Forbidden',
    answeredBy: 'either',
    description: 'The API key lacks the permission this operation needs.',
  },
  404: {
    name: 'NotFound',
    answeredBy: 'function',
    description:
      'No credential with this id exists for the calling company (also when another company has one).',
  },
  409: {
    name: 'Conflict',
    answeredBy: 'function',
    description:
      'The credential kept changing while this update ran (`data.code` `concurrent_update`). Retry after `Retry-After` seconds.',
    headers: ['Retry-After'],
  },
  413: {
    name: 'PayloadTooLarge',
    answeredBy: 'either',
    description: `The request body is larger than ${MAX_BODY_BYTES} bytes (API Gateway itself refuses bodies over 10 MB).`,
  },
  415: {
    name: 'UnsupportedMediaType',
    answeredBy: 'either',
    description: 'The request body is not sent as `application/json`.',
  },
  422: {
    name: 'UnprocessableContent',
    answeredBy: 'function',
    description: 'The `Idempotency-Key` was already used with a different request.',
  },
  429: {
    name: 'TooManyRequests',
    answeredBy: 'gateway',
    description:
      'Too many requests; retry after `Retry-After` seconds. Each API key may make a fixed number of requests per window (`data.code` `rate_limited`, also for one address sending too much with any key), and the whole stage has a throttle (`data.code` `throttled`). The gateway answers these itself, before any function: the request id is in its `X-Amzn-RequestId` header (and, when throttled, in `data.message`).',
    headers: ['Retry-After'],
  },
  500: {
    name: 'InternalServerError',
    answeredBy: 'either',
    description: 'A fault on our side; the body quotes the request id for support, nothing else.',
  },
  503: {
    name: 'ServiceUnavailable',
    answeredBy: 'either',
    description: 'A dependency is throttling or unreachable; retry after `Retry-After` seconds.',
    headers: ['Retry-After'],
  },
}

const RESPONSE_HEADERS = {
  'Retry-After': {
    description: 'Seconds to wait before retrying',
    required: true,
    schema: { type: 'integer', minimum: 0 },
  },
  'WWW-Authenticate': {
    description: 'The authentication scheme to use: `Bearer`',
    required: true,
    schema: { type: 'string', pattern: '^Bearer( |$)' },
  },
  'X-Amzn-RequestId': {
    description: "API Gateway's request id, the only one on the errors API Gateway answers itself",
    required: true,
    schema: { type: 'string', minLength: 1 },
  },
  'X-Request-Id': {
    description: 'Names the request in our logs; quote it to support',
    required: true,
    schema: { type: 'string', minLength: 1 },
  },
  // the same header, on a status API Gateway can also answer by itself (an undecodable path, a
  // body over its 10 MB, WAF, throttling, an integration failure): gateway responses cannot put
  // the request id into a header, so there only X-Amzn-RequestId and the body name the request.
  'X-Request-Id-Unless-Gateway': {
    description:
      'Names the request in our logs; quote it to support. Absent when API Gateway answered by itself: then `X-Amzn-RequestId` and `data.message` name the request',
    required: false,
    schema: { type: 'string', minLength: 1 },
  },
  'X-Amzn-RequestId-Unless-Function': {
    description:
      "API Gateway's request id; on errors API Gateway answers itself, the only header naming the request",
    required: false,
    schema: { type: 'string', minLength: 1 },
  },
}

// query parameters are strings on the wire that the schema parses to numbers; to a client, a
// digits-only string parsed to a number is an integer parameter, and its default the number.
const DIGITS_ONLY = /^\^\\d(\{\d+(,\d*)?\}|\+)\$$/

const conversion: ConversionConfig = {
  target: 'draft-2020-12',
  errorMode: 'throw',
  // a `check` only narrows what the documented type and length already say (a host's port range);
  // a `raw_check` of a whole body checks what its fields' documented anyOf already describes
  // and `to_lower_case` only normalises an id the pattern already accepts in either case
  ignoreActions: ['check', 'raw_check', 'to_lower_case'],
  overrideAction: ({ valibotAction, jsonSchema }) => {
    if (valibotAction.type !== 'to_number') return undefined
    const { type, pattern, ...annotations } = jsonSchema
    if (type !== 'string' || !DIGITS_ONLY.test(pattern ?? '')) {
      throw new Error('to_number is documented only after a digits-only regex')
    }
    return { type: 'integer', ...annotations }
  },
  overrideSchema: ({ valibotSchema, jsonSchema }) => {
    if (valibotSchema.type !== 'optional' || jsonSchema.type !== 'integer') return undefined
    if (typeof jsonSchema.default !== 'string') return undefined
    return { ...jsonSchema, default: Number(jsonSchema.default) }
  },
  overrideRef: ({ referenceId }) => `#/components/schemas/${referenceId}`,
}

// `$schema` belongs to whole documents, not to schemas inside one; an empty `required` says nothing.
function tidy<T>(value: T): T {
  if (Array.isArray(value)) return value.map(tidy) as T
  if (typeof value !== 'object' || value === null) return value
  const entries = Object.entries(value).filter(
    ([key, member]) =>
      key !== '$schema' && !(key === 'required' && Array.isArray(member) && member.length === 0),
  )
  return Object.fromEntries(entries.map(([key, member]) => [key, tidy(member)])) as T
}

// code-unit order, not locale order: the same on every machine and Node version.
function sortedEntries<T>(record: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
}

function parameters(
  schema: v.GenericSchema,
  location: 'path' | 'query' | 'header',
): Record<string, unknown>[] {
  const objectSchema = tidy(toJsonSchema(schema, conversion))
  const required = new Set(objectSchema.required ?? [])
  return Object.entries(objectSchema.properties ?? {}).map(([name, property]) => {
    if (typeof property === 'boolean') throw new Error(`parameter ${name} has no schema`)
    if (location === 'path' && !required.has(name)) throw new Error(`path parameter ${name} must be required`)
    const { description = PARAMETER_DESCRIPTIONS[name], ...parameterSchema } = property
    if (!description) throw new Error(`parameter ${name} has no description`)
    // a parameter-level example is what contract tools (Dredd, Postman) fill a path with
    const example = Array.isArray(parameterSchema.examples) ? parameterSchema.examples[0] : undefined
    return {
      name,
      in: location,
      required: required.has(name),
      description,
      schema: parameterSchema,
      ...(example === undefined ? {} : { example }),
    }
  })
}

function jsonContent(component: ComponentName) {
  return { 'application/json': { schema: { $ref: `#/components/schemas/${component}` } } }
}

function headerRefs(names: readonly string[]) {
  return Object.fromEntries(names.map((name) => [name, { $ref: `#/components/headers/${name}` }]))
}

// the request id headers a response carries, by who can answer it (header name to component)
const REQUEST_ID_HEADERS = {
  function: { 'X-Request-Id': 'X-Request-Id' },
  gateway: { 'X-Amzn-RequestId': 'X-Amzn-RequestId' },
  either: {
    'X-Request-Id': 'X-Request-Id-Unless-Gateway',
    'X-Amzn-RequestId': 'X-Amzn-RequestId-Unless-Function',
  },
} as const

function requestIdHeaderRefs(answeredBy: keyof typeof REQUEST_ID_HEADERS) {
  return Object.fromEntries(
    Object.entries(REQUEST_ID_HEADERS[answeredBy]).map(([name, component]) => [
      name,
      { $ref: `#/components/headers/${component}` },
    ]),
  )
}

// which errors an operation can answer follows from what its route does.
function errorStatuses(route: Route, docs: OperationDocs): number[] {
  const statuses = new Set([429, 500]) // rate limits, stage throttling and our own faults apply to every route
  if (docs.body || docs.query || docs.path || docs.headers) statuses.add(400)
  if (route.permission !== null) statuses.add(401).add(403)
  if (docs.path) statuses.add(404) // every operation on one credential looks it up by id
  if (route.hasBody) statuses.add(413).add(415)
  if (route.idempotent) statuses.add(422)
  if (createsCredentials(route)) statuses.add(409) // the company's credential limit
  if (route.method === 'PATCH') statuses.add(409) // an update that kept losing races to others
  // api keys and credentials both live in DynamoDB; secrets go through KMS
  if (route.permission !== null || route.credentialActions.length > 0 || route.secretsKey !== 'none') {
    statuses.add(503)
  }
  return [...statuses]
}

function operation(route: Route, docs: OperationDocs): Record<string, unknown> {
  const permission = route.permission ? ` Needs an API key with the \`${route.permission}\` permission.` : ''
  const responses: Record<string, unknown> = {
    [docs.success.status]: {
      description: docs.success.description,
      headers: headerRefs(['X-Request-Id']),
      content: jsonContent(docs.success.body),
    },
  }
  for (const status of errorStatuses(route, docs)) {
    const error =
      status === 409 && createsCredentials(route) ? CREDENTIAL_LIMIT_RESPONSE : ERROR_RESPONSES[status]
    if (!error) throw new Error(`no documentation for status ${status}`)
    responses[status] = { $ref: `#/components/responses/${error.name}` }
  }
  const parameterList = [
    ...(docs.path ? parameters(docs.path, 'path') : []),
    ...(docs.query ? parameters(docs.query, 'query') : []),
    ...(docs.headers ? parameters(docs.headers, 'header') : []),
  ]
  return {
    operationId: route.operationId,
    summary: docs.summary,
    description: `${docs.description}${permission}`,
    tags: [docs.tag],
    security: route.permission ? [{ bearerAuth: [] }] : [],
    ...(parameterList.length > 0 ? { parameters: parameterList } : {}),
    ...(docs.body ? { requestBody: { required: true, content: jsonContent(docs.body) } } : {}),
    responses: Object.fromEntries(Object.entries(responses).sort(([a], [b]) => Number(a) - Number(b))),
  }
}

function paths(): Record<string, Record<string, unknown>> {
  const byPath: Record<string, Record<string, unknown>> = {}
  for (const [key, docs] of Object.entries(operationDocs)) {
    const route: Route = routes[key as keyof typeof routes]
    if (!route.path.startsWith(`${API_BASE_PATH}/`))
      throw new Error(`${route.path} is outside ${API_BASE_PATH}`)
    const path = route.path.slice(API_BASE_PATH.length)
    byPath[path] = { ...byPath[path], [route.method.toLowerCase()]: operation(route, docs) }
  }
  return sortedEntries(
    Object.fromEntries(Object.entries(byPath).map(([path, ops]) => [path, sortedEntries(ops)])),
  )
}

function schemas(): Record<string, JsonSchema> {
  const converted = toJsonSchemaDefs(componentSchemas, conversion)
  return sortedEntries(
    Object.fromEntries(Object.entries(converted).map(([name, schema]) => [name, tidy(schema)])),
  )
}

function errorResponses(): Record<string, unknown> {
  return sortedEntries(
    Object.fromEntries(
      [...Object.values(ERROR_RESPONSES), CREDENTIAL_LIMIT_RESPONSE].map(
        ({ name, description, headers = [], answeredBy }) => [
          name,
          {
            description,
            headers: { ...requestIdHeaderRefs(answeredBy), ...headerRefs(headers) },
            content: jsonContent('Error'),
          },
        ],
      ),
    ),
  )
}

/** A generated OpenAPI 3.1 document (plain JSON). */
export interface OpenApiDocument {
  openapi: string
  info: {
    title: string
    version: string
    description: string
    contact: { name: string }
    license: { name: string; identifier: string }
  }
  servers: { url: string; description: string }[]
  tags: { name: string; description: string }[]
  paths: Record<string, Record<string, unknown>>
  components: Record<string, Record<string, unknown>>
}

/**
 * The OpenAPI 3.1 document of the public API, generated from the route table and the same
 * valibot schemas the handlers validate with. Deterministic: the same code always gives the same
 * document, key order included, so a committed copy can be checked for drift.
 */
export function buildOpenApiDocument(): OpenApiDocument {
  return {
    openapi: '3.1.0',
    info: {
      title: 'Registry credentials API',
      version: packageJson.version,
      description:
        'Stores private container registry credentials. Wire-compatible with the Sevalla v3 `/docker-registries` API. Extensions, each marked as one where it appears: `data.issues` (every failing field) and `data.result` on errors; the `Idempotency-Key` header, `?verify=true` and `?registry_host=` on create; the `verify`, `external-id` and `openapi.json` operations; usernames and service-account-key secrets wider than the contract patterns; and the 409 `credential_limit_reached` and 429 `rate_limited` answers.',
      contact: { name: 'The platform team that runs this service' },
      // private package: no licence is granted outside the platform
      license: { name: 'Proprietary', identifier: 'LicenseRef-Proprietary' },
    },
    servers: [{ url: API_BASE_PATH, description: 'This API, on the host serving this document' }],
    tags: [
      { name: TAG_REGISTRIES, description: 'Credentials for pulling images from private registries' },
      { name: TAG_DOCUMENTATION, description: 'This document' },
    ],
    paths: paths(),
    components: {
      headers: RESPONSE_HEADERS,
      responses: errorResponses(),
      schemas: schemas(),
      securitySchemes: {
        bearerAuth: {
          type: 'http',
          scheme: 'bearer',
          description:
            'API key authentication. Pass your API key as a Bearer token in the Authorization header.',
        },
      },
    },
  }
}

/** The document as committed in `shared/http/openapi.json`: two-space JSON, trailing newline. */
export function renderOpenApiDocument(): string {
  return `${JSON.stringify(buildOpenApiDocument(), null, 2)}\n`
}
