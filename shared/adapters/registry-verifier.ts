import { lookup as dnsLookup } from 'node:dns/promises'
import http from 'node:http'
import https from 'node:https'
import { BlockList, isIP, type LookupFunction } from 'node:net'
import { rootCertificates } from 'node:tls'
import { parseRegistryHost, registryApiHost } from '../domain/image-reference.ts'

/**
 * Checks a username and password against a container registry's HTTP API v2 (the `docker login`
 * handshake: `GET /v2/`, then Basic auth or a Bearer token from the challenge's realm).
 *
 * It runs inside AWS Lambda, where the instance metadata service (169.254.169.254) and the VPC are
 * reachable, and the registry host is chosen by a customer: every host it contacts (the registry,
 * each redirect, the token realm) is resolved here, refused if any address is internal, and then
 * connected to by that vetted address only (threat: server-side request forgery, including DNS
 * rebinding between the check and the connection).
 */

import type { VerificationResult, VerificationStatus } from '../domain/verify-credential.ts'

/** One resolved address of a host name. */
export interface ResolvedAddress {
  address: string
  family: 4 | 6
}

/** How a verifier reaches registries. */
export interface RegistryVerifierOptions {
  /**
   * Allow `http://` registries, redirects and token realms. Only for the local stack and tests.
   * @default false
   */
  allowInsecureHttp?: boolean
  /**
   * Allow 127.0.0.0/8 and ::1. Only for the local stack and tests; every other internal range
   * stays refused.
   * @default false
   */
  allowLoopback?: boolean
  /**
   * One deadline for the whole verification, every hop included.
   * @default 5000
   */
  timeoutMs?: number
  /**
   * Largest response body read from any hop; a larger one fails the verification.
   * @default 65536
   */
  maxResponseBytes?: number
  /**
   * Resolves a host name to all its addresses.
   * @default `dns.lookup` with `all: true`
   */
  resolve?: (hostname: string) => Promise<ResolvedAddress[]>
  /**
   * Extra certificate authorities (PEM) to trust besides Node's bundled roots, e.g. for a local
   * stack's self-signed registry. Certificates are always verified; this only adds roots.
   * @default none
   */
  ca?: readonly string[]
}

/** What to verify. */
export interface VerifyRegistryCredentialInput {
  /** `host[:port]`, as in an image reference (`docker.io` is served by `registry-1.docker.io`). */
  registryHost: string
  username: string
  password: string
  /** @default 'https' */
  scheme?: 'https' | 'http'
}

const DEFAULT_TIMEOUT_MS = 5_000
const DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024
const MAX_REDIRECTS = 3
const USER_AGENT = 'registry-credentials-verifier/1'
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308])

/** a verification that ended early with a known result; thrown inside, returned outside. */
class VerificationFailure extends Error {
  constructor(
    readonly status: Exclude<VerificationStatus, 'ok'>,
    message: string,
  ) {
    super(message)
  }
}

/** a body larger than `maxResponseBytes`. */
class ResponseTooLargeError extends Error {}

