import * as v from 'valibot'
import {
  type CreateDockerRegistryInput,
  type DockerRegistry,
  REGISTRY_PROVIDERS,
  type RegistryProvider,
  UUID_PATTERN,
} from './docker-registry.ts'
import {
  type CreateDockerRegistryPorts,
  createDockerRegistry,
  type SecretOptions,
} from './docker-registry-use-cases.ts'
import { CredentialNotFoundError, DependencyUnavailableError, InvalidInputError } from './errors.ts'
import { type ImagePlatform, parsePlatform } from './image-platform.ts'
import {
  ecrRegion,
  type ImageReference,
  InvalidImageReferenceError,
  normaliseHost,
  parseImageReference,
} from './image-reference.ts'
import type { Clock, CredentialStore, SecretOpener } from './ports.ts'
import { credentialHost, pinnableHost, RegistryHostParameter } from './registry-host.ts'
import { IMAGE_REFERENCE_MAX_LENGTH } from './resolve-credential.ts'
import {
  type CredentialExchanger,
  ECR_ROLE_USERNAME,
  exchangeKind,
  exchangeRequest,
  exchangeScope,
  RegistryCredentialsRejectedError,
  rejectedMessage,
} from './short-lived-credentials.ts'

/** What a verification can find, coarse enough to show a customer (Koyeb-style codes). */
export const VERIFICATION_STATUSES = [
  'ok',
  'auth_denied',
  'not_found',
  'registry_error',
  'timeout',
  'dns',
  'tls',
  'blocked_address',
  'malformed',
  'anonymous',
  'repository_not_found',
  'pull_denied',
  'platform_mismatch',
] as const

/** What a verification found. */
export type VerificationStatus = (typeof VERIFICATION_STATUSES)[number]

/** The outcome of checking credentials against a registry. */
export interface VerificationResult {
  status: VerificationStatus
  /** Safe to show a customer: never the password, a token or an internal error. */
  message: string
  /** The image's platforms (`linux/amd64`, …), when an image index or a platform was read. */
  platforms?: string[]
}

/** An image whose pull a verification checks. */
export interface ImageToVerify {
  /** The repository on the registry host, e.g. `library/nginx`. */
  repository: string
  /** A tag or a digest. */
  reference: string
  /** A platform the image must have. */
  platform?: ImagePlatform
}

/** Checks a username and password against a registry's HTTP API v2. Never throws. */
export interface RegistryVerifier {
  verify(input: {
    registryHost: string
    username: string
    password: string
    image?: ImageToVerify
  }): Promise<VerificationResult>
}

/**
 * What verification needs: the registry check, and the exchange of ECR key pairs, ECR roles and
 * Google keys (never a cached login: a check is of the credential as it is now).
 */
export interface VerificationPorts {
  verifier: RegistryVerifier
  exchanger: CredentialExchanger
}

const unknownParameter = (issue: v.StrictObjectIssue) =>
  issue.expected === 'never' ? 'is not a known parameter' : 'is invalid'

/** An `image` query parameter: an image reference, as `docker pull` takes it. */
export const ImageParameter = v.pipe(
  v.string('must be a string'),
  v.minLength(1, 'must not be empty'),
  v.maxLength(IMAGE_REFERENCE_MAX_LENGTH, `must be at most ${IMAGE_REFERENCE_MAX_LENGTH} characters long`),
)

/** A `platform` query parameter: `os/architecture[/variant]`, e.g. `linux/amd64`. */
export const PlatformParameter = v.pipe(
  v.string('must be a string'),
  v.maxLength(98, 'must be os/architecture[/variant], e.g. linux/amd64'),
  v.regex(
    /^[a-z0-9][a-z0-9._-]*\/[a-z0-9][a-z0-9._-]*(?:\/[a-z0-9][a-z0-9._-]*)?$/,
    'must be os/architecture[/variant], e.g. linux/amd64',
  ),
  v.check((text) => parsePlatform(text) !== undefined, 'must be os/architecture[/variant], e.g. linux/amd64'),
)

