import { createPrivateKey, sign } from 'node:crypto'
import { DependencyUnavailableError } from '../domain/errors.ts'
import {
  GOOGLE_TOKEN_USERNAME,
  RegistryCredentialsRejectedError,
  type ServiceAccountKey,
  type ShortLivedLogin,
} from '../domain/short-lived-credentials.ts'

/** Google's OAuth2 token endpoint: the only one a service-account key is ever exchanged at. */
export const GOOGLE_TOKEN_ENDPOINT = 'https://oauth2.googleapis.com/token'

/** Read-only access to Google Cloud, which pulling from gcr.io and Artifact Registry needs. */
export const GOOGLE_PULL_SCOPE = 'https://www.googleapis.com/auth/cloud-platform.read-only'

/** The JWT bearer grant of RFC 7523. */
export const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer'

/** How long the signed assertion is valid (Google's maximum is an hour). */
const ASSERTION_LIFETIME_SECONDS = 3_600

/** The largest token answer read. */
const MAX_ANSWER_BYTES = 64 * 1024

/** Exchanges a service-account key for an access token. */
export interface GoogleTokenExchanger {
  exchange(key: ServiceAccountKey): Promise<ShortLivedLogin>
}

/** Options of the exchanger. */
export interface GoogleTokenExchangerOptions {
  /**
   * The token endpoint. Deployed functions always use Google's; the key's own `token_uri` is
   * never read (threat: a key aiming the signed assertion, or our request, at another host).
   * @default GOOGLE_TOKEN_ENDPOINT
   */
  tokenEndpoint?: string
  /** @default () => new Date() */
  clock?: () => Date
  /**
   * The whole exchange's deadline, in milliseconds.
   * @default 5000
   */
  timeoutMs?: number
}

const base64url = (data: string | Buffer) => Buffer.from(data).toString('base64url')

/** A JWT bearer assertion for Google's token endpoint, signed RS256 with the key. */
export function signedAssertion(key: ServiceAccountKey, audience: string, now: Date): string {
  const issuedAt = Math.floor(now.getTime() / 1000)
  const header = { alg: 'RS256', typ: 'JWT', ...(key.privateKeyId ? { kid: key.privateKeyId } : {}) }
  const claims = {
    iss: key.clientEmail,
    scope: GOOGLE_PULL_SCOPE,
    aud: audience,
    iat: issuedAt,
    exp: issuedAt + ASSERTION_LIFETIME_SECONDS,
  }
  const signingInput = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`
  let privateKey: ReturnType<typeof createPrivateKey>
  try {
    privateKey = createPrivateKey(key.privateKey)
  } catch {
    // never the parser's message: it may quote the key
    throw new RegistryCredentialsRejectedError(
      'The stored service-account key has an unreadable private key.',
    )
  }
  if (privateKey.asymmetricKeyType !== 'rsa') {
    throw new RegistryCredentialsRejectedError('The stored service-account key is not an RSA key.')
  }
  return `${signingInput}.${base64url(sign('sha256', Buffer.from(signingInput), privateKey))}`
}

async function readAnswer(response: Response): Promise<unknown> {
  const text = await response.text()
  if (text.length > MAX_ANSWER_BYTES) throw new Error('Google token endpoint answered too much')
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

/**
 * Exchanges Google service-account keys for OAuth2 access tokens (RFC 7523 JWT bearer grant,
 * RS256 with `node:crypto`, scope cloud-platform.read-only). The login is `oauth2accesstoken` and
 * the token, which gcr.io and every `*-docker.pkg.dev` accept.
 */
export function createGoogleTokenExchanger({
  tokenEndpoint = GOOGLE_TOKEN_ENDPOINT,
  clock = () => new Date(),
  timeoutMs = 5_000,
}: GoogleTokenExchangerOptions = {}): GoogleTokenExchanger {
  return {
    async exchange(key) {
      const now = clock()
      const assertion = signedAssertion(key, tokenEndpoint, now)
      let response: Response
      try {
        response = await fetch(tokenEndpoint, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
          body: new URLSearchParams({ grant_type: JWT_BEARER_GRANT, assertion }).toString(),
          redirect: 'error',
          signal: AbortSignal.timeout(timeoutMs),
        })
      } catch {
        // a refused connection, a timeout, a redirect: none of it names the key
        throw new DependencyUnavailableError('Google', 1)
      }
      const answer = await readAnswer(response).catch(() => undefined)
      if (response.status === 429 || response.status >= 500) {
        throw new DependencyUnavailableError('Google', 1)
      }
      if (response.status === 400 || response.status === 401 || response.status === 403) {
        // invalid_grant: a deleted or disabled key, a wrong signature, a clock far off
        throw new RegistryCredentialsRejectedError()
      }
      const body = answer as { access_token?: unknown; expires_in?: unknown } | undefined
      if (
        response.status !== 200 ||
        typeof body?.access_token !== 'string' ||
        body.access_token.length === 0 ||
        typeof body.expires_in !== 'number' ||
        !(body.expires_in > 0)
      ) {
        throw new Error(`Google token endpoint answered HTTP ${response.status} without a token`)
      }
      return {
        username: GOOGLE_TOKEN_USERNAME,
        password: body.access_token,
        expiresAt: new Date(now.getTime() + body.expires_in * 1000),
      }
    },
  }
}
