import { formatPlatform, type ImagePlatform, platformMatches } from '../domain/image-platform.ts'
import { parseRegistryHost, registryApiHost } from '../domain/image-reference.ts'
import type { ImageToVerify, VerificationResult } from '../domain/verify-credential.ts'
import {
  createRegistryConnection,
  type RegistryConnection,
  type RegistryConnectionOptions,
  type RegistryResponse,
} from './registry-connection.ts'
import {
  authorizationFor,
  fetchManifest,
  getApiRoot,
  indexPlatforms,
  isIndexMediaType,
  type ManifestAnswer,
  manifestPlatform,
  pullScope,
  type RegistryEndpoint,
  type RegistryLogin,
  responseChallenges,
} from './registry-v2-client.ts'

/**
 * Judges registry credentials: what the Registry API v2 answers (through the SSRF-safe
 * {@link RegistryConnection}) turned into a {@link VerificationResult}. Without an image it is
 * the `docker login` handshake; with one, a pull's first steps (a token for
 * `repository:<name>:pull`, then the manifest, and its platforms when one is asked for).
 */

export type { ResolvedAddress } from './registry-connection.ts'

/** How a verifier reaches registries: the connection rules. */
export type RegistryVerifierOptions = RegistryConnectionOptions

/** What to verify. */
export interface VerifyRegistryCredentialInput {
  /** `host[:port]`, as in an image reference (`docker.io` is served by `registry-1.docker.io`). */
  registryHost: string
  username: string
  password: string
  /** An image to check pull access to, on `registryHost`. */
  image?: ImageToVerify
  /** @default 'https' */
  scheme?: 'https' | 'http'
}

/**
 * Checks registry credentials over the Registry HTTP API v2; the domain's `RegistryVerifier`,
 * plus the choice of scheme. Never throws: every failure is a {@link VerificationResult}.
 */
export interface HttpRegistryVerifier {
  verify(input: VerifyRegistryCredentialInput): Promise<VerificationResult>
}

function unexpectedStatus(status: number, host: string): VerificationResult {
  if (status === 404) {
    return { status: 'not_found', message: `${host} does not serve the registry API v2 (404 on /v2/)` }
  }
  return { status: 'registry_error', message: `${host} answered with an unexpected status ${status}` }
}

/** what an authenticated `GET /v2/` says about the credentials. */
function judgeLogin(response: RegistryResponse, host: string): VerificationResult {
  if (response.status >= 200 && response.status < 300) {
    return { status: 'ok', message: `${host} accepted the credentials` }
  }
  if (response.status === 401 || response.status === 403) {
    return { status: 'auth_denied', message: `${host} rejected the username or password` }
  }
  return unexpectedStatus(response.status, host)
}

function imageName(image: ImageToVerify): string {
  const separator = image.reference.includes(':') ? '@' : ':'
  return `${image.repository}${separator}${image.reference}`
}

/** what a manifest answer says about pulling the image; `accepted` is the success's wording. */
async function judgeManifest(
  endpoint: RegistryEndpoint,
  image: ImageToVerify,
  answer: ManifestAnswer,
  authorization: string | undefined,
  success: { status: 'ok' | 'anonymous'; message: string },
): Promise<VerificationResult> {
  const { host } = endpoint
  const name = imageName(image)
  if (answer.status === 401 || answer.status === 403) {
    return {
      status: 'pull_denied',
      message: `${host} does not allow these credentials to pull ${image.repository} (or it does not exist)`,
    }
  }
  if (answer.status === 404) {
    if (answer.errorCodes.includes('NAME_UNKNOWN')) {
      return { status: 'repository_not_found', message: `${host} has no repository ${image.repository}` }
    }
    // MANIFEST_UNKNOWN, or nothing said: some registries (distribution among them) answer so for
    // a missing repository as well as for a missing tag
    return { status: 'repository_not_found', message: `${host} has no image ${name}` }
  }
  if (answer.status < 200 || answer.status >= 300) return unexpectedStatus(answer.status, host)

  let platforms: ImagePlatform[] | undefined
  if (isIndexMediaType(answer.mediaType)) platforms = indexPlatforms(endpoint, answer.body)
  else if (image.platform) {
    platforms = [await manifestPlatform(endpoint, image.repository, answer.body, authorization)]
  }
  const listed = platforms?.map(formatPlatform)
  const requested = image.platform
  if (requested && platforms && !platforms.some((offered) => platformMatches(requested, offered))) {
    return {
      status: 'platform_mismatch',
      message: `${name} on ${host} has no ${formatPlatform(requested)} image (it has ${listed?.join(', ') || 'none'})`,
      platforms: listed ?? [],
    }
  }
  return {
    ...success,
    message: `${success.message}; ${name} can be pulled`,
    ...(listed ? { platforms: listed } : {}),
  }
}

