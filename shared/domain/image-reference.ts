import type { RegistryProvider } from './docker-registry.ts'

/**
 * Image references as docker and the CNCF distribution `reference` package read them
 * (`[host[:port]/]path[:tag][@digest]`), and which registry hosts belong to which provider.
 *
 * The grammar is distribution's, with its Docker Hub normalisation: a first path component is a
 * registry host only when it contains `.` or `:`, is `localhost`, or has an upper-case letter;
 * otherwise the image is on Docker Hub, and a single-component name gets `library/`.
 */

/** A parsed, normalised image reference. */
export interface ImageReference {
  /** `docker.io` for Docker Hub, otherwise `host[:port]` in lower case (IPv6 in brackets). */
  registryHost: string
  /** The repository path inside the registry, e.g. `library/nginx` or `org/app`. */
  repository: string
  tag?: string
  /** `algorithm:hex`, e.g. `sha256:` and 64 hex digits. */
  digest?: string
}

/** The string is not a valid image reference. The message never quotes the reference. */
export class InvalidImageReferenceError extends Error {
  override readonly name = 'InvalidImageReferenceError'
}

/** Docker Hub's canonical name; `index.docker.io` and `registry-1.docker.io` are aliases of it. */
/** The name images on Docker Hub go by (`nginx` is `docker.io/library/nginx`). */
export const DOCKER_HUB_HOST = 'docker.io'
const DOCKER_HUB_ALIASES = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io'])
/** The host that actually serves Docker Hub's registry API. */
const DOCKER_HUB_API_HOST = 'registry-1.docker.io'
const OFFICIAL_REPOSITORY_PREFIX = 'library/'

/** distribution's `NameTotalLengthMax`, applied to the normalised `host/repository`. */
const NAME_TOTAL_LENGTH_MAX = 255
/** a generous bound on the whole input, checked before any regular expression runs. */
const REFERENCE_LENGTH_MAX = 1024

const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])'
const DOMAIN_NAME = `${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*`
const IPV6_ADDRESS = '\\[[a-fA-F0-9:]+\\]'
const HOST_PATTERN = new RegExp(`^(${DOMAIN_NAME}|${IPV6_ADDRESS})(?::([0-9]+))?$`)
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/
const TAG_PATTERN = /^[\w][\w.-]{0,127}$/
const DIGEST_PATTERN = /^([A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*):([0-9a-fA-F]{32,})$/
/** the algorithms go-digest accepts, with the length of their lower-case hex encoding. */
const DIGEST_HEX_LENGTHS: Record<string, number> = { sha256: 64, sha384: 96, sha512: 128 }
const IMAGE_ID_PATTERN = /^[a-f0-9]{64}$/

/** A registry host split into name and port. */
export interface RegistryHostParts {
  /** Lower-case DNS name, IPv4 address, or IPv6 address without brackets. */
  hostname: string
  port?: number
}

/**
 * Splits and validates `host[:port]` by the reference grammar (IPv6 in brackets); undefined when
 * it is not a valid registry host. The port, when present, must be 1..65535.
 */
export function parseRegistryHost(host: string): RegistryHostParts | undefined {
  if (host.length === 0 || host.length > NAME_TOTAL_LENGTH_MAX) return undefined
  const match = HOST_PATTERN.exec(host)
  if (!match) return undefined
  const [, name = '', port] = match
  const hostname = (name.startsWith('[') ? name.slice(1, -1) : name).toLowerCase()
  if (port === undefined) return { hostname }
  const portNumber = Number(port)
  if (!Number.isInteger(portNumber) || portNumber < 1 || portNumber > 65_535) return undefined
  return { hostname, port: portNumber }
}

/** Lower-cases a host and folds Docker Hub's aliases into `docker.io`. */
export function normaliseHost(host: string): string {
  const lower = host.toLowerCase()
  return DOCKER_HUB_ALIASES.has(lower) ? DOCKER_HUB_HOST : lower
}

function invalid(reason: string): never {
  throw new InvalidImageReferenceError(`invalid image reference: ${reason}`)
}

/**
 * Parses an image reference the way `docker pull` does, normalising Docker Hub names
 * (`nginx` is `docker.io/library/nginx`). Throws {@link InvalidImageReferenceError}.
 */
export function parseImageReference(reference: string): ImageReference {
  if (typeof reference !== 'string' || reference.length === 0) invalid('it is empty')
  if (reference.length > REFERENCE_LENGTH_MAX) invalid('it is too long')
  if (IMAGE_ID_PATTERN.test(reference))
    invalid('a 64-character hexadecimal image id is not a repository name')

  let rest = reference
  let digest: string | undefined
  const at = rest.indexOf('@')
  if (at !== -1) {
    digest = rest.slice(at + 1)
    rest = rest.slice(0, at)
    const match = DIGEST_PATTERN.exec(digest)
    if (!match) invalid('the digest is malformed')
    const [, algorithm = '', hex = ''] = match
    const expectedLength = DIGEST_HEX_LENGTHS[algorithm]
    if (expectedLength === undefined) invalid('the digest algorithm is not supported')
    if (hex.length !== expectedLength || hex !== hex.toLowerCase()) invalid('the digest is malformed')
  }

  // a tag follows the last ':' after the last '/', so a registry port is never read as a tag
  let tag: string | undefined
  const colon = rest.lastIndexOf(':')
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1)
    rest = rest.slice(0, colon)
    if (!TAG_PATTERN.test(tag)) invalid('the tag is malformed')
  }

  const slash = rest.indexOf('/')
  const first = slash === -1 ? rest : rest.slice(0, slash)
  const hasDomain =
    slash !== -1 && (/[.:]/.test(first) || first === 'localhost' || first.toLowerCase() !== first)
  let registryHost = DOCKER_HUB_HOST
  let repository = rest
  if (hasDomain) {
    const host = parseRegistryHost(first)
    if (!host) invalid('the registry host is malformed')
    registryHost = normaliseHost(first)
    repository = rest.slice(slash + 1)
  }

  if (repository.length === 0) invalid('the repository name is empty')
  for (const component of repository.split('/')) {
    if (!PATH_COMPONENT.test(component)) {
      invalid(
        component.toLowerCase() !== component
          ? 'the repository name must be lower case'
          : 'the repository name is malformed',
      )
    }
  }
  if (registryHost === DOCKER_HUB_HOST && !repository.includes('/')) {
    repository = `${OFFICIAL_REPOSITORY_PREFIX}${repository}`
  }
  if (registryHost.length + 1 + repository.length > NAME_TOTAL_LENGTH_MAX) {
    invalid(`the name is longer than ${NAME_TOTAL_LENGTH_MAX} characters`)
  }

  const parsed: ImageReference = { registryHost, repository }
  if (tag !== undefined) parsed.tag = tag
  if (digest !== undefined) parsed.digest = digest
  return parsed
}

