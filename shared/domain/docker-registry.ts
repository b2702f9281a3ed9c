import * as v from 'valibot'
import { providerUsernameRefusal } from './registry-username.ts'
import { secretIssues } from './short-lived-credentials.ts'
import { USERNAME_MAX_LENGTH, usernameRefusal } from './username-characters.ts'

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

/**
 * The longest secret accepted (an extension), and only for a `gcr` service-account key
 * (`_json_key`, `_json_key_base64`): a key file is about 2.3 KB; every other secret is `SECRET_PATTERN`.
 */
export const GOOGLE_KEY_SECRET_MAX_LENGTH = 16_384

/** The usernames of a `gcr` credential whose secret is a service-account key. */
export const GOOGLE_KEY_USERNAMES = ['_json_key', '_json_key_base64'] as const

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
// the contract's pattern, widened (an extension) to the usernames registries really issue; the
// field checks what no registry can use, the provider's formats are checked with the registry
// (see registry-username.ts). Documented as the contract's pattern or the extension's.
const username = v.pipe(
  v.string('must be a string'),
  v.check(
    (value) => usernameRefusal(value) === undefined,
    (issue) => usernameRefusal(issue.input) ?? '',
  ),
  v.metadata({
    anyOf: [
      { pattern: USERNAME_PATTERN.source },
      {
        pattern: '^[!-9;-~]+$',
        maxLength: USERNAME_MAX_LENGTH,
        description:
          "Extension: the usernames registries really issue (GitLab deploy tokens, Google's `_json_key`, robot accounts, access key ids), up to 255 printable ASCII characters without `:`; which formats a provider accepts is in the README",
      },
    ],
  }),
)
// the contract's pattern, widened (an extension) for `gcr` service-account keys only: the field
// bounds the length, the credential's registry and username decide the rest (secretIssues).
const secret = v.pipe(
  v.string('must be a string'),
  wellFormed,
  codePointsAtMost(
    GOOGLE_KEY_SECRET_MAX_LENGTH,
    `must be at most ${GOOGLE_KEY_SECRET_MAX_LENGTH} characters long`,
  ),
  v.metadata({
    anyOf: [
      { pattern: SECRET_PATTERN.source },
      {
        minLength: 8,
        maxLength: GOOGLE_KEY_SECRET_MAX_LENGTH,
        description:
          'Extension: with registry `gcr` and username `_json_key` (or `_json_key_base64`), a Google service-account key file (or its base64) of up to 16384 characters',
      },
    ],
  }),
)
const registry = v.picklist(REGISTRY_PROVIDERS, `must be one of ${REGISTRY_PROVIDERS.join(', ')}`)

// one message function for the three issues a strict object raises, none quoting the input.
const unknownProperty = (issue: v.StrictObjectIssue) => {
  if (issue.expected === 'never') return 'is not a known property'
  return issue.path ? 'is required' : 'must be a JSON object'
}

interface CredentialFields {
  name: string
  registry: RegistryProvider
  username: string
  secret: string
}

// the checks that need two fields: a username the provider issues, a secret its username means.
// It runs even when another field failed, so every failing field is listed at once; a field its
// own schema refused is not refused twice.
const credentialFields = v.rawCheck<CredentialFields>(({ dataset, addIssue }) => {
  // possibly untyped: the fields are read as they came
  const value = dataset.value as unknown
  if (!value || typeof value !== 'object' || Array.isArray(value)) return
  const registry = (value as Record<string, unknown>).registry ?? 'dockerHub'
  const { username, secret } = value as Record<string, unknown>
  if (!(REGISTRY_PROVIDERS as readonly unknown[]).includes(registry)) return
  if (typeof username !== 'string' || usernameRefusal(username) !== undefined) return
  const provider = registry as RegistryProvider
  const usernameIssue = providerUsernameRefusal(provider, username)
  if (usernameIssue)
    addIssue({ message: usernameIssue, path: [fieldPath(value as Record<string, unknown>, 'username')] })
  if (
    typeof secret !== 'string' ||
    !isWellFormedText(secret) ||
    codePointLength(secret) > GOOGLE_KEY_SECRET_MAX_LENGTH
  )
    return
  for (const issue of secretIssues(provider, username, secret)) {
    addIssue({ message: issue.message, path: [fieldPath(value as Record<string, unknown>, 'secret')] })
  }
})

function fieldPath(input: Record<string, unknown>, key: string) {
  return { type: 'object', origin: 'value', input, key, value: input[key] } as const
}

/** The body of `POST /v3/docker-registries`. */
export const CreateDockerRegistryInput = v.pipe(
  v.strictObject(
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
  ),
  credentialFields,
  // the published schema says what the API checks: the contract's secret pattern, unless the
  // credential is a gcr service-account key (the one extension of the secret's length)
  v.metadata({
    if: {
      not: {
        properties: { registry: { const: 'gcr' }, username: { enum: [...GOOGLE_KEY_USERNAMES] } },
        required: ['registry', 'username'],
      },
    },
    // biome-ignore lint/suspicious/noThenProperty: JSON Schema's `then`, not a thenable (valibot never awaits metadata)
    then: { properties: { secret: { pattern: SECRET_PATTERN.source } } },
  }),
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