/**
 * Query of `POST /v3/docker-registries/{id}/verify`: an optional `image` to check pull access to
 * (on the credential's own host) and a `platform` it must have. The host comes from the
 * credential alone, never from the caller (see {@link credentialHost}).
 */
export const VerifyDockerRegistryQuery = v.strictObject(
  { image: v.optional(ImageParameter), platform: v.optional(PlatformParameter) },
  unknownParameter,
)
/** A validated verify query. */
export type VerifyDockerRegistryQuery = v.InferOutput<typeof VerifyDockerRegistryQuery>

/** Query of `PATCH /v3/docker-registries/{id}`: none (pins are set at creation only). */
export const UpdateDockerRegistryQuery = v.strictObject({}, unknownParameter)

/** A validated update query. */
export type UpdateDockerRegistryQuery = v.InferOutput<typeof UpdateDockerRegistryQuery>

/**
 * Query of `POST /v3/docker-registries`: `registry_host` pins the secret to its registry host,
 * and `?verify=true` checks the credential there before storing it.
 */
export const CreateDockerRegistryQuery = v.strictObject(
  {
    verify: v.optional(v.picklist(['true', 'false'], 'must be true or false'), 'false'),
    registry_host: v.optional(RegistryHostParameter),
    image: v.optional(ImageParameter),
    platform: v.optional(PlatformParameter),
  },
  unknownParameter,
)
/** A validated create query. */
export type CreateDockerRegistryQuery = v.InferOutput<typeof CreateDockerRegistryQuery>

/** The registry refused the credential, so it was not stored. */
export class VerificationFailedError extends Error {
  override readonly name = 'VerificationFailedError'
  constructor(readonly result: VerificationResult) {
    super(`registry verification failed: ${result.status}`)
  }
}

/** A verification as `POST /v3/docker-registries/{id}/verify` reports it. */
export const VerificationReport = v.strictObject({
  id: v.pipe(v.string(), v.regex(UUID_PATTERN), v.description('The credential checked')),
  registry: v.pipe(v.picklist(REGISTRY_PROVIDERS), v.description("The credential's provider")),
  registry_host: v.pipe(
    v.string(),
    v.description('The registry host the credential was checked against'),
    v.examples(['ghcr.io']),
  ),
  result: v.pipe(
    v.picklist(VERIFICATION_STATUSES),
    v.description(
      "`ok`: the registry accepted the credential (and, with `image`, lets it pull the image). `anonymous`: the registry (or, with `image`, the image) needs no credentials, so they were not checked. `auth_denied`: it refused them. `pull_denied`: it accepted them but refuses to let them pull the image. `repository_not_found`: the image's repository or tag does not exist. `platform_mismatch`: the image lacks the requested `platform`. `not_found`: no registry API there. `registry_error`: the registry failed or answered nonsense. `timeout`, `dns`, `tls`: it could not be reached. `blocked_address`: the host resolves to an address the service never calls (private, loopback, link-local). `malformed`: the host or username cannot be used.",
    ),
  ),
  message: v.pipe(v.string(), v.description('What happened, safe to show; never the secret')),
  verified_at: v.pipe(v.string(), v.isoTimestamp(), v.description('When the check ran, ISO 8601 UTC')),
  image: v.optional(
    v.pipe(
      v.string(),
      v.description('The image whose pull was checked (`image` parameter), normalised'),
      v.examples(['ghcr.io/acme/api:1.4.2']),
    ),
  ),
  platform: v.optional(
    v.pipe(v.string(), v.description('The platform the image had to have (`platform` parameter)')),
  ),
  platforms: v.optional(
    v.pipe(
      v.array(v.string()),
      v.description("The image's platforms, when its index (or, with `platform`, its config) was read"),
      v.examples([['linux/amd64', 'linux/arm64']]),
    ),
  ),
})
/** A verification report. */
export type VerificationReport = v.InferOutput<typeof VerificationReport>

/** What a verification checks besides the login: an image's pull, and a platform it must have. */
export interface VerificationOptions {
  /** An image reference (`image` query parameter). */
  image?: string | undefined
  /** `os/architecture[/variant]` (`platform` query parameter); only with `image`. */
  platform?: string | undefined
}