const ECR_HOST_PATTERN =
  /^[0-9]{12}\.dkr\.ecr(?:-fips)?\.([a-z]{2}(?:-[a-z]+)+-[0-9]+)\.amazonaws\.com(?:\.cn)?$/
const GCR_HOST_PATTERN = /^(?:[a-z0-9-]+\.)?gcr\.io$/
const ARTIFACT_REGISTRY_HOST_PATTERN = /^[a-z0-9]+(?:-[a-z0-9]+)*-docker\.pkg\.dev$/

const PROVIDER_HOSTS: Record<Exclude<RegistryProvider, 'ecr' | 'custom' | 'gcr'>, string> = {
  dockerHub: DOCKER_HUB_HOST,
  github: 'ghcr.io',
  gitlab: 'registry.gitlab.com',
  digitalOcean: 'registry.digitalocean.com',
}

/**
 * Whether a credential of this provider may be used for (and sent to) this registry host.
 * Providers other than `custom` accept only their own hosts, without a port: a GitHub token must
 * never be offered to Docker Hub or to a look-alike host (threat: a credential sent to a registry
 * the customer did not choose for it). `custom` accepts any well-formed host.
 */
export function isHostAllowedForProvider(provider: RegistryProvider, host: string): boolean {
  const parts = parseRegistryHost(host)
  if (!parts) return false
  if (provider === 'custom') return true
  if (parts.port !== undefined) return false
  const name = normaliseHost(parts.hostname)
  switch (provider) {
    case 'gcr':
      return GCR_HOST_PATTERN.test(name) || ARTIFACT_REGISTRY_HOST_PATTERN.test(name)
    case 'ecr':
      return ECR_HOST_PATTERN.test(name)
    default:
      return PROVIDER_HOSTS[provider] === name
  }
}

/**
 * The usual registry host of a provider (`gcr.io` for `gcr`); undefined for `ecr` (the host
 * names the AWS account and region) and `custom`.
 */
export function defaultRegistryHost(provider: RegistryProvider): string | undefined {
  switch (provider) {
    case 'ecr':
    case 'custom':
      return undefined
    case 'gcr':
      return 'gcr.io'
    default:
      return PROVIDER_HOSTS[provider]
  }
}

/**
 * The host that serves the Registry HTTP API v2 for a normalised registry host: Docker Hub's
 * images are named `docker.io` but served by `registry-1.docker.io`; every other host serves
 * itself.
 */
export function registryApiHost(registryHost: string): string {
  const host = normaliseHost(registryHost)
  return host === DOCKER_HUB_HOST ? DOCKER_HUB_API_HOST : host
}

/** The AWS region of an ECR registry host (`us-east-1`), or undefined for any other host. */
export function ecrRegion(host: string): string | undefined {
  return ECR_HOST_PATTERN.exec(host.toLowerCase())?.[1]
}
