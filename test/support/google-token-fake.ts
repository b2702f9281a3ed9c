import { type KeyObject, randomBytes, verify } from 'node:crypto'
import { createServer, type ServerResponse } from 'node:http'
import { closeServer, listen } from '../../local/server-lifecycle.ts'

/**
 * A stand-in for Google's OAuth2 token endpoint (`POST /token`, RFC 7523 JWT bearer grant), as
 * strict as Google about the assertion: RS256 signed by a key registered for its `iss`, `aud` the
 * endpoint's own URL, the `scope` asked for, `iat` near now and `exp` at most an hour later.
 */

/** What the fake made of one request. */
export interface GoogleTokenRequest {
  grantType: string | null
  header: Record<string, unknown> | undefined
  claims: Record<string, unknown> | undefined
  signatureValid: boolean
  /** Why the assertion was refused, or undefined when it was accepted. */
  refusal: string | undefined
}

/** Options of the fake. */
export interface GoogleTokenFakeOptions {
  /** Public keys by service-account email (the key pairs Google would know). */
  publicKeys: Record<string, KeyObject>
  /** The scope every assertion must ask for. */
  scope: string
  /** The fake's clock. @default () => new Date() */
  clock?: () => Date
}

/** A running fake. */
export interface GoogleTokenFake {
  /** The token endpoint: `http://127.0.0.1:<port>/token`. */
  url: string
  requests: GoogleTokenRequest[]
  /** The access tokens handed out, in order. */
  tokens: string[]
  failNext(status: 429 | 503): void
  close(): Promise<void>
}

const ALLOWED_SKEW_SECONDS = 300

function reply(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8' })
  response.end(JSON.stringify(body))
}

function decodeSegment(segment: string | undefined): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(segment ?? '', 'base64url').toString('utf8'))
    return value && typeof value === 'object' ? (value as Record<string, unknown>) : undefined
  } catch {
    return undefined
  }
}

/** Starts the fake on an ephemeral port of 127.0.0.1. */
export async function startGoogleTokenFake({
  publicKeys,
  scope,
  clock = () => new Date(),
}: GoogleTokenFakeOptions): Promise<GoogleTokenFake> {
  const requests: GoogleTokenRequest[] = []
  const tokens: string[] = []
  const failures: (429 | 503)[] = []
  let url = ''

  const server = createServer((request, response) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      if (request.method !== 'POST' || request.url !== '/token')
        return reply(response, 404, { error: 'not_found' })
      const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'))
      const [headerPart, claimsPart, signaturePart] = (form.get('assertion') ?? '').split('.')
      const header = decodeSegment(headerPart)
      const claims = decodeSegment(claimsPart)
      const publicKey = typeof claims?.iss === 'string' ? publicKeys[claims.iss] : undefined
      const signatureValid =
        publicKey !== undefined &&
        header?.alg === 'RS256' &&
        verify(
          'sha256',
          Buffer.from(`${headerPart}.${claimsPart}`),
          publicKey,
          Buffer.from(signaturePart ?? '', 'base64url'),
        )
      const now = Math.floor(clock().getTime() / 1000)
      const iat = Number(claims?.iat)
      const exp = Number(claims?.exp)
      const refusal =
        form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer'
          ? 'unsupported_grant_type'
          : !signatureValid
            ? 'Invalid JWT Signature.'
            : claims?.aud !== url
              ? 'Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your aud claim.'
              : claims?.scope !== scope
                ? 'Invalid scope'
                : !(Math.abs(iat - now) <= ALLOWED_SKEW_SECONDS && exp > now && exp - iat <= 3600)
                  ? 'Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe.'
                  : undefined
      requests.push({ grantType: form.get('grant_type'), header, claims, signatureValid, refusal })
      const failure = failures.shift()
      if (failure) return reply(response, failure, { error: 'rate_limited' })
      if (refusal) return reply(response, 400, { error: 'invalid_grant', error_description: refusal })
      const token = `ya29.${randomBytes(24).toString('base64url')}`
      tokens.push(token)
      reply(response, 200, { access_token: token, expires_in: 3599, token_type: 'Bearer' })
    })
  })

  const port = await listen(server)
  url = `http://127.0.0.1:${port}/token`
  return {
    url,
    requests,
    tokens,
    failNext: (status) => {
      failures.push(status)
    },
    close: () => closeServer(server),
  }
}
