import * as v from 'valibot'

/**
 * The registry providers a credential can be for, exactly as the Sevalla v3 contract lists them.
 */
export const REGISTRY_PROVIDERS = [
  'gcr',
  'ecr',
  'dockerHub',
  'github',
  'gitlab',
  'digitalOcean',
  'custom',
] as const

/** A registry provider name. */
export type RegistryProvider = (typeof REGISTRY_PROVIDERS)[number]

/** The username pattern of the contract, verbatim. */
export const USERNAME_PATTERN = /^(?=.{1,39}$)[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$/

/**
 * The secret pattern of the contract, with the `u` flag: JSON Schema (and so Sevalla's own
 * validator, ajv, Schemathesis) matches patterns by code point, so `.` is one code point, an
 * emoji included. The published document carries its source, `^.{8,128}$`, verbatim.
 */
export const SECRET_PATTERN = /^.{8,128}$/u

/** The uuid pattern the contract uses for ids (any RFC 9562 version, plus nil and max). */
export const UUID_PATTERN =
  /^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[1-8][0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}|00000000-0000-0000-0000-000000000000|ffffffff-ffff-ffff-ffff-ffffffffffff)$/

/** The timestamp pattern of the contract, verbatim: ISO 8601 in UTC, as `Date#toISOString` writes it. */
export const TIMESTAMP_PATTERN =
  /^(?:(?:\d\d[2468][048]|\d\d[13579][26]|\d\d0[48]|[02468][048]00|[13579][26]00)-02-29|\d{4}-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12]\d|3[01])|(?:0[469]|11)-(?:0[1-9]|[12]\d|30)|(?:02)-(?:0[1-9]|1\d|2[0-8])))T(?:(?:[01]\d|2[0-3]):[0-5]\d(?::[0-5]\d(?:\.\d+)?)?(?:Z))$/

const REGISTRY_DESCRIPTION =
  'Docker registry provider. `dockerHub` - Docker Hub. `gcr` - Google Container Registry. `ecr` - Amazon Elastic Container Registry. `github` - GitHub Container Registry. `gitlab` - GitLab Container Registry. `digitalOcean` - DigitalOcean Container Registry. `custom` - a self-hosted or third-party registry.'

/** How many code points a string has: what JSON Schema's `minLength` and `maxLength` count. */
export function codePointLength(text: string): number {
  let length = 0
  for (const _ of text) length += 1
  return length
}

// in `u` mode a surrogate range matches only a surrogate without its pair
const NUL_OR_LONE_SURROGATE = /[\0\uD800-\uDFFF]/u

/**
 * Whether a string can be stored and echoed: no NUL, no unpaired surrogate (strict JSON parsers
 * refuse a document that holds one, so a name with one would break every client that lists it).
 */
export function isWellFormedText(text: string): boolean {
  return !NUL_OR_LONE_SURROGATE.test(text)
}

const wellFormed = v.check<string, string>(
  isWellFormedText,
  'must not contain NUL or unpaired surrogate characters',
)

// a length in code points, documented as the JSON Schema keyword that counts the same way
// (valibot's own length actions count UTF-16 code units: 128 emoji would be 256).
const codePointsAtLeast = (minimum: number, message: string) =>
  v.check<string, string>((text) => codePointLength(text) >= minimum, message)
const codePointsAtMost = (maximum: number, message: string) =>
  v.check<string, string>((text) => codePointLength(text) <= maximum, message)

// every message is written here rather than left to valibot's defaults: those quote the received
// value, and for `secret` that value is the credential itself (threat: a secret echoed into a 400
// body or a log line).
const name = v.pipe(
  v.string('must be a string'),
  wellFormed,
  codePointsAtLeast(1, 'must be at least 1 character long'),
  codePointsAtMost(255, 'must be at most 255 characters long'),
  v.metadata({ minLength: 1, maxLength: 255 }),
)
const username = v.pipe(
  v.string('must be a string'),
  v.regex(
    USERNAME_PATTERN,
    'must be 1 to 39 letters, digits, ".", "_" or "-", starting and ending with a letter or digit',
  ),
)
const secret = v.pipe(
  v.string('must be a string'),
  wellFormed,
  v.check<string, string>(
    (text) => SECRET_PATTERN.test(text),
    'must be 8 to 128 characters long, without line breaks',
  ),
  v.metadata({ pattern: SECRET_PATTERN.source }),
)
const registry = v.picklist(REGISTRY_PROVIDERS, `must be one of ${REGISTRY_PROVIDERS.join(', ')}`)

// one message function for the three issues a strict object raises, none quoting the input.
const unknownProperty = (issue: v.StrictObjectIssue) => {
  if (issue.expected === 'never') return 'is not a known property'
  return issue.path ? 'is required' : 'must be a JSON object'
}

/** The body of `POST /v3/docker-registries`. */
export const CreateDockerRegistryInput = v.strictObject(
  {
    name: v.pipe(
      name,
      v.description('Human-readable name for the Docker registry credential'),
      v.examples(['My Docker Hub']),
    ),
    registry: v.pipe(
      v.optional(registry, 'dockerHub'),
      v.description(REGISTRY_DESCRIPTION),
      v.examples(['dockerHub']),
    ),
    username: v.pipe(
      username,
      v.description('Username or access key used to authenticate with the Docker registry'),
      v.examples(['my-docker-user']),
    ),
    secret: v.pipe(
      secret,
      v.description(
        'Password or access token used to authenticate with the Docker registry. Stored encrypted at rest.',
      ),
      v.examples(['my-secret-token']),
    ),
  },
  unknownProperty,
)
/** A validated create body, with `registry` defaulted. */
export type CreateDockerRegistryInput = v.InferOutput<typeof CreateDockerRegistryInput>

