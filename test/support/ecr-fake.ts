import { createServer, type ServerResponse } from 'node:http'
import { closeServer, listen } from '../../local/server-lifecycle.ts'
import { parseAuthorization, signatureMatches } from './sigv4.ts'

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
  /** The session token sent with temporary (assumed-role) credentials, when one was. */
  sessionToken?: string
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
        auth !== undefined && secret !== undefined && signatureMatches(request, body, auth, secret)
      const sessionToken = request.headers['x-amz-security-token'] as string | undefined
      requests.push({
        target,
        region: auth?.region,
        service: auth?.service,
        accessKeyId: auth?.accessKeyId,
        signatureValid,
        ...(sessionToken ? { sessionToken } : {}),
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
