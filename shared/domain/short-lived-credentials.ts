import {
  codePointLength,
  GOOGLE_KEY_SECRET_MAX_LENGTH,
  GOOGLE_KEY_USERNAMES,
  type RegistryProvider,
  SECRET_PATTERN,
} from './docker-registry.ts'
import type { InputIssue } from './errors.ts'
import { ecrRegion } from './image-reference.ts'

/**
 * One model for credentials that are exchanged for a short-lived registry login before use: ECR
 * access key pairs and ECR roles (GetAuthorizationToken, 12 hours), and Google service-account
 * keys (an OAuth2 access token, 1 hour). Resolve and verify both go through one
 * {@link CredentialExchanger}; resolve caches what it gets (see `login-cache.ts`).
 */

/** The username of an `ecr` credential whose secret is the ARN of a role to assume. */
export const ECR_ROLE_USERNAME = 'assume-role'

/** The username a Google access token is presented with. */
export const GOOGLE_TOKEN_USERNAME = 'oauth2accesstoken'

// docker-registry.ts imports this module: its values are read at call time only, never while
// the modules are first evaluated.
export { GOOGLE_KEY_SECRET_MAX_LENGTH, GOOGLE_KEY_USERNAMES } from './docker-registry.ts'

/**
 * An IAM role ARN (`arn:aws:iam::123456789012:role/path/name`): partition, 12-digit account,
 * optional path, and a role name of IAM's characters.
 */
export const ROLE_ARN_PATTERN =
  /^arn:aws(?:-cn|-us-gov)?:iam::[0-9]{12}:role\/(?:[\x21-\x7e]*\/)?[A-Za-z0-9+=,.@_-]{1,64}$/

/** The ExternalId prefix: every ExternalId this service sends starts with it. */
export const EXTERNAL_ID_PREFIX = 'registry-credentials-'

/**
 * The ExternalId this service passes when it assumes a role for a company: unique per company
 * and derived from the company id alone, which comes from the API key or the deploy system, never
 * from the credential (threat: a company naming another company's role: that role's trust policy
 * requires the other company's ExternalId, which this service never sends on its behalf).
 */
export function externalIdFor(companyId: string): string {
  return `${EXTERNAL_ID_PREFIX}${companyId}`
}

/** The parts of a Google service-account key an exchange needs. */
export interface ServiceAccountKey {
  clientEmail: string
  /** PKCS #8 PEM. */
  privateKey: string
  privateKeyId?: string
}

/** What to exchange, by kind. */
export type ExchangeRequest =
  | { kind: 'ecrKeyPair'; region: string; accessKeyId: string; secretAccessKey: string }
  | { kind: 'ecrRole'; region: string; roleArn: string; externalId: string }
  | { kind: 'googleKey'; key: ServiceAccountKey }

/** A short-lived registry login. */
export interface ShortLivedLogin {
  username: string
  password: string
  expiresAt: Date
}

/**
 * Exchanges a stored credential for a short-lived registry login. Throws
 * {@link RegistryCredentialsRejectedError} when the provider refuses the credential, and
 * `DependencyUnavailableError` when it throttles or cannot be reached. Nothing it throws carries
 * a secret or a token.
 */
export interface CredentialExchanger {
  exchange(request: ExchangeRequest): Promise<ShortLivedLogin>
}

/**
 * The provider refused the stored credentials. `detail`, when given, says why in words safe to
 * show the customer (a fixed text, never a value); else the refusal is described by its kind.
 */
export class RegistryCredentialsRejectedError extends Error {
  override readonly name = 'RegistryCredentialsRejectedError'
  constructor(
    readonly detail?: string,
    options?: { cause?: unknown },
  ) {
    super(detail ?? 'The registry rejected the stored credentials', options)
  }
}

function isGoogleKeyUsername(username: string): boolean {
  return (GOOGLE_KEY_USERNAMES as readonly string[]).includes(username)
}

/** Whether a credential is a Google service-account key (and may have a secret up to 16 KiB). */
export function isGoogleKeyCredential(registry: RegistryProvider, username: string): boolean {
  return registry === 'gcr' && isGoogleKeyUsername(username)
}

const SERVICE_ACCOUNT_KEY_MESSAGE =
  'must be a Google service-account key: the JSON key file with "type": "service_account", "client_email" and "private_key"'

/**
 * Reads a service-account key from a secret (`_json_key`: the JSON itself; `_json_key_base64`:
 * its base64), or undefined when it is not one.
 */
export function parseServiceAccountKey(username: string, secret: string): ServiceAccountKey | undefined {
  let json = secret
  if (username === '_json_key_base64') {
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(secret.trim())) return undefined
    json = Buffer.from(secret.trim(), 'base64').toString('utf8')
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(json)
  } catch {
    return undefined
  }
  if (!parsed || typeof parsed !== 'object') return undefined
  const key = parsed as Record<string, unknown>
  if (key.type !== 'service_account') return undefined
  const { client_email: clientEmail, private_key: privateKey, private_key_id: privateKeyId } = key
  if (typeof clientEmail !== 'string' || !/^[^@\s]+@[^@\s]+$/.test(clientEmail)) return undefined
  if (typeof privateKey !== 'string' || !privateKey.includes('-----BEGIN PRIVATE KEY-----')) return undefined
  return {
    clientEmail,
    privateKey,
    ...(typeof privateKeyId === 'string' && /^[0-9a-f]{1,128}$/.test(privateKeyId) ? { privateKeyId } : {}),
  }
}

