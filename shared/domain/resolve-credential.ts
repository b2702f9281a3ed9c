import * as v from 'valibot'
import { type RegistryProvider, UUID_PATTERN } from './docker-registry.ts'
import { DependencyUnavailableError, type InputIssue } from './errors.ts'
import {
  DOCKER_HUB_HOST,
  ecrRegion,
  type ImageReference,
  InvalidImageReferenceError,
  isHostAllowedForProvider,
  parseImageReference,
} from './image-reference.ts'
import type { LoginCache } from './login-cache.ts'
import type { CredentialStore, SecretOpener } from './ports.ts'
import {
  type CredentialExchanger,
  type ExchangeRequest,
  exchangeKind,
  exchangeRequest,
  exchangeScope,
  RegistryCredentialsRejectedError,
  rejectedMessage,
} from './short-lived-credentials.ts'

export { RegistryCredentialsRejectedError } from './short-lived-credentials.ts'

/**
 * Resolving a stored credential for one deployment: the internal operation the platform's deploy
 * system invokes directly (Lambda Invoke, a Step Functions task, an EventBridge rule target). It is
 * the one place a secret is decrypted, and it answers with a typed result rather than throwing, so
 * callers branch on `ok` and `error.code`.
 */

/** The longest image reference accepted: distribution's 255-character name plus tag and digest. */
export const IMAGE_REFERENCE_MAX_LENGTH = 1024

/**
 * The auths key of Docker Hub in a `.dockerconfigjson`. `docker login` writes this legacy index
 * URL, and the kubelet, containerd and CRI-O all map it to `docker.io` images, while a bare
 * `docker.io` key is not matched by older kubelets: so Docker Hub credentials use this key.
 */
export const DOCKER_HUB_AUTHS_KEY = 'https://index.docker.io/v1/'

// messages are written here, never valibot's defaults, which quote the received value.
const unknownProperty = (issue: v.StrictObjectIssue) => {
  if (issue.expected === 'never') return 'is not a known property'
  return issue.path ? 'is required' : 'must be a JSON object'
}
// stored lower-case; the caller may send either case
const uuid = v.pipe(v.string('must be a string'), v.regex(UUID_PATTERN, 'must be a uuid'), v.toLowerCase())

/** The invocation event: whose credential, which one, and the image it will pull. */
export const ResolveCredentialInput = v.strictObject(
  {
    company_id: uuid,
    docker_registry_credential_id: uuid,
    image: v.pipe(
      v.string('must be a string'),
      v.minLength(1, 'must not be empty'),
      v.maxLength(
        IMAGE_REFERENCE_MAX_LENGTH,
        `must be at most ${IMAGE_REFERENCE_MAX_LENGTH} characters long`,
      ),
    ),
  },
  unknownProperty,
)
/** A validated invocation. */
export type ResolveCredentialInput = v.InferOutput<typeof ResolveCredentialInput>

/** Ports of the resolve use case. */
export interface ResolveCredentialPorts {
  store: CredentialStore
  opener: SecretOpener
  /** Exchanges ECR key pairs, ECR roles and Google keys for short-lived logins. */
  exchanger: CredentialExchanger
  /** Logins already exchanged in this container, per credential version and region. */
  logins: LoginCache
}

/** What the deploy system needs to pull the image. */
export interface ResolvedCredential {
  ok: true
  /** The image's registry host, normalised (`docker.io` for Docker Hub). */
  registry_host: string
  username: string
  password: string
  /** A Kubernetes `kubernetes.io/dockerconfigjson` document: `{"auths": {"<host>": {...}}}`. */
  docker_config_json: string
  /** ISO 8601; present when the password is short-lived (ECR: 12 hours, Google: 1 hour). */
  expires_at?: string
}