/** The body of `PATCH /v3/docker-registries/{id}`: any subset of the create fields, no defaults. */
export const UpdateDockerRegistryInput = v.strictObject(
  {
    name: v.optional(
      v.pipe(
        name,
        v.description('New name for the Docker registry credential'),
        v.examples(['My Docker Hub']),
      ),
    ),
    registry: v.optional(v.pipe(registry, v.description(REGISTRY_DESCRIPTION), v.examples(['dockerHub']))),
    username: v.optional(
      v.pipe(
        username,
        v.description('New username or access key for the Docker registry'),
        v.examples(['my-docker-user']),
      ),
    ),
    secret: v.optional(
      v.pipe(
        secret,
        v.description('New password or access token for the Docker registry. Stored encrypted at rest.'),
        v.examples(['my-secret-token']),
      ),
    ),
  },
  unknownProperty,
)
/** A validated update body. */
export type UpdateDockerRegistryInput = v.InferOutput<typeof UpdateDockerRegistryInput>

/** A credential id in a path. */
export const CredentialId = v.pipe(
  v.string('must be a string'),
  v.regex(UUID_PATTERN, 'must be a uuid'),
  // ids are stored lower-case (UUIDv7 as generated); a client may send them in any case
  v.toLowerCase(),
  // documents what the pattern already enforces, without a second check (and a second issue)
  v.metadata({ format: 'uuid' }),
  v.description('Docker registry credential identifier'),
  v.examples(['fb5e5168-4281-4bec-94c5-0d1584e9e657']),
)

/** Path parameters of the operations on one credential. */
export const CredentialPathParameters = v.strictObject({ id: CredentialId }, unknownProperty)

const integerQueryParameter = (min: number, max: number, fallback: number) =>
  v.optional(
    v.pipe(
      v.string('must be an integer'),
      v.regex(/^\d{1,6}$/, `must be an integer from ${min} to ${max}`),
      v.toNumber(),
      v.minValue(min, `must be an integer from ${min} to ${max}`),
      v.maxValue(max, `must be an integer from ${min} to ${max}`),
    ),
    String(fallback),
  )

/** Query parameters of the list operation, as strings off the wire, parsed to numbers. */
export const ListDockerRegistriesQuery = v.strictObject(
  {
    limit: integerQueryParameter(1, 100, 25),
    offset: integerQueryParameter(0, 10_000, 0),
  },
  unknownProperty,
)
/** Validated list paging. */
export type ListDockerRegistriesQuery = v.InferOutput<typeof ListDockerRegistriesQuery>

const timestamp = (what: string) =>
  v.pipe(
    v.string(),
    v.isoTimestamp(),
    v.regex(TIMESTAMP_PATTERN),
    v.description(`Timestamp when the credential was ${what}, in ISO 8601 format`),
    v.examples(['2025-01-30T00:00:00.000Z']),
  )

const credentialSummaryEntries = {
  id: v.pipe(
    v.string(),
    v.uuid(),
    v.regex(UUID_PATTERN),
    v.description('Unique identifier for the Docker registry credential'),
    v.examples(['fb5e5168-4281-4bec-94c5-0d1584e9e657']),
  ),
  name: v.pipe(
    v.string(),
    v.description('Human-readable name for the Docker registry credential'),
    v.examples(['My Docker Hub']),
  ),
  registry: v.pipe(registry, v.description(REGISTRY_DESCRIPTION), v.examples(['dockerHub'])),
  username: v.pipe(
    v.string(),
    v.description('Username or access key used to authenticate with the Docker registry'),
    v.examples(['my-docker-user']),
  ),
  created_at: timestamp('created'),
  updated_at: timestamp('last modified'),
}

/** A credential as the list operation shows it: no company, never the secret. */
export const DockerRegistrySummary = v.strictObject(credentialSummaryEntries)
/** A credential as the list operation shows it. */
export type DockerRegistrySummary = v.InferOutput<typeof DockerRegistrySummary>

/** A credential as create, get and update return it: never the secret. */
export const DockerRegistry = v.strictObject({
  id: credentialSummaryEntries.id,
  company_id: v.pipe(
    v.string(),
    v.uuid(),
    v.regex(UUID_PATTERN),
    v.description('Identifier of the company that owns the credential'),
    v.examples(['a1b2c3d4-e5f6-7890-abcd-ef1234567890']),
  ),
  name: credentialSummaryEntries.name,
  registry: credentialSummaryEntries.registry,
  username: credentialSummaryEntries.username,
  created_at: credentialSummaryEntries.created_at,
  updated_at: credentialSummaryEntries.updated_at,
})
/** A credential as create, get and update return it. */
export type DockerRegistry = v.InferOutput<typeof DockerRegistry>

/** One page of credentials. */
export const DockerRegistryPage = v.strictObject({
  data: v.pipe(v.array(DockerRegistrySummary), v.description('List of items')),
  total: v.pipe(
    v.number(),
    v.integer(),
    v.minValue(0),
    v.maxValue(10_000),
    v.description('Total number of items matching the query'),
  ),
  offset: v.pipe(
    v.number(),
    v.integer(),
    v.minValue(0),
    v.maxValue(10_000),
    v.description('Current pagination offset'),
  ),
  limit: v.pipe(
    v.number(),
    v.integer(),
    v.minValue(1),
    v.maxValue(100),
    v.description('Current pagination limit'),
  ),
})
/** One page of credentials. */
export type DockerRegistryPage = v.InferOutput<typeof DockerRegistryPage>

/** The body of a successful delete. */
export const DeletedMessage = v.strictObject({
  message: v.pipe(
    v.string(),
    v.description('Confirmation message'),
    v.examples(['Docker registry credential deleted']),
  ),
})