// ranges no customer registry can legitimately live in. loopback is separate so that the local
// stack can opt in to it; everything else (metadata service, VPC, carrier NAT, multicast, ...)
// is refused everywhere (threat: SSRF into the Lambda's own network).
const INTERNAL_IPV4: [string, number][] = [
  ['0.0.0.0', 8], // "this network", includes the unspecified address
  ['10.0.0.0', 8], // private
  ['100.64.0.0', 10], // carrier-grade NAT
  ['169.254.0.0', 16], // link-local: the instance metadata service and the VPC DNS resolver
  ['172.16.0.0', 12], // private
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.0.2.0', 24], // documentation
  ['192.88.99.0', 24], // 6to4 relay anycast
  ['192.168.0.0', 16], // private
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24], // documentation
  ['203.0.113.0', 24], // documentation
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, includes the limited broadcast 255.255.255.255
]
const INTERNAL_IPV6: [string, number][] = [
  ['::', 96], // unspecified and the deprecated IPv4-compatible addresses (::1 is added below)
  ['::ffff:0:0:0', 96], // IPv4-translated (SIIT), e.g. ::ffff:0:a9fe:a9fe for 169.254.169.254
  ['100::', 64], // discard-only
  ['2001::', 23], // IETF protocol assignments, includes Teredo
  ['2001:db8::', 32], // documentation
  ['3fff::', 20], // documentation
  ['5f00::', 16], // segment routing
  ['64:ff9b:1::', 48], // local-use NAT64
  ['fc00::', 7], // unique local, includes the metadata service's fd00:ec2::254
  ['fe80::', 10], // link-local
  ['fec0::', 10], // deprecated site-local
  ['ff00::', 8], // multicast
]
const LOOPBACK: [string, number, 'ipv4' | 'ipv6'][] = [
  ['127.0.0.0', 8, 'ipv4'],
  ['::1', 128, 'ipv6'],
]

/** a predicate refusing internal addresses; IPv4 rules also match IPv4-mapped IPv6 addresses. */
function createAddressPolicy(allowLoopback: boolean): (address: ResolvedAddress) => boolean {
  const blocked = new BlockList()
  for (const [network, prefix] of INTERNAL_IPV4) blocked.addSubnet(network, prefix, 'ipv4')
  for (const [network, prefix] of INTERNAL_IPV6) blocked.addSubnet(network, prefix, 'ipv6')
  if (!allowLoopback) for (const [network, prefix, type] of LOOPBACK) blocked.addSubnet(network, prefix, type)

  return function isBlocked({ address, family }: ResolvedAddress): boolean {
    // BlockList answers false for a string it cannot parse, so anything that is not a valid
    // address of the stated family is refused here (fail closed)
    if (isIP(address) !== family) return true
    if (family === 4) return blocked.check(address, 'ipv4')
    if (blocked.check(address, 'ipv6')) return true
    // an IPv4 address carried inside NAT64 (64:ff9b::/96) or 6to4 (2002::/16) reaches that IPv4
    // address through a gateway, so it must pass the IPv4 rules too
    const embedded = embeddedIpv4(address)
    return embedded !== undefined && blocked.check(embedded, 'ipv4')
  }
}

/** the IPv4 address inside a NAT64 or 6to4 IPv6 address, if it is one. */
function embeddedIpv4(address: string): string | undefined {
  const bytes = ipv6Bytes(address)
  if (!bytes) return undefined
  const isNat64 = bytes[0] === 0x00 && bytes[1] === 0x64 && bytes[2] === 0xff && bytes[3] === 0x9b
  if (isNat64 && bytes.subarray(4, 12).every((byte) => byte === 0)) return bytes.subarray(12, 16).join('.')
  if (bytes[0] === 0x20 && bytes[1] === 0x02) return bytes.subarray(2, 6).join('.')
  return undefined
}

/** the 16 bytes of a textual IPv6 address (zone ids dropped), or undefined. */
function ipv6Bytes(address: string): Uint8Array | undefined {
  let text = address.split('%')[0] ?? ''
  const groups: number[] = []
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text)
  if (dotted) {
    const [a = 0, b = 0, c = 0, d = 0] = dotted.slice(1).map(Number)
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`
  }
  const [head = '', tail] = text.split('::')
  const parse = (part: string) =>
    part === '' ? [] : part.split(':').map((group) => Number.parseInt(group, 16))
  const headGroups = parse(head)
  const tailGroups = tail === undefined ? [] : parse(tail)
  const missing = 8 - headGroups.length - tailGroups.length
  if (tail === undefined ? missing !== 0 : missing < 0) return undefined
  groups.push(...headGroups, ...new Array<number>(missing).fill(0), ...tailGroups)
  if (groups.some((group) => Number.isNaN(group) || group < 0 || group > 0xffff)) return undefined
  const bytes = new Uint8Array(16)
  groups.forEach((group, index) => {
    bytes[index * 2] = group >> 8
    bytes[index * 2 + 1] = group & 0xff
  })
  return bytes
}

/** a challenge of a `WWW-Authenticate` header, scheme lower-cased. */
interface AuthChallenge {
  scheme: string
  params: Record<string, string>
}

const TOKEN_CHARS = /[!#$%&'*+.^_`|~0-9A-Za-z-]+/y