/** Why a credential could not be resolved. */
export type ResolveErrorCode =
  /** the event does not match the schema; `issues` lists every failing field. */
  | 'invalid_request'
  /** `image` is not a valid image reference. */
  | 'invalid_image'
  /** no such credential for this company (also another company's id: never reveal which). */
  | 'not_found'
  /** the credential's provider does not serve the image's registry host. */
  | 'registry_mismatch'
  /** the registry refused the stored credentials (an ECR key pair or role, a Google key). */
  | 'registry_auth_failed'
  /** the registry throttled or could not be reached; retry later. */
  | 'registry_unavailable'
  /** DynamoDB or KMS throttled or could not be reached; retry later. */
  | 'dependency_unavailable'
  /** our fault; details are in the logs only. */
  | 'internal_error'

/** A failed resolution. Never carries a secret: messages are fixed texts, hosts and providers. */
export interface ResolveFailure {
  ok: false
  error: {
    code: ResolveErrorCode
    message: string
    /** Whether the same invocation may succeed later (throttling, outages). */
    retryable: boolean
    issues?: InputIssue[]
  }
}

/** The answer of a resolve invocation; branch on `ok`. */
export type ResolveCredentialResult = ResolvedCredential | ResolveFailure

// internal errors are not retryable: they are mostly permanent (a tampered envelope, a KMS key
// that refuses us) and need an operator.
const RETRYABLE: ReadonlySet<ResolveErrorCode> = new Set(['registry_unavailable', 'dependency_unavailable'])

/** A failure result with the given code. */
export function resolveFailure(
  code: ResolveErrorCode,
  message: string,
  issues?: InputIssue[],
): ResolveFailure {
  return {
    ok: false,
    error: { code, message, retryable: RETRYABLE.has(code), ...(issues ? { issues } : {}) },
  }
}

// an EventBridge rule target receives the whole event; its `detail` is the invocation.
function invocationPayload(event: unknown): unknown {
  if (event && typeof event === 'object' && 'detail-type' in event && 'detail' in event) {
    return (event as { detail: unknown }).detail
  }
  return event
}

/**
 * The ids of an invocation, when they are well-formed uuids: what a log line may say about a
 * request without repeating arbitrary input.
 */
export function invocationIds(event: unknown): {
  company_id?: string
  docker_registry_credential_id?: string
} {
  const payload = invocationPayload(event)
  if (!payload || typeof payload !== 'object') return {}
  const ids: { company_id?: string; docker_registry_credential_id?: string } = {}
  for (const key of ['company_id', 'docker_registry_credential_id'] as const) {
    const value = (payload as Record<string, unknown>)[key]
    if (typeof value === 'string' && UUID_PATTERN.test(value)) ids[key] = value
  }
  return ids
}

/** The `.dockerconfigjson` auths key of a registry host (see {@link DOCKER_HUB_AUTHS_KEY}). */
export function dockerConfigAuthsKey(registryHost: string): string {
  return registryHost === DOCKER_HUB_HOST ? DOCKER_HUB_AUTHS_KEY : registryHost
}

/** A Kubernetes `.dockerconfigjson` document holding one registry login. */
export function dockerConfigJson(registryHost: string, username: string, password: string): string {
  const auth = Buffer.from(`${username}:${password}`, 'utf8').toString('base64')
  return JSON.stringify({ auths: { [dockerConfigAuthsKey(registryHost)]: { username, password, auth } } })
}

function mismatch(provider: RegistryProvider, host: string): ResolveFailure {
  return resolveFailure(
    'registry_mismatch',
    `A ${provider} credential cannot be used for images on ${host}; choose a credential for that registry.`,
  )
}

// ports throw domain errors; these two are expected and become results, anything else is a bug or
// a misconfiguration (a KMS key that refuses us) and propagates to the handler.
function unavailable(error: unknown, code: 'dependency_unavailable' | 'registry_unavailable') {
  if (!(error instanceof DependencyUnavailableError)) throw error
  return resolveFailure(
    code,
    code === 'registry_unavailable'
      ? 'The registry is unavailable; retry shortly.'
      : 'The credential store is unavailable; retry shortly.',
  )
}

// a refused exchange has a message for the customer; an outage is retryable; anything else is a
// bug and propagates. Neither message holds the secret or the token.
function exchangeFailure(error: unknown, kind: ExchangeRequest['kind']): ResolveFailure {
  if (error instanceof RegistryCredentialsRejectedError) {
    return resolveFailure('registry_auth_failed', error.detail ?? rejectedMessage(kind))
  }
  return unavailable(error, 'registry_unavailable')
}