/** The image a verification checks, parsed and held to the credential's host. */
export interface VerificationTarget {
  image?: ImageToVerify
  /** The image as checked: `host/repository:tag` or `host/repository@digest`. */
  imageName?: string
}

/**
 * Parses the image and platform to verify. The image must be on `host`, the one host the
 * credential's secret may be presented to (threat: `?image=evil.example/x` turning a check into
 * a way of sending the stored secret to a server of the caller's). Throws `InvalidInputError`.
 */
export function verificationTarget(host: string, options: VerificationOptions): VerificationTarget {
  if (options.image === undefined) {
    if (options.platform !== undefined) {
      throw new InvalidInputError([{ path: 'platform', message: 'is only used with image' }])
    }
    return {}
  }
  let reference: ImageReference
  try {
    reference = parseImageReference(options.image)
  } catch (error) {
    if (!(error instanceof InvalidImageReferenceError)) throw error
    throw new InvalidInputError([
      { path: 'image', message: `is not a valid image reference (${error.message})` },
    ])
  }
  if (reference.registryHost !== normaliseHost(host)) {
    throw new InvalidInputError([
      { path: 'image', message: `must be an image on ${host}, the registry host of this credential` },
    ])
  }
  const platform = options.platform === undefined ? undefined : parsePlatform(options.platform)
  const ref = reference.digest ?? reference.tag ?? 'latest'
  const image: ImageToVerify = {
    repository: reference.repository,
    reference: ref,
    ...(platform ? { platform } : {}),
  }
  const separator = reference.digest ? '@' : ':'
  return { image, imageName: `${reference.registryHost}/${reference.repository}${separator}${ref}` }
}

/**
 * The registry host to check a credential against: its pinned host, or its provider's own.
 * `ecr` and `custom` credentials have neither unless pinned with `registry_host`.
 */
export function verificationHost(provider: RegistryProvider, pinned: string | undefined): string {
  const host = credentialHost(provider, pinned)
  if (!host) {
    throw new InvalidInputError([
      {
        path: 'registry_host',
        message: `is required for ${provider} credentials: pin one with ?registry_host= when creating the credential`,
      },
    ])
  }
  return host
}

const EXCHANGED_OK: Record<ReturnType<typeof exchangeKind>, string> = {
  ecrKeyPair: 'Amazon ECR accepted the access key.',
  ecrRole: 'This service assumed the role with your ExternalId, and Amazon ECR gave it a registry token.',
  googleKey: 'Google accepted the service-account key, and the registry accepted its access token.',
}

/**
 * Checks credentials against a registry, as a pull would use them: ECR key pairs and roles by
 * exchanging them for a registry token in the host's region, Google service-account keys by
 * exchanging them for an access token and checking the registry with it, anything else directly.
 */
export async function checkRegistryCredentials(
  ports: VerificationPorts,
  companyId: string,
  provider: RegistryProvider,
  host: string,
  username: string,
  password: string,
  image?: ImageToVerify,
): Promise<VerificationResult> {
  const target = image ? { image } : {}
  const credential = { registry: provider, username }
  if (provider === 'ecr' && !ecrRegion(host)) {
    return { status: 'malformed', message: 'The host is not an Amazon ECR registry.' }
  }
  if (exchangeScope(credential, host) === undefined) {
    return ports.verifier.verify({ registryHost: host, username, password, ...target })
  }
  const kind = exchangeKind(credential)
  try {
    const request = exchangeRequest(credential, password, host, companyId)
    if (!request) throw new Error('a credential with an exchange scope has an exchange request')
    const login = await ports.exchanger.exchange(request)
    // with an image, the pull itself is checked with the exchanged login, as a deploy will pull
    if (image) {
      return await ports.verifier.verify({
        registryHost: host,
        username: login.username,
        password: login.password,
        image,
      })
    }
    if (kind !== 'googleKey') return { status: 'ok', message: EXCHANGED_OK[kind] }
    const result = await ports.verifier.verify({
      registryHost: host,
      username: login.username,
      password: login.password,
    })
    return result.status === 'ok' ? { status: 'ok', message: EXCHANGED_OK[kind] } : result
  } catch (error) {
    if (error instanceof RegistryCredentialsRejectedError) {
      return { status: 'auth_denied', message: error.detail ?? rejectedMessage(kind) }
    }
    if (error instanceof DependencyUnavailableError) {
      const who = kind === 'googleKey' ? 'Google' : 'AWS'
      return { status: 'registry_error', message: `${who} did not answer; try again shortly.` }
    }
    throw error
  }
}

