import { createHash, createHmac, timingSafeEqual } from 'node:crypto'
import type { IncomingMessage } from 'node:http'

/**
 * AWS Signature Version 4 as AWS checks it on its side, for the fakes of AWS services: the
 * canonical request, the string to sign and the derived key, from the request as received.
 */

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex')
const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest()

/** The parts of a SigV4 `Authorization` header. */
export interface ParsedAuthorization {
  accessKeyId: string
  date: string
  region: string
  service: string
  signedHeaders: string[]
  signature: string
}

const AUTHORIZATION_PATTERN =
  /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/

/** Reads a SigV4 `Authorization` header, or undefined when it is not one. */
export function parseAuthorization(header: string | undefined): ParsedAuthorization | undefined {
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

/** Whether the request carries the signature AWS would compute with this secret access key. */
export function signatureMatches(
  request: IncomingMessage,
  body: Buffer,
  auth: ParsedAuthorization,
  secretAccessKey: string,
): boolean {
  const expected = expectedSignature(request, body, auth, secretAccessKey)
  return (
    expected.length === auth.signature.length &&
    timingSafeEqual(Buffer.from(expected), Buffer.from(auth.signature))
  )
}