function resolved(registryHost: string, username: string, password: string, expiresAt?: Date) {
  const result: ResolvedCredential = {
    ok: true,
    registry_host: registryHost,
    username,
    password,
    docker_config_json: dockerConfigJson(registryHost, username, password),
  }
  if (expiresAt) result.expires_at = expiresAt.toISOString()
  return result
}

/**
 * Resolves a company's credential for pulling one image. The registry host comes from the image
 * and must belong to the credential's provider (threat: a GitHub token offered to a registry the
 * customer never meant it for), and that is checked before anything is decrypted. ECR key pairs and
 * roles are exchanged for a 12-hour token in the image's region, Google service-account keys for
 * an access token, each cached until 5 minutes before it expires. Failures are results without
 * secrets; only unexpected errors are thrown.
 */
export async function resolveCredential(
  ports: ResolveCredentialPorts,
  event: unknown,
): Promise<ResolveCredentialResult> {
  const parsed = v.safeParse(ResolveCredentialInput, invocationPayload(event))
  if (!parsed.success) {
    const issues = parsed.issues.map((issue) => ({ path: v.getDotPath(issue) ?? '', message: issue.message }))
    const details = issues.map((issue) => (issue.path ? `${issue.path}: ${issue.message}` : issue.message))
    return resolveFailure('invalid_request', `The request is invalid: ${details.join('; ')}`, issues)
  }
  const input = parsed.output

  let image: ImageReference
  try {
    image = parseImageReference(input.image)
  } catch (error) {
    if (!(error instanceof InvalidImageReferenceError)) throw error
    return resolveFailure('invalid_image', `The image is not a valid reference: ${error.message}`)
  }

  const context = { companyId: input.company_id, credentialId: input.docker_registry_credential_id }
  let credential: Awaited<ReturnType<CredentialStore['findSealed']>>
  try {
    credential = await ports.store.findSealed(context.companyId, context.credentialId)
  } catch (error) {
    return unavailable(error, 'dependency_unavailable')
  }
  if (!credential) return resolveFailure('not_found', 'No Docker registry credential with this id exists.')
  const host = image.registryHost
  // an ecr credential is exchanged in the image's region, known before anything is decrypted.
  const region = credential.registry === 'ecr' ? ecrRegion(host) : undefined
  // a credential pinned to a host is only ever handed out for images on that host
  const pinnedElsewhere = credential.registryHost !== undefined && credential.registryHost !== host
  if (
    pinnedElsewhere ||
    !isHostAllowedForProvider(credential.registry, host) ||
    (credential.registry === 'ecr' && !region)
  ) {
    return mismatch(credential.registry, host)
  }

  const scope = exchangeScope(credential, host)
  if (scope === undefined) {
    let secret: string
    try {
      secret = await ports.opener.open(credential.secret, context)
    } catch (error) {
      return unavailable(error, 'dependency_unavailable')
    }
    return resolved(host, credential.username, secret)
  }

  // a short-lived login is cached per credential version: an update changes updated_at, so the
  // next resolve exchanges again; a deleted credential was answered not_found above.
  const key = { ...context, updatedAt: credential.updatedAt, scope }
  const kind = exchangeKind(credential)
  let login = ports.logins.peek(key)
  if (!login) {
    let secret: string
    try {
      secret = await ports.opener.open(credential.secret, context)
    } catch (error) {
      return unavailable(error, 'dependency_unavailable')
    }
    try {
      const request = exchangeRequest(credential, secret, host, context.companyId)
      if (!request) throw new Error('a credential with an exchange scope has an exchange request')
      login = ports.logins.login(key, () => ports.exchanger.exchange(request))
    } catch (error) {
      return exchangeFailure(error, kind)
    }
  }
  try {
    const exchanged = await login
    return resolved(host, exchanged.username, exchanged.password, exchanged.expiresAt)
  } catch (error) {
    return exchangeFailure(error, kind)
  }
}