/** parses `WWW-Authenticate` values (RFC 9110 challenges, several per value allowed). */
function parseChallenges(values: readonly string[]): AuthChallenge[] {
  const challenges: AuthChallenge[] = []
  for (const value of values) {
    let current: AuthChallenge | undefined
    let index = 0
    const skip = (pattern: RegExp) => {
      while (index < value.length && pattern.test(value.charAt(index))) index++
    }
    while (index < value.length) {
      skip(/[\s,]/)
      TOKEN_CHARS.lastIndex = index
      const token = TOKEN_CHARS.exec(value)?.[0]
      if (!token) break
      index += token.length
      skip(/\s/)
      if (value.charAt(index) !== '=') {
        current = { scheme: token.toLowerCase(), params: {} }
        challenges.push(current)
        continue
      }
      index++
      skip(/\s/)
      let paramValue = ''
      if (value.charAt(index) === '"') {
        index++
        while (index < value.length && value.charAt(index) !== '"') {
          if (value.charAt(index) === '\\') index++
          paramValue += value.charAt(index)
          index++
        }
        index++
      } else {
        while (index < value.length && !/[\s,]/.test(value.charAt(index))) paramValue += value.charAt(index++)
      }
      if (current) current.params[token.toLowerCase()] = paramValue
    }
  }
  return challenges
}

/** a response read in full (up to the byte cap). */
interface RegistryResponse {
  status: number
  headers: http.IncomingHttpHeaders
  challenges: AuthChallenge[]
  body: Buffer
  /** the URL that answered, after redirects. */
  url: URL
}

/** one verification's connection rules and deadline. */
interface Session {
  signal: AbortSignal
  allowInsecureHttp: boolean
  maxResponseBytes: number
  resolve: (hostname: string) => Promise<ResolvedAddress[]>
  isBlocked: (address: ResolvedAddress) => boolean
  /** the trusted roots when extra ones were given; undefined keeps Node's default. */
  ca: string[] | undefined
}

/** rejects when the deadline passes first; dns.lookup itself cannot be cancelled. */
function beforeDeadline<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  signal.throwIfAborted()
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason)
    signal.addEventListener('abort', onAbort, { once: true })
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort)
        resolve(value)
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort)
        reject(error)
      },
    )
  })
}

/** the brackets-free host name of a URL. */
function urlHostname(url: URL): string {
  return url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname
}

/**
 * Resolves a URL's host and returns the one address to connect to, or fails when the scheme is
 * not allowed or any address is internal: one internal answer among public ones is enough to
 * refuse, since a resolver may hand out either.
 */
async function vetUrl(session: Session, url: URL, what: string): Promise<ResolvedAddress> {
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && session.allowInsecureHttp)) {
    throw new VerificationFailure('registry_error', `The ${what} does not use https, which is required`)
  }
  if (url.username !== '' || url.password !== '') {
    throw new VerificationFailure(
      'registry_error',
      `The ${what} URL carries credentials, which is not allowed`,
    )
  }
  const hostname = urlHostname(url)
  const literalFamily = isIP(hostname)
  let addresses: ResolvedAddress[]
  if (literalFamily === 4 || literalFamily === 6) {
    addresses = [{ address: hostname, family: literalFamily }]
  } else {
    try {
      addresses = await beforeDeadline(session.resolve(hostname), session.signal)
    } catch (error) {
      if (session.signal.aborted) throw error
      throw new VerificationFailure('dns', `The ${what} host ${hostname} could not be resolved`)
    }
  }
  const [first] = addresses
  if (!first) throw new VerificationFailure('dns', `The ${what} host ${hostname} could not be resolved`)
  if (addresses.some(session.isBlocked)) {
    throw new VerificationFailure(
      'blocked_address',
      `The ${what} host ${hostname} resolves to a private, loopback or reserved address, which is not allowed`,
    )
  }
  return first
}

