import * as v from 'valibot'
import { REGISTRY_PROVIDERS, UUID_PATTERN } from './docker-registry.ts'
import { type ImagePlatform, parsePlatform } from './image-platform.ts'
import { RegistryHostParameter } from './registry-host.ts'
import { IMAGE_REFERENCE_MAX_LENGTH } from './resolve-credential.ts'
import type { CredentialExchanger } from './short-lived-credentials.ts'

// the words of verification, which every function may need (statuses, results, parameters, the
// report's schema); the checks themselves are in registry-check.ts, which only the functions that
// check load (create only for ?verify=true).

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