/** Ports of {@link verifyDockerRegistry}. */
export interface VerifyDockerRegistryPorts extends VerificationPorts {
  store: CredentialStore
  opener: SecretOpener
  clock: Clock
}

/**
 * Checks a stored credential against its registry: the host is settled before anything is
 * decrypted, and the secret never leaves this call.
 */
export async function verifyDockerRegistry(
  ports: VerifyDockerRegistryPorts,
  companyId: string,
  id: string,
  options: VerificationOptions = {},
): Promise<VerificationReport> {
  const credential = await ports.store.findSealed(companyId, id)
  if (!credential) throw new CredentialNotFoundError()
  const host = verificationHost(credential.registry, credential.registryHost)
  const target = verificationTarget(host, options)
  const password = await ports.opener.open(credential.secret, { companyId, credentialId: id })
  const result = await checkRegistryCredentials(
    ports,
    companyId,
    credential.registry,
    host,
    credential.username,
    password,
    target.image,
  )
  return verificationReport(
    { id, registry: credential.registry, host },
    target,
    options,
    result,
    ports.clock(),
  )
}

/** The report of one verification. */
export function verificationReport(
  credential: { id: string; registry: RegistryProvider; host: string },
  target: VerificationTarget,
  options: VerificationOptions,
  result: VerificationResult,
  at: Date,
): VerificationReport {
  return {
    id: credential.id,
    registry: credential.registry,
    registry_host: credential.host,
    result: result.status,
    message: result.message,
    verified_at: at.toISOString(),
    ...(target.imageName ? { image: target.imageName } : {}),
    ...(options.platform !== undefined && target.image ? { platform: options.platform } : {}),
    ...(result.platforms ? { platforms: result.platforms } : {}),
  }
}

/** Results that let `?verify=true` store the credential: the registry will let it pull. */
const STORABLE: ReadonlySet<VerificationStatus> = new Set(['ok', 'anonymous'])

/**
 * `POST /v3/docker-registries?verify=true`: checks the credential against its registry first and
 * stores it only if the registry accepts it.
 */
export async function createVerifiedDockerRegistry(
  ports: CreateDockerRegistryPorts & VerificationPorts,
  companyId: string,
  input: CreateDockerRegistryInput,
  requestedHost: string | undefined,
  options: Omit<SecretOptions, 'registryHost'> & VerificationOptions = {},
): Promise<DockerRegistry> {
  // only the internal verifier may assume customers' roles (their trust names it, not the
  // public create function): a role credential is checked once stored, by POST …/{id}/verify
  if (input.registry === 'ecr' && input.username === ECR_ROLE_USERNAME) {
    const message =
      'cannot be true for an ECR role credential: create it, then check it with POST /v3/docker-registries/{id}/verify'
    throw new InvalidInputError([{ path: 'verify', message }], `Bad request: verify ${message}.`)
  }
  const pinned = requestedHost === undefined ? undefined : pinnableHost(input.registry, requestedHost)
  const host = verificationHost(input.registry, pinned)
  const { image } = verificationTarget(host, options)
  const result = await checkRegistryCredentials(
    ports,
    companyId,
    input.registry,
    host,
    input.username,
    input.secret,
    image,
  )
  // `anonymous`: the registry serves pulls without credentials, so storing them breaks nothing
  if (!STORABLE.has(result.status)) throw new VerificationFailedError(result)
  const { image: _image, platform: _platform, ...secretOptions } = options
  return createDockerRegistry(ports, companyId, input, {
    ...secretOptions,
    ...(pinned ? { registryHost: pinned } : {}),
  })
}