/** one GET to a vetted address, body read up to the cap. Never follows redirects. */
function requestPinned(
  session: Session,
  url: URL,
  pinned: ResolvedAddress,
  headers: Record<string, string>,
): Promise<Omit<RegistryResponse, 'url'>> {
  // the connection goes to the address vetted above, whatever DNS says by now (threat: DNS
  // rebinding); TLS still verifies the certificate against the host name, sent as SNI and Host
  const lookup: LookupFunction = (_hostname, options, callback) => {
    if (options.all) callback(null, [pinned])
    else callback(null, pinned.address, pinned.family)
  }
  const client = url.protocol === 'https:' ? https : http
  // the deadline also bounds a body that stalls after its headers, whatever events the aborted
  // response does or does not emit
  return beforeDeadline(
    new Promise((resolve, reject) => {
      const request = client.request(
        {
          protocol: url.protocol,
          hostname: urlHostname(url),
          port: url.port === '' ? undefined : Number(url.port),
          path: `${url.pathname}${url.search}`,
          method: 'GET',
          headers: { 'user-agent': USER_AGENT, accept: 'application/json', ...headers },
          lookup,
          agent: false,
          signal: session.signal,
          ...(session.ca && url.protocol === 'https:' ? { ca: session.ca } : {}),
        },
        (response) => {
          const declared = Number(response.headers['content-length'])
          if (Number.isFinite(declared) && declared > session.maxResponseBytes) {
            response.destroy()
            reject(new ResponseTooLargeError())
            return
          }
          const chunks: Buffer[] = []
          let size = 0
          response.on('data', (chunk: Buffer) => {
            size += chunk.length
            if (size > session.maxResponseBytes) {
              response.destroy()
              reject(new ResponseTooLargeError())
              return
            }
            chunks.push(chunk)
          })
          response.on('error', reject)
          response.on('close', () => {
            if (!response.complete) reject(new Error('response closed before its end'))
          })
          response.on('end', () =>
            resolve({
              status: response.statusCode ?? 0,
              headers: response.headers,
              challenges: parseChallenges(response.headersDistinct['www-authenticate'] ?? []),
              body: Buffer.concat(chunks),
            }),
          )
        },
      )
      request.on('error', reject)
      request.end()
    }),
    session.signal,
  )
}

/**
 * GET with manual redirects: at most {@link MAX_REDIRECTS}, each hop vetted like the first, and
 * the Authorization header dropped when a hop leaves the origin (threat: a redirect handing the
 * customer's password or token to another host).
 */
async function getVetted(
  session: Session,
  start: URL,
  what: string,
  authorization?: string,
): Promise<RegistryResponse> {
  let url = start
  let origin = start.origin
  for (let hop = 0; ; hop++) {
    const pinned = await vetUrl(session, url, hop === 0 ? what : `${what} redirect`)
    const sameOrigin = url.origin === origin
    const headers: Record<string, string> = authorization && sameOrigin ? { authorization } : {}
    const response = await requestPinned(session, url, pinned, headers)
    const location = response.headers.location
    if (!REDIRECT_STATUSES.has(response.status) || location === undefined) return { ...response, url }
    if (hop >= MAX_REDIRECTS) {
      throw new VerificationFailure(
        'registry_error',
        `The ${what} redirected more than ${MAX_REDIRECTS} times`,
      )
    }
    try {
      url = new URL(location, url)
    } catch {
      throw new VerificationFailure('registry_error', `The ${what} redirected to an invalid URL`)
    }
    // once the origin changes, credentials stay dropped for the rest of the chain
    if (url.origin !== origin) origin = ''
  }
}

