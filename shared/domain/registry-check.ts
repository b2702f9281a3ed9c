import type { CreateDockerRegistryInput, DockerRegistry, RegistryProvider } from './docker-registry.ts'
import {
  type CreateDockerRegistryPorts,
  createDockerRegistry,
  type SecretOptions,
} from './docker-registry-use-cases.ts'
import { CredentialNotFoundError, DependencyUnavailableError, InvalidInputError } from './errors.ts'
import { parsePlatform } from './image-platform.ts'
import {
  ecrRegion,
  type ImageReference,
  InvalidImageReferenceError,
  normaliseHost,
  parseImageReference,
} from './image-reference.ts'
import type { Clock, CredentialStore, SecretOpener } from './ports.ts'
import { credentialHost, pinnableHost } from './registry-host.ts'
import {
  ECR_ROLE_USERNAME,
  exchangeKind,
  exchangeRequest,
  exchangeScope,
  RegistryCredentialsRejectedError,
  rejectedMessage,
} from './short-lived-credentials.ts'
import {
  type ImageToVerify,
  VerificationFailedError,
  type VerificationOptions,
  type VerificationPorts,
  type VerificationReport,
  type VerificationResult,
  type VerificationStatus,
  type VerificationTarget,
} from './verify-credential.ts'

// checking credentials against registries: the host and image a check targets, the check itself
// (with the exchanges of ECR and Google credentials), a stored credential's verification, and the
// create that stores only what its registry accepted. Loaded only by what checks: the verifier,
// and create on its first ?verify=true.

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
