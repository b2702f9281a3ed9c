import { randomBytes, randomUUID } from 'node:crypto'
import { createServer, type ServerResponse } from 'node:http'
import { closeServer, listen } from '../../local/server-lifecycle.ts'
import { parseAuthorization, signatureMatches } from './sigv4.ts'

/**
 * A server speaking STS's Query protocol (form-encoded `Action=AssumeRole&Version=2011-06-15…`,
 * XML answers and `ErrorResponse` errors) for the real `@aws-sdk/client-sts`, pointed here by
 * `AWS_ENDPOINT_URL_STS`. It checks the caller's SigV4 signature and each role's trust policy as
 * STS does: the caller must be trusted, and a trust that requires an ExternalId admits only that
 * one. The temporary credentials it issues are added to `issuedKeyPairs`, so an ECR fake sharing
 * that record accepts them.
 */

/** A role's trust policy, as far as the fake models it. */
export interface FakeRoleTrust {
  /** The `sts:ExternalId` its trust requires; undefined: it requires none (a careless trust). */
  externalId?: string
  /** Whether it lets the caller in at all. @default true */
  trustsCaller?: boolean
}

/** What the fake saw of one request. */
export interface StsFakeRequest {
  action: string | undefined
  version: string | undefined
  roleArn: string | undefined
  roleSessionName: string | undefined
  externalId: string | undefined
  durationSeconds: string | undefined
  /** The region of the signature's credential scope. */
  region: string | undefined
  service: string | undefined
  accessKeyId: string | undefined
  signatureValid: boolean
}

/** Options of the fake. */
export interface StsFakeOptions {
  /** The callers' key pairs (the resolve function's own credentials). */
  callerKeyPairs: Record<string, string>
  /** Roles by ARN. */
  roles: Record<string, FakeRoleTrust>
  /** Where issued temporary key pairs are recorded (share it with the ECR fake). */
  issuedKeyPairs: Record<string, string>
  /** When issued credentials expire. */
  expiration: Date
}

/** A running fake. */
export interface StsFake {
  url: string
  requests: StsFakeRequest[]
  /** Answers the next request with this error. */
  failNext(error: 'Throttling' | 'InternalFailure'): void
  close(): Promise<void>
}

const NAMESPACE = 'https://sts.amazonaws.com/doc/2011-06-15/'

function xml(response: ServerResponse, status: number, body: string): void {
  response.writeHead(status, { 'content-type': 'text/xml', 'x-amzn-requestid': randomUUID() })
  response.end(`<?xml version="1.0" encoding="UTF-8"?>\n${body}`)
}

function error(response: ServerResponse, status: number, code: string, message: string, type = 'Sender') {
  xml(
    response,
    status,
    `<ErrorResponse xmlns="${NAMESPACE}"><Error><Type>${type}</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`,
  )
}

/** Starts the fake on an ephemeral port of 127.0.0.1. */
export async function startStsFake({
  callerKeyPairs,
  roles,
  issuedKeyPairs,
  expiration,
}: StsFakeOptions): Promise<StsFake> {
  const requests: StsFakeRequest[] = []
  const failures: ('Throttling' | 'InternalFailure')[] = []

  const server = createServer((request, response) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      const body = Buffer.concat(chunks)
      const form = new URLSearchParams(body.toString('utf8'))
      const auth = parseAuthorization(request.headers.authorization)
      const secret = auth ? callerKeyPairs[auth.accessKeyId] : undefined
      const signatureValid =
        auth !== undefined && secret !== undefined && signatureMatches(request, body, auth, secret)
      const seen: StsFakeRequest = {
        action: form.get('Action') ?? undefined,
        version: form.get('Version') ?? undefined,
        roleArn: form.get('RoleArn') ?? undefined,
        roleSessionName: form.get('RoleSessionName') ?? undefined,
        externalId: form.get('ExternalId') ?? undefined,
        durationSeconds: form.get('DurationSeconds') ?? undefined,
        region: auth?.region,
        service: auth?.service,
        accessKeyId: auth?.accessKeyId,
        signatureValid,
      }
      requests.push(seen)

      if (!auth)
        return error(response, 403, 'MissingAuthenticationToken', 'Request is missing Authentication Token')
      if (secret === undefined) {
        return error(
          response,
          403,
          'InvalidClientTokenId',
          'The security token included in the request is invalid.',
        )
      }
      if (!signatureValid) {
        return error(
          response,
          403,
          'SignatureDoesNotMatch',
          'The request signature we calculated does not match.',
        )
      }
      if (seen.action !== 'AssumeRole' || seen.version !== '2011-06-15') {
        return error(response, 400, 'InvalidAction', 'Could not find operation')
      }
      const failure = failures.shift()
      if (failure === 'Throttling') return error(response, 400, 'Throttling', 'Rate exceeded')
      if (failure === 'InternalFailure') {
        return error(response, 500, 'InternalFailure', 'An internal error occurred', 'Receiver')
      }
      const role = seen.roleArn ? roles[seen.roleArn] : undefined
      const admitted =
        role !== undefined &&
        role.trustsCaller !== false &&
        (role.externalId === undefined || role.externalId === seen.externalId)
      if (!admitted) {
        return error(
          response,
          403,
          'AccessDenied',
          `User: arn:aws:sts::000000000000:assumed-role/resolve/x is not authorized to perform: sts:AssumeRole on resource: ${seen.roleArn}`,
        )
      }
      const accessKeyId = `ASIA${randomBytes(8).toString('hex').toUpperCase()}`
      const secretAccessKey = randomBytes(30).toString('base64')
      issuedKeyPairs[accessKeyId] = secretAccessKey
      const roleName = seen.roleArn?.split('/').pop()
      xml(
        response,
        200,
        `<AssumeRoleResponse xmlns="${NAMESPACE}"><AssumeRoleResult><AssumedRoleUser><AssumedRoleId>AROA3XFRBF535PLBIFPI4:${seen.roleSessionName}</AssumedRoleId><Arn>arn:aws:sts::123456789012:assumed-role/${roleName}/${seen.roleSessionName}</Arn></AssumedRoleUser><Credentials><AccessKeyId>${accessKeyId}</AccessKeyId><SecretAccessKey>${secretAccessKey}</SecretAccessKey><SessionToken>FwoGZXIvYXdzE${randomBytes(24).toString('base64')}</SessionToken><Expiration>${expiration.toISOString()}</Expiration></Credentials><PackedPolicySize>0</PackedPolicySize></AssumeRoleResult><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></AssumeRoleResponse>`,
      )
    })
  })

  const port = await listen(server)
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    failNext: (failure) => {
      failures.push(failure)
    },
    close: () => closeServer(server),
  }
}
