import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts'
import { DependencyUnavailableError } from '../domain/errors.ts'
import { RegistryCredentialsRejectedError } from '../domain/short-lived-credentials.ts'
import { translateAwsError } from './aws-errors.ts'
import { AWS_REGION_PATTERN } from './ecr-token-exchanger.ts'

/** What assuming a customer's role needs. */
export interface AssumeRoleRequest {
  /** The image's region: STS is called at its regional endpoint there. */
  region: string
  roleArn: string
  externalId: string
}

/** Temporary credentials of an assumed role. */
export interface AssumedRoleCredentials {
  accessKeyId: string
  secretAccessKey: string
  sessionToken: string
  expiration: Date
}

/** Assumes a customer's role with this function's own credentials. */
export interface RoleAssumer {
  assume(request: AssumeRoleRequest): Promise<AssumedRoleCredentials>
}

/**
 * The role session name: it names this service in the customer's CloudTrail (the assumed-role
 * ARN is `…:assumed-role/<role>/registry-credentials`), so they can see and audit every pull login.
 */
export const ROLE_SESSION_NAME = 'registry-credentials'

/**
 * How long the assumed credentials live: STS's minimum. They serve one GetAuthorizationToken and
 * are dropped; the registry token they get lives 12 hours regardless.
 */
export const ROLE_SESSION_SECONDS = 900

// what STS answers when the role will not have us: the trust policy does not name our role, its
// ExternalId condition does not match, the role does not exist, or STS is off in the region.
const REFUSED = new Set([
  'AccessDenied',
  'AccessDeniedException',
  'RegionDisabledException',
  'ExpiredTokenException',
  'InvalidClientTokenId',
  'ValidationError',
])

/** Options of the STS role assumer. */
export interface StsRoleAssumerOptions {
  /**
   * Socket timeouts of each call, in milliseconds.
   * @default { connectionTimeout: 3000, requestTimeout: 10000 }
   */
  timeouts?: { connectionTimeout: number; requestTimeout: number }
}

// an answer carries credentials, so no error about it travels on (a deserialisation failure quotes
// the body): anything unexpected becomes an error naming only its type and status.
function rejectOrTranslate(error: unknown): never {
  if (error instanceof Error && REFUSED.has(error.name)) throw new RegistryCredentialsRejectedError()
  try {
    translateAwsError('STS')(error)
  } catch (translated) {
    if (translated instanceof DependencyUnavailableError) {
      throw new DependencyUnavailableError('STS', translated.retryAfterSeconds)
    }
  }
  const name = error instanceof Error ? error.name : typeof error
  const status = (error as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode
  throw new Error(`STS AssumeRole failed: ${name}${status ? ` (HTTP ${status})` : ''}`)
}

/**
 * Assumes roles with `sts:AssumeRole` at the regional STS endpoint of the image's region, signed
 * with the function's own role (the default credential chain). The endpoint follows the SDK's own
 * settings, so `AWS_ENDPOINT_URL_STS` points it at a fake.
 */
export function createStsRoleAssumer({
  timeouts = { connectionTimeout: 3_000, requestTimeout: 10_000 },
}: StsRoleAssumerOptions = {}): RoleAssumer {
  const clients = new Map<string, STSClient>()
  const clientFor = (region: string) => {
    let client = clients.get(region)
    if (!client) {
      client = new STSClient({ region, requestHandler: timeouts })
      clients.set(region, client)
    }
    return client
  }
  return {
    async assume({ region, roleArn, externalId }) {
      if (!AWS_REGION_PATTERN.test(region)) throw new Error('AssumeRole needs an AWS region name')
      const response = await clientFor(region)
        .send(
          new AssumeRoleCommand({
            RoleArn: roleArn,
            RoleSessionName: ROLE_SESSION_NAME,
            ExternalId: externalId,
            DurationSeconds: ROLE_SESSION_SECONDS,
          }),
        )
        .catch(rejectOrTranslate)
      const credentials = response.Credentials
      if (
        !credentials?.AccessKeyId ||
        !credentials.SecretAccessKey ||
        !credentials.SessionToken ||
        !credentials.Expiration
      ) {
        throw new Error('STS AssumeRole returned no credentials')
      }
      return {
        accessKeyId: credentials.AccessKeyId,
        secretAccessKey: credentials.SecretAccessKey,
        sessionToken: credentials.SessionToken,
        expiration: credentials.Expiration,
      }
    },
  }
}
