import { createHash, createHmac, timingSafeEqual } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { closeServer, listen } from '../../local/server-lifecycle.ts'

/**
 * A tiny server speaking ECR's JSON 1.1 protocol for GetAuthorizationToken, enough for the real
 * `@aws-sdk/client-ecr` (pointed here by `AWS_ENDPOINT_URL_ECR`). It checks the SigV4 signature
 * against the secret key it was given for the access key id, as AWS does, so a test can prove
 * which key pair and region a request was signed with.
 */

/** The target header of the one operation served. */
export const GET_AUTHORIZATION_TOKEN_TARGET = 'AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken'

/** What the fake saw of one request. */
export interface EcrFakeRequest {
  target: string | undefined
  /** The region of the signature's credential scope. */
  region: string | undefined
  service: string | undefined
  accessKeyId: string | undefined
  signatureValid: boolean
}

/** An error the next request is answered with instead of a token. */
export type EcrFakeError = 'ThrottlingException' | 'ServerException'

/** Options of the fake. */
export interface EcrFakeOptions {
  /** Secret access keys by access key id: the key pairs AWS would accept. */
  keyPairs: Record<string, string>
  /** When tokens expire. */
  expiresAt: Date
}

/** A running fake. */
export interface EcrFake {
  /** `http://127.0.0.1:<port>`, for `AWS_ENDPOINT_URL_ECR`. */
  url: string
  requests: EcrFakeRequest[]
  /** The password the fake hands out for a region. */
  passwordFor(region: string): string
  /** Answers the next request with this error. */
  failNext(error: EcrFakeError): void
  close(): Promise<void>
}

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex')
const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest()

interface ParsedAuthorization {
  accessKeyId: string
  date: string
  region: string
  service: string
  signedHeaders: string[]
  signature: string
}

const AUTHORIZATION_PATTERN =
  /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/

function parseAuthorization(header: string | undefined): ParsedAuthorization | undefined {
  const match = header ? AUTHORIZATION_PATTERN.exec(header) : null
  if (!match) return undefined
  const [, accessKeyId = '', date = '', region = '', service = '', signedHeaders = '', signature = ''] = match
  return { accessKeyId, date, region, service, signedHeaders: signedHeaders.split(';'), signature }
}

// sigv4 as AWS computes it on its side: canonical request, string to sign, derived key.
function expectedSignature(
  request: IncomingMessage,
  body: Buffer,
  auth: ParsedAuthorization,
  secretAccessKey: string,
): string {
  const url = new URL(request.url ?? '/', 'http://fake')
  const headerValue = (name: string) => {
    const value = request.headers[name]
    return (Array.isArray(value) ? value.join(',') : (value ?? '')).trim().replace(/\s+/g, ' ')
  }
  const canonicalHeaders = auth.signedHeaders.map((name) => `${name}:${headerValue(name)}\n`).join('')
  const payloadHash = headerValue('x-amz-content-sha256') || sha256(body)
  const canonicalRequest = [
    request.method,
    url.pathname,
    [...url.searchParams].map(([key, value]) => `${key}=${value}`).join('&'),
    canonicalHeaders,
    auth.signedHeaders.join(';'),
    payloadHash,
  ].join('\n')
  const scope = `${auth.date}/${auth.region}/${auth.service}/aws4_request`
  const stringToSign = ['AWS4-HMAC-SHA256', headerValue('x-amz-date'), scope, sha256(canonicalRequest)].join(
    '\n',
  )
  const signingKey = hmac(
    hmac(hmac(hmac(`AWS4${secretAccessKey}`, auth.date), auth.region), auth.service),
    'aws4_request',
  )
  return createHmac('sha256', signingKey).update(stringToSign).digest('hex')
}

function signatureMatches(expected: string, received: string): boolean {
  return expected.length === received.length && timingSafeEqual(Buffer.from(expected), Buffer.from(received))
}

function reply(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' })
  response.end(JSON.stringify(body))
}

function error(response: ServerResponse, status: number, type: string, message: string): void {
  reply(response, status, { __type: type, message })
}

/** Starts the fake on an ephemeral port of 127.0.0.1. */
export async function startEcrFake({ keyPairs, expiresAt }: EcrFakeOptions): Promise<EcrFake> {
  const requests: EcrFakeRequest[] = []
  const failures: EcrFakeError[] = []
  const passwordFor = (region: string) => `ecr-password-for-${region}`

  const server = createServer((request, response) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      const body = Buffer.concat(chunks)
      const target = request.headers['x-amz-target'] as string | undefined
      const auth = parseAuthorization(request.headers.authorization)
      const secret = auth ? keyPairs[auth.accessKeyId] : undefined
      const signatureValid =
        auth !== undefined &&
        secret !== undefined &&
        signatureMatches(expectedSignature(request, body, auth, secret), auth.signature)
      requests.push({
        target,
        region: auth?.region,
        service: auth?.service,
        accessKeyId: auth?.accessKeyId,
        signatureValid,
      })

      if (!auth)
        return error(response, 400, 'MissingAuthenticationTokenException', 'Missing Authentication Token')
      if (secret === undefined) {
        return error(
          response,
          400,
          'UnrecognizedClientException',
          'The security token included in the request is invalid.',
        )
      }
      if (!signatureValid) {
        return error(
          response,
          400,
          'InvalidSignatureException',
          'The request signature we calculated does not match the signature you provided.',
        )
      }
      if (target !== GET_AUTHORIZATION_TOKEN_TARGET) {
        return error(response, 400, 'UnknownOperationException', 'Unknown operation')
      }
      const failure = failures.shift()
      if (failure === 'ThrottlingException') return error(response, 400, failure, 'Rate exceeded')
      if (failure === 'ServerException') return error(response, 500, failure, 'Internal error')
      reply(response, 200, {
        authorizationData: [
          {
            authorizationToken: Buffer.from(`AWS:${passwordFor(auth.region)}`).toString('base64'),
            expiresAt: expiresAt.getTime() / 1000,
            proxyEndpoint: `https://123456789012.dkr.ecr.${auth.region}.amazonaws.com`,
          },
        ],
      })
    })
  })

  const port = await listen(server)
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    passwordFor,
    failNext: (failure) => {
      failures.push(failure)
    },
    close: () => closeServer(server),
  }
}
