import type { ImagePlatform } from '../domain/image-platform.ts'
import type { RegistryResponse, RegistrySession } from './registry-connection.ts'
import { RegistryCheckFailure } from './registry-connection.ts'
import { type AuthChallenge, parseChallenges } from './www-authenticate.ts'

/**
 * The Registry HTTP API v2 (the CNCF distribution spec) as the checks of this service speak it:
 * the API root, logging in (Basic, or a Bearer token from the challenge's realm, for a
 * `repository:<name>:pull` scope when an image is named), manifests (HEAD, falling back to GET,
 * with the OCI and Docker media types) and config blobs. Every request goes through a
 * {@link RegistrySession}, so the SSRF rules, the deadline and the size cap always apply.
 */

/** The manifest media types a check accepts, OCI first. */
export const MANIFEST_MEDIA_TYPES = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
} as const

const MANIFEST_ACCEPT = Object.values(MANIFEST_MEDIA_TYPES).join(', ')
const INDEX_MEDIA_TYPES = new Set<string>([
  MANIFEST_MEDIA_TYPES.ociIndex,
  MANIFEST_MEDIA_TYPES.dockerManifestList,
])

/** A username and password to log in with. */
export interface RegistryLogin {
  username: string
  password: string
}

/** Where a registry's API v2 lives, and the session that reaches it. */
export interface RegistryEndpoint {
  session: RegistrySession
  /** `<scheme>://<api host>/v2/` */
  root: URL
  /** `host[:port]` of the API, for messages. */
  host: string
}

/** A repository and a tag or digest in it. */
export interface ManifestReference {
  repository: string
  /** A tag or a `sha256:…` digest. */
  reference: string
}

/** What a manifest request found. */
export interface ManifestAnswer {
  status: number
  /** The manifest's media type (`content-type`), lower-cased, without parameters. */
  mediaType: string
  /** The body when it was read (a GET), else undefined. */
  body: Buffer | undefined
  /** distribution's error codes from the body (`NAME_UNKNOWN`, `MANIFEST_UNKNOWN`, …). */
  errorCodes: string[]
  challenges: AuthChallenge[]
}

/** `Basic` authorization for a login. */
export function basicAuthorization(login: RegistryLogin): string {
  return `Basic ${Buffer.from(`${login.username}:${login.password}`, 'utf8').toString('base64')}`
}

/** The challenges of a response. */
export function responseChallenges(response: Pick<RegistryResponse, 'authenticate'>): AuthChallenge[] {
  return parseChallenges(response.authenticate)
}

/** `GET /v2/`, anonymously or with an Authorization header. */
export function getApiRoot(endpoint: RegistryEndpoint, authorization?: string): Promise<RegistryResponse> {
  return endpoint.session.request(endpoint.root, {
    what: 'registry',
    ...(authorization ? { authorization } : {}),
  })
}

/** `token` or `access_token` of a token response, or undefined. */
function readToken(body: Buffer): string | undefined {
  try {
    const parsed: unknown = JSON.parse(body.toString('utf8'))
    if (typeof parsed !== 'object' || parsed === null) return undefined
    const { token, access_token: accessToken } = parsed as Record<string, unknown>
    const value = typeof token === 'string' && token !== '' ? token : accessToken
    // the token goes into a header: anything but visible ASCII would be header injection
    return typeof value === 'string' && /^[\x21-\x7e]+$/.test(value) ? value : undefined
  } catch {
    return undefined
  }
}

/**
 * Exchanges a login for a Bearer token at the challenge's realm. `scope` replaces the
 * challenge's own (a check of an image asks for `repository:<name>:pull`). Throws
 * {@link RegistryCheckFailure}: `auth_denied` when the token service refuses the login.
 */
export async function fetchBearerToken(
  endpoint: RegistryEndpoint,
  challenge: AuthChallenge,
  login: RegistryLogin,
  scope?: string,
): Promise<string> {
  const { host } = endpoint
  const { realm, service } = challenge.params
  let tokenUrl: URL
  try {
    tokenUrl = new URL(realm ?? '')
  } catch {
    throw new RegistryCheckFailure('registry_error', `${host} sent a Bearer challenge without a valid realm`)
  }
  if (service) tokenUrl.searchParams.set('service', service)
  const wanted = scope ?? challenge.params.scope
  if (wanted) tokenUrl.searchParams.set('scope', wanted)
  tokenUrl.searchParams.set('account', login.username)

  const response = await endpoint.session.request(tokenUrl, {
    what: 'token service',
    authorization: basicAuthorization(login),
  })
  if (response.status === 401 || response.status === 403) {
    throw new RegistryCheckFailure(
      'auth_denied',
      `The token service of ${host} rejected the username or password`,
    )
  }
  if (response.status !== 200) {
    throw new RegistryCheckFailure(
      'registry_error',
      `The token service of ${host} answered with an unexpected status ${response.status}`,
    )
  }
  const token = readToken(response.body)
  if (!token)
    throw new RegistryCheckFailure('registry_error', `The token service of ${host} returned no token`)
  return token
}

/**
 * The Authorization header a 401's challenges ask for: a Bearer token from the realm (for
 * `scope`, when given), or Basic. Throws {@link RegistryCheckFailure}.
 */