function basicAuthorization(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`
}

/** what an authenticated `GET /v2/` says about the credentials. */
function judgeAuthenticated(response: RegistryResponse, host: string): VerificationResult {
  if (response.status >= 200 && response.status < 300) {
    return { status: 'ok', message: `${host} accepted the credentials` }
  }
  if (response.status === 401 || response.status === 403) {
    return { status: 'auth_denied', message: `${host} rejected the username or password` }
  }
  return unexpectedStatus(response.status, host)
}

function unexpectedStatus(status: number, host: string): VerificationResult {
  if (status === 404) {
    return { status: 'not_found', message: `${host} does not serve the registry API v2 (404 on /v2/)` }
  }
  return { status: 'registry_error', message: `${host} answered with an unexpected status ${status}` }
}

/** exchanges the credentials for a token at the challenge's realm, then retries `/v2/` with it. */
async function verifyWithBearer(
  session: Session,
  v2: URL,
  host: string,
  challenge: AuthChallenge,
  input: VerifyRegistryCredentialInput,
): Promise<VerificationResult> {
  const { realm, service, scope } = challenge.params
  let tokenUrl: URL
  try {
    tokenUrl = new URL(realm ?? '')
  } catch {
    return { status: 'registry_error', message: `${host} sent a Bearer challenge without a valid realm` }
  }
  if (service) tokenUrl.searchParams.set('service', service)
  if (scope) tokenUrl.searchParams.set('scope', scope)
  tokenUrl.searchParams.set('account', input.username)

  const tokenResponse = await getVetted(
    session,
    tokenUrl,
    'token service',
    basicAuthorization(input.username, input.password),
  )
  if (tokenResponse.status === 401 || tokenResponse.status === 403) {
    return {
      status: 'auth_denied',
      message: `The token service of ${host} rejected the username or password`,
    }
  }
  if (tokenResponse.status !== 200) {
    return {
      status: 'registry_error',
      message: `The token service of ${host} answered with an unexpected status ${tokenResponse.status}`,
    }
  }
  const token = readToken(tokenResponse.body)
  if (!token) {
    return { status: 'registry_error', message: `The token service of ${host} returned no token` }
  }
  return judgeAuthenticated(await getVetted(session, v2, 'registry', `Bearer ${token}`), host)
}

/** `token` or `access_token` of a token response, or undefined. */
function readToken(body: Buffer): string | undefined {
  try {
    const parsed: unknown = JSON.parse(body.toString('utf8'))
    if (typeof parsed !== 'object' || parsed === null) return undefined
    const { token, access_token: accessToken } = parsed as Record<string, unknown>
    const value = typeof token === 'string' && token !== '' ? token : accessToken
    // the token goes into a header: anything but visible ASCII would be header injection
    return typeof value === 'string' && /^[\x21-\x7e]+$/.test(value) ? value : undefined
  } catch {
    return undefined
  }
}

const DNS_ERROR_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NONAME', 'ENODATA', 'ESERVFAIL'])

/** maps anything thrown during a verification to a result whose message is ours, never the error's. */
function toResult(error: unknown, signal: AbortSignal, host: string): VerificationResult {
  if (error instanceof VerificationFailure) return { status: error.status, message: error.message }
  if (signal.aborted) return { status: 'timeout', message: `${host} did not answer in time` }
  if (error instanceof ResponseTooLargeError) {
    return { status: 'registry_error', message: `A response from ${host} was larger than allowed` }
  }
  const code = (error as { code?: unknown } | null)?.code
  const text = typeof code === 'string' ? code : ''
  if (text === 'ETIMEDOUT') return { status: 'timeout', message: `${host} did not answer in time` }
  if (DNS_ERROR_CODES.has(text)) return { status: 'dns', message: `${host} could not be resolved` }
  if (/^ERR_(TLS|SSL)_|CERT|^EPROTO$|^HOSTNAME_MISMATCH$/.test(text)) {
    return { status: 'tls', message: `A secure connection to ${host} could not be established` }
  }
  if (text === 'ECONNREFUSED') return { status: 'registry_error', message: `${host} refused the connection` }
  return { status: 'registry_error', message: `${host} could not be reached or sent an invalid response` }
}

/** the default resolver: every address the system resolver knows, in its order. */
async function lookupAll(hostname: string): Promise<ResolvedAddress[]> {
  const addresses = await dnsLookup(hostname, { all: true, order: 'verbatim' })
  return addresses.map(({ address, family }) => ({ address, family: family === 6 ? 6 : 4 }))
}

/**
 * Checks registry credentials over the Registry HTTP API v2; the domain's `RegistryVerifier`,
 * plus the choice of scheme. Never throws: every failure is a {@link VerificationResult}.
 */
export interface HttpRegistryVerifier {
  verify(input: VerifyRegistryCredentialInput): Promise<VerificationResult>
}

/**
 * A verifier with the given connection rules. The defaults suit a deployed stage: https only,
 * no internal addresses, 5 s, 64 KiB.
 */
export function createRegistryVerifier(options: RegistryVerifierOptions = {}): HttpRegistryVerifier {
  const allowInsecureHttp = options.allowInsecureHttp ?? false
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS
  const maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES
  const resolve = options.resolve ?? lookupAll
  const isBlocked = createAddressPolicy(options.allowLoopback ?? false)
  // node's `ca` replaces the default roots, so the bundled ones are kept alongside the extra ones
  const ca = options.ca && options.ca.length > 0 ? [...rootCertificates, ...options.ca] : undefined

  async function run(session: Session, input: VerifyRegistryCredentialInput): Promise<VerificationResult> {
    const scheme = input.scheme ?? 'https'
    const parts = parseRegistryHost(input.registryHost)
    if (!parts) return { status: 'malformed', message: 'The registry host is not a valid host[:port]' }
    if (scheme !== 'https' && !(scheme === 'http' && allowInsecureHttp)) {
      return { status: 'malformed', message: 'Only https registries can be verified' }
    }
    if (input.username.includes(':')) {
      // Basic auth joins user and password with ':', so such a name cannot be sent unambiguously
      return { status: 'malformed', message: 'The username cannot contain ":"' }
    }
    const apiHost = registryApiHost(input.registryHost)
    const v2 = new URL(`${scheme}://${apiHost}/v2/`)
    const host = v2.host

    const anonymous = await getVetted(session, v2, 'registry')
    if (anonymous.status >= 200 && anonymous.status < 300) {
      // the registry needs no credentials: pulls will work with or without them
      return { status: 'ok', message: `${host} accepts requests without credentials` }
    }
    if (anonymous.status !== 401) return unexpectedStatus(anonymous.status, host)

    const bearer = anonymous.challenges.find((challenge) => challenge.scheme === 'bearer')
    if (bearer) return verifyWithBearer(session, v2, host, bearer, input)
    if (anonymous.challenges.some((challenge) => challenge.scheme === 'basic')) {
      const response = await getVetted(
        session,
        v2,
        'registry',
        basicAuthorization(input.username, input.password),
      )
      return judgeAuthenticated(response, host)
    }
    return { status: 'registry_error', message: `${host} asked for an unsupported kind of authentication` }
  }

  return {
    async verify(input) {
      const signal = AbortSignal.timeout(timeoutMs)
      const session: Session = { signal, allowInsecureHttp, maxResponseBytes, resolve, isBlocked, ca }
      let result: VerificationResult
      try {
        result = await run(session, input)
      } catch (error) {
        result = toResult(error, signal, input.registryHost)
      }
      return redactSecret(result, input.password)
    },
  }
}

/** a last guard: a message echoing a customer-supplied host could in theory contain the password. */
function redactSecret(result: VerificationResult, password: string): VerificationResult {
  if (password === '' || !result.message.includes(password)) return result
  return { status: result.status, message: result.message.split(password).join('[redacted]') }
}