const SECRET_PATTERN_MESSAGE = 'must be 8 to 128 characters long, without line breaks'

/**
 * What is wrong with a secret given the credential's provider and username (none of it quotes the
 * secret): a service-account key for `gcr` with `_json_key`/`_json_key_base64` (up to 16 KiB, the
 * one extension of the secret's length), a role ARN for `ecr` with `assume-role`, else the
 * contract's `^.{8,128}$`.
 */
export function secretIssues(registry: RegistryProvider, username: string, secret: string): InputIssue[] {
  if (isGoogleKeyCredential(registry, username)) {
    if (codePointLength(secret) > GOOGLE_KEY_SECRET_MAX_LENGTH) {
      return [{ path: 'secret', message: `must be at most ${GOOGLE_KEY_SECRET_MAX_LENGTH} characters long` }]
    }
    return parseServiceAccountKey(username, secret)
      ? []
      : [{ path: 'secret', message: SERVICE_ACCOUNT_KEY_MESSAGE }]
  }
  if (!SECRET_PATTERN.test(secret)) return [{ path: 'secret', message: SECRET_PATTERN_MESSAGE }]
  if (registry === 'ecr' && username === ECR_ROLE_USERNAME && !ROLE_ARN_PATTERN.test(secret)) {
    return [
      {
        path: 'secret',
        message: `must be an IAM role ARN (arn:aws:iam::<account>:role/<name>) with username ${ECR_ROLE_USERNAME}`,
      },
    ]
  }
  return []
}

/**
 * Whether a username change turns a credential into (or out of) one whose secret has another
 * meaning (an ECR role, a Google key): such a change needs the new secret in the same request,
 * since the stored one cannot be read to check it.
 */
export function changesSecretKind(registry: RegistryProvider, from: string, to: string): boolean {
  // each Google username is its own kind: `_json_key` holds the key file, `_json_key_base64` its
  // base64, so the stored secret of one is never valid for the other
  const kind = (username: string) =>
    isGoogleKeyCredential(registry, username)
      ? `googleKey:${username}`
      : registry === 'ecr' && username === ECR_ROLE_USERNAME
        ? 'ecrRole'
        : 'plain'
  return kind(from) !== kind(to)
}

/**
 * What a stored credential is exchanged for, at a registry host its provider serves: undefined
 * when it is used as it is (a password or token).
 */
export function exchangeRequest(
  credential: { registry: RegistryProvider; username: string },
  secret: string,
  host: string,
  companyId: string,
): ExchangeRequest | undefined {
  if (credential.registry === 'ecr') {
    const region = ecrRegion(host)
    if (!region) throw new Error('an ecr credential is exchanged only for an ECR host')
    if (credential.username === ECR_ROLE_USERNAME) {
      return { kind: 'ecrRole', region, roleArn: secret, externalId: externalIdFor(companyId) }
    }
    return { kind: 'ecrKeyPair', region, accessKeyId: credential.username, secretAccessKey: secret }
  }
  if (isGoogleKeyCredential(credential.registry, credential.username)) {
    const key = parseServiceAccountKey(credential.username, secret)
    if (!key) throw new RegistryCredentialsRejectedError('The stored secret is not a service-account key.')
    return { kind: 'googleKey', key }
  }
  return undefined
}

/**
 * Whether a stored credential is exchanged at this host, and under what scope its login is cached:
 * the region for ECR (a token is per account and region), `google` for a service-account key (one
 * token serves every Google host); undefined when the secret is used as it is. Known before
 * anything is decrypted.
 */
export function exchangeScope(
  credential: { registry: RegistryProvider; username: string },
  host: string,
): string | undefined {
  if (credential.registry === 'ecr') return ecrRegion(host)
  if (isGoogleKeyCredential(credential.registry, credential.username)) return 'google'
  return undefined
}

/** The kind of exchange of a credential that has an {@link exchangeScope}. */
export function exchangeKind(credential: {
  registry: RegistryProvider
  username: string
}): ExchangeRequest['kind'] {
  if (credential.registry !== 'ecr') return 'googleKey'
  return credential.username === ECR_ROLE_USERNAME ? 'ecrRole' : 'ecrKeyPair'
}

/** A message for the customer about a refused exchange, by kind. */
export function rejectedMessage(kind: ExchangeRequest['kind']): string {
  switch (kind) {
    case 'ecrKeyPair':
      return 'AWS rejected the stored access key pair for ECR.'
    case 'ecrRole':
      return 'AWS did not let this service assume the stored role with your ExternalId, or the role may not call ecr:GetAuthorizationToken.'
    case 'googleKey':
      return 'Google rejected the stored service-account key.'
  }
}