async function checkImage(
  endpoint: RegistryEndpoint,
  image: ImageToVerify,
  login: RegistryLogin,
  root: RegistryResponse,
): Promise<VerificationResult> {
  const { host } = endpoint
  // an index is read for its platforms; a single manifest only when a platform is asked for
  const withBody = (mediaType: string) => isIndexMediaType(mediaType) || image.platform !== undefined
  const scope = pullScope(image.repository)
  let authorization: string | undefined
  if (root.status === 401) {
    const granted = await authorizationFor(endpoint, responseChallenges(root), login, scope)
    authorization = granted.authorization
    if (granted.scheme === 'basic') {
      // a Basic registry judges the login at /v2/, so a refused login is not mistaken for a refused pull
      const checked = judgeLogin(await getApiRoot(endpoint, authorization), host)
      if (checked.status !== 'ok') return checked
    }
    const answer = await fetchManifest(endpoint, image, { authorization, needsBody: withBody })
    return judgeManifest(endpoint, image, answer, authorization, {
      status: 'ok',
      message: `${host} accepted the credentials`,
    })
  }
  // the API root needs no login, but the repository may
  const anonymous = await fetchManifest(endpoint, image, { needsBody: withBody })
  if (anonymous.status !== 401 || anonymous.challenges.length === 0) {
    return judgeManifest(endpoint, image, anonymous, undefined, {
      status: 'anonymous',
      message: `${host} serves the image without credentials, so they were not checked`,
    })
  }
  authorization = (await authorizationFor(endpoint, anonymous.challenges, login, scope)).authorization
  const answer = await fetchManifest(endpoint, image, { authorization, needsBody: withBody })
  return judgeManifest(endpoint, image, answer, authorization, {
    status: 'ok',
    message: `${host} accepted the credentials`,
  })
}

/**
 * A verifier with the given connection rules. The defaults suit a deployed stage: https only,
 * no internal addresses, 5 s, 64 KiB.
 */
export function createRegistryVerifier(options: RegistryVerifierOptions = {}): HttpRegistryVerifier {
  const connection = createRegistryConnection(options)
  return {
    async verify(input) {
      const scheme = input.scheme ?? 'https'
      const result = await connection.check(input.registryHost, async (session) => {
        if (!parseRegistryHost(input.registryHost)) {
          return { status: 'malformed', message: 'The registry host is not a valid host[:port]' }
        }
        if (scheme !== 'https' && !(scheme === 'http' && session.allowInsecureHttp)) {
          return { status: 'malformed', message: 'Only https registries can be verified' }
        }
        if (input.username.includes(':')) {
          // Basic auth joins user and password with ':', so such a name cannot be sent unambiguously
          return { status: 'malformed', message: 'The username cannot contain ":"' }
        }
        const root = new URL(`${scheme}://${registryApiHost(input.registryHost)}/v2/`)
        const endpoint: RegistryEndpoint = { session, root, host: root.host }
        const login = { username: input.username, password: input.password }

        const anonymous = await getApiRoot(endpoint)
        const open = anonymous.status >= 200 && anonymous.status < 300
        if (!open && anonymous.status !== 401) return unexpectedStatus(anonymous.status, endpoint.host)
        if (input.image) return checkImage(endpoint, input.image, login, anonymous)
        if (open) {
          // the registry needs no credentials: pulls work with or without them, and nothing here
          // can tell whether they are right
          return {
            status: 'anonymous',
            message: `${endpoint.host} accepts requests without credentials, so they were not checked`,
          }
        }
        const { authorization } = await authorizationFor(endpoint, responseChallenges(anonymous), login)
        return judgeLogin(await getApiRoot(endpoint, authorization), endpoint.host)
      })
      return redactSecret(result, input.password)
    },
  }
}

/** a last guard: a message echoing a customer-supplied host could in theory contain the password. */
function redactSecret(result: VerificationResult, password: string): VerificationResult {
  if (password === '' || !result.message.includes(password)) return result
  return { ...result, message: result.message.split(password).join('[redacted]') }
}
