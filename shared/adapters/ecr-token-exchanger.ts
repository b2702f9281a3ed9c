import { ECRClient, GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr'
import { DependencyUnavailableError } from '../domain/errors.ts'
import { RegistryCredentialsRejectedError, type ShortLivedLogin } from '../domain/short-lived-credentials.ts'
import { translateAwsError } from './aws-errors.ts'

/**
 * What a GetAuthorizationToken needs: the image's region and AWS credentials of the customer's: a
 * stored access key pair, or the temporary credentials of an assumed role (with their session
 * token).
 */
export interface EcrTokenRequest {
  region: string
  accessKeyId: string
  secretAccessKey: string
  sessionToken?: string
}

/** Exchanges AWS credentials for a 12-hour ECR registry login. */
export interface EcrTokenExchanger {
  exchange(request: EcrTokenRequest): Promise<ShortLivedLogin>
}

// what AWS answers when the key pair itself is the problem: unknown, deactivated, wrong secret,
// or not allowed ecr:GetAuthorizationToken. The customer has to fix these; retrying will not.
const REJECTED_KEY_ERRORS = new Set([
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'IncompleteSignatureException',
  'InvalidClientTokenId',
  'SignatureDoesNotMatch',
  'ExpiredTokenException',
  'AccessDeniedException',
  'AccessDenied',
])

/**
 * An AWS region name. The region decides which endpoint receives a request signed with the
 * customer's credentials (threat: a crafted region steering it to a host of an attacker's choosing).
 */
export const AWS_REGION_PATTERN = /^[a-z]{2}(?:-[a-z]+)+-[0-9]+$/

/** Options of the ECR token exchanger. */
export interface EcrTokenExchangerOptions {
  /**
   * Socket timeouts of each call, in milliseconds, so a hanging ECR cannot hold the invocation
   * until the function times out.
   * @default { connectionTimeout: 3000, requestTimeout: 10000 }
   */
  timeouts?: { connectionTimeout: number; requestTimeout: number }
}

// a successful answer carries a registry password, so an error about an answer (a deserialisation
// failure quotes the body it could not parse) must not travel on into logs: anything unexpected
// is replaced by an error naming only the error type and status (threat: a token in a log line).
function rejectOrTranslate(error: unknown): never {
  if (error instanceof Error && REJECTED_KEY_ERRORS.has(error.name)) {
    throw new RegistryCredentialsRejectedError()
  }
  try {
    translateAwsError('ECR')(error)
  } catch (translated) {
    if (translated instanceof DependencyUnavailableError) {
      throw new DependencyUnavailableError('ECR', translated.retryAfterSeconds)
    }
  }
  const name = error instanceof Error ? error.name : typeof error
  const status = (error as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode
  throw new Error(`ECR GetAuthorizationToken failed: ${name}${status ? ` (HTTP ${status})` : ''}`)
}

/**
 * Exchanges a customer's AWS credentials for an ECR login with GetAuthorizationToken. Each call
 * builds its own client from the credentials and the image's region (the credentials are the
 * customer's, not this function's role) and destroys it afterwards. The endpoint follows the SDK's
 * own settings, so `AWS_ENDPOINT_URL_ECR` points it at a fake.
 */
export function createEcrTokenExchanger({
  timeouts = { connectionTimeout: 3_000, requestTimeout: 10_000 },
}: EcrTokenExchangerOptions = {}): EcrTokenExchanger {
  return {
    async exchange({
      region,
      accessKeyId,
      secretAccessKey,
      sessionToken,
    }: EcrTokenRequest): Promise<ShortLivedLogin> {
      if (!AWS_REGION_PATTERN.test(region)) throw new Error('ECR token exchange needs an AWS region name')
      const client = new ECRClient({
        region,
        credentials: { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) },
        requestHandler: timeouts,
      })
      try {
        const response = await client.send(new GetAuthorizationTokenCommand({})).catch(rejectOrTranslate)
        const data = response.authorizationData?.[0]
        if (!data?.authorizationToken || !data.expiresAt) {
          throw new Error('ECR GetAuthorizationToken returned no authorization data')
        }
        // the token is base64 of `AWS:<password>`
        const decoded = Buffer.from(data.authorizationToken, 'base64').toString('utf8')
        const colon = decoded.indexOf(':')
        if (colon <= 0) throw new Error('ECR GetAuthorizationToken returned a malformed token')
        return {
          username: decoded.slice(0, colon),
          password: decoded.slice(colon + 1),
          expiresAt: data.expiresAt,
        }
      } finally {
        client.destroy()
      }
    },
  }
}