export async function authorizationFor(
  endpoint: RegistryEndpoint,
  challenges: readonly AuthChallenge[],
  login: RegistryLogin,
  scope?: string,
): Promise<{ scheme: 'bearer' | 'basic'; authorization: string }> {
  const bearer = challenges.find((challenge) => challenge.scheme === 'bearer')
  if (bearer) {
    return {
      scheme: 'bearer',
      authorization: `Bearer ${await fetchBearerToken(endpoint, bearer, login, scope)}`,
    }
  }
  if (challenges.some((challenge) => challenge.scheme === 'basic')) {
    return { scheme: 'basic', authorization: basicAuthorization(login) }
  }
  throw new RegistryCheckFailure(
    'registry_error',
    `${endpoint.host} asked for an unsupported kind of authentication`,
  )
}

/** The scope a pull of a repository needs. */
export function pullScope(repository: string): string {
  return `repository:${repository}:pull`
}

function errorCodes(body: Buffer): string[] {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as { errors?: unknown }
    if (!Array.isArray(parsed.errors)) return []
    return parsed.errors
      .map((error: unknown) => (error as { code?: unknown } | null)?.code)
      .filter((code): code is string => typeof code === 'string')
  } catch {
    return []
  }
}

function manifestUrl(endpoint: RegistryEndpoint, { repository, reference }: ManifestReference): URL {
  return new URL(`${repository}/manifests/${reference}`, endpoint.root)
}

function mediaTypeOf(response: RegistryResponse): string {
  const header = response.headers['content-type'] ?? ''
  return header.split(';')[0]?.trim().toLowerCase() ?? ''
}

/**
 * A manifest: `HEAD` first (the cheapest request, which registries do not count as a pull), then
 * `GET` when the body is needed (`needsBody` of the media type HEAD reported), the HEAD failed
 * without saying why (a 404 whose error code only a body carries, a registry that refuses HEAD),
 * or it answered oddly.
 */
export async function fetchManifest(
  endpoint: RegistryEndpoint,
  image: ManifestReference,
  options: { authorization?: string; needsBody: (mediaType: string) => boolean },
): Promise<ManifestAnswer> {
  const url = manifestUrl(endpoint, image)
  const request = {
    what: 'registry',
    accept: MANIFEST_ACCEPT,
    ...(options.authorization ? { authorization: options.authorization } : {}),
  }
  const head = await endpoint.session.request(url, { ...request, method: 'HEAD' })
  const headIsFinal =
    head.status === 401 ||
    head.status === 403 ||
    (head.status >= 200 && head.status < 300 && !options.needsBody(mediaTypeOf(head)))
  if (headIsFinal) {
    return {
      status: head.status,
      mediaType: mediaTypeOf(head),
      body: undefined,
      errorCodes: [],
      challenges: responseChallenges(head),
    }
  }
  const get = await endpoint.session.request(url, request)
  return {
    status: get.status,
    mediaType: mediaTypeOf(get),
    body: get.body,
    errorCodes: get.status >= 400 ? errorCodes(get.body) : [],
    challenges: responseChallenges(get),
  }
}

/** Whether a media type is an index (OCI) or a manifest list (Docker). */
export function isIndexMediaType(mediaType: string): boolean {
  return INDEX_MEDIA_TYPES.has(mediaType)
}

function readPlatform(value: unknown): ImagePlatform | undefined {
  if (typeof value !== 'object' || value === null) return undefined
  const { os, architecture, variant } = value as Record<string, unknown>
  if (typeof os !== 'string' || typeof architecture !== 'string') return undefined
  return typeof variant === 'string' && variant !== '' ? { os, architecture, variant } : { os, architecture }
}

function parseJson(body: Buffer | undefined): Record<string, unknown> | undefined {
  if (!body) return undefined
  try {
    const parsed: unknown = JSON.parse(body.toString('utf8'))
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : undefined
  } catch {
    return undefined
  }
}

/**
 * The platforms of an index or manifest list, without the `unknown/unknown` entries that hold
 * attestations. Throws {@link RegistryCheckFailure} when the body is not an index.
 */
export function indexPlatforms(endpoint: RegistryEndpoint, body: Buffer | undefined): ImagePlatform[] {
  const manifests = parseJson(body)?.manifests
  if (!Array.isArray(manifests)) {
    throw new RegistryCheckFailure(
      'registry_error',
      `${endpoint.host} sent an image index that cannot be read`,
    )
  }
  return manifests
    .map((entry: unknown) => readPlatform((entry as { platform?: unknown } | null)?.platform))
    .filter((platform): platform is ImagePlatform => platform !== undefined && platform.os !== 'unknown')
}

/**
 * The platform of a single-platform image: its manifest's config blob says it. Throws
 * {@link RegistryCheckFailure} when the manifest or the config cannot be read.
 */
export async function manifestPlatform(
  endpoint: RegistryEndpoint,
  repository: string,
  manifestBody: Buffer | undefined,
  authorization: string | undefined,
): Promise<ImagePlatform> {
  const unreadable = () =>
    new RegistryCheckFailure('registry_error', `${endpoint.host} sent an image manifest that cannot be read`)
  const config = parseJson(manifestBody)?.config as { digest?: unknown } | undefined
  const digest = config?.digest
  if (typeof digest !== 'string' || !/^[a-z0-9]+:[a-f0-9]{32,128}$/.test(digest)) throw unreadable()
  // blobs are often served from storage elsewhere: the redirect is vetted and loses the
  // Authorization header like any other
  const response = await endpoint.session.request(new URL(`${repository}/blobs/${digest}`, endpoint.root), {
    what: 'registry',
    ...(authorization ? { authorization } : {}),
  })
  if (response.status !== 200) throw unreadable()
  const platform = readPlatform(parseJson(response.body))
  if (!platform) throw unreadable()
  return platform
}
