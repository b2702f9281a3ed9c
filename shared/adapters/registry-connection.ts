import { lookup as dnsLookup } from 'node:dns/promises'
import http from 'node:http'
import https from 'node:https'
import { isIP, type LookupFunction } from 'node:net'
import { rootCertificates } from 'node:tls'
import type { VerificationResult, VerificationStatus } from '../domain/verify-credential.ts'
import { createAddressPolicy, type ResolvedAddress } from './registry-address-policy.ts'

/**
 * The one way this service reaches a customer's registry: every host it contacts (the registry,
 * each redirect, a token realm, a blob's storage) is resolved here, refused if any address is
 * internal, and then connected to by that vetted address only (threat: server-side request
 * forgery, including DNS rebinding between the check and the connection). One deadline covers a
 * whole check, every hop included, and every body is capped. Verify, the scheduled health checks
 * and anything else that talks to a registry go through {@link createRegistryConnection}.
 */

export type { ResolvedAddress } from './registry-address-policy.ts'

/** How registries are reached. The defaults suit a deployed stage. */
export interface RegistryConnectionOptions {
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
   * One deadline for a whole check, every hop included.
   * @default 5000
   */
  timeoutMs?: number
  /**
   * Largest response body read from any hop; a larger one fails the check.
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

/** A check's outcome other than success, known before the check's end. */
export type RegistryFailureStatus = Exclude<VerificationStatus, 'ok' | 'anonymous'>

/** A check that ended early with a known result; thrown inside a check, returned outside. */
export class RegistryCheckFailure extends Error {
  override readonly name = 'RegistryCheckFailure'
  constructor(
    readonly status: RegistryFailureStatus,
    message: string,
  ) {
    super(message)
  }
}

/** One request of a check. */
export interface RegistryRequest {
  /** What is asked, for messages: `registry`, `token service`, … */
  what: string
  /** @default 'GET' */
  method?: 'GET' | 'HEAD'
  /** Sent to the first origin only: dropped once a redirect leaves it. */
  authorization?: string
  /** @default 'application/json' */
  accept?: string
}

/** A response read in full (up to the byte cap). */
export interface RegistryResponse {
  status: number
  headers: http.IncomingHttpHeaders
  /** Every `WWW-Authenticate` value, as sent. */
  authenticate: string[]
  body: Buffer
  /** The URL that answered, after redirects. */
  url: URL
}

/** The requests of one check, all under its deadline. */
export interface RegistrySession {
  /** Whether plain http may be used (the local stack only). */
  readonly allowInsecureHttp: boolean
  /** A request with vetted, pinned connections and manually followed, re-vetted redirects. */
  request(url: URL, request: RegistryRequest): Promise<RegistryResponse>
}

/** Runs registry checks under the connection rules. */
export interface RegistryConnection {
  /** Whether plain http may be used (the local stack only). */
  readonly allowInsecureHttp: boolean
  /**
   * Runs one check under one deadline. Never throws: a {@link RegistryCheckFailure}, the
   * deadline, DNS, TLS and socket errors become results whose messages are ours, never the
   * error's. `host` names the registry in those messages.
   */
  check(
    host: string,
    run: (session: RegistrySession) => Promise<VerificationResult>,
  ): Promise<VerificationResult>
}

const DEFAULT_TIMEOUT_MS = 5_000
const DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024
const MAX_REDIRECTS = 3
const USER_AGENT = 'registry-credentials-verifier/1'
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308])

/** a body larger than `maxResponseBytes`. */
class ResponseTooLargeError extends Error {}

/** one check's connection rules and deadline. */
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
    throw new RegistryCheckFailure('registry_error', `The ${what} does not use https, which is required`)
  }
  if (url.username !== '' || url.password !== '') {
    throw new RegistryCheckFailure(
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
      throw new RegistryCheckFailure('dns', `The ${what} host ${hostname} could not be resolved`)
    }
  }
  const [first] = addresses
  if (!first) throw new RegistryCheckFailure('dns', `The ${what} host ${hostname} could not be resolved`)
  if (addresses.some(session.isBlocked)) {
    throw new RegistryCheckFailure(
      'blocked_address',
      `The ${what} host ${hostname} resolves to a private, loopback or reserved address, which is not allowed`,
    )
  }
  return first
}

/** one request to a vetted address, body read up to the cap. Never follows redirects. */
function requestPinned(
  session: Session,
  url: URL,
  pinned: ResolvedAddress,
  method: 'GET' | 'HEAD',
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
          method,
          headers: { 'user-agent': USER_AGENT, accept: 'application/json', ...headers },
          lookup,
          agent: false,
          signal: session.signal,
          ...(session.ca && url.protocol === 'https:' ? { ca: session.ca } : {}),
        },
        (response) => {
          const declared = Number(response.headers['content-length'])
          // a HEAD answer declares the length of the body it does not send
          if (method === 'GET' && Number.isFinite(declared) && declared > session.maxResponseBytes) {
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
              authenticate: response.headersDistinct['www-authenticate'] ?? [],
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
 * A request with manual redirects: at most {@link MAX_REDIRECTS}, each hop vetted like the
 * first, and the Authorization header dropped when a hop leaves the origin (threat: a redirect
 * handing the customer's password or token to another host).
 */
async function requestVetted(
  session: Session,
  start: URL,
  request: RegistryRequest,
): Promise<RegistryResponse> {
  const { what, authorization } = request
  let url = start
  let origin = start.origin
  for (let hop = 0; ; hop++) {
    const pinned = await vetUrl(session, url, hop === 0 ? what : `${what} redirect`)
    const sameOrigin = url.origin === origin
    const headers: Record<string, string> = authorization && sameOrigin ? { authorization } : {}
    if (request.accept) headers.accept = request.accept
    const response = await requestPinned(session, url, pinned, request.method ?? 'GET', headers)
    const location = response.headers.location
    if (!REDIRECT_STATUSES.has(response.status) || location === undefined) return { ...response, url }
    if (hop >= MAX_REDIRECTS) {
      throw new RegistryCheckFailure(
        'registry_error',
        `The ${what} redirected more than ${MAX_REDIRECTS} times`,
      )
    }
    try {
      url = new URL(location, url)
    } catch {
      throw new RegistryCheckFailure('registry_error', `The ${what} redirected to an invalid URL`)
    }
    // once the origin changes, credentials stay dropped for the rest of the chain
    if (url.origin !== origin) origin = ''
  }
}

const DNS_ERROR_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NONAME', 'ENODATA', 'ESERVFAIL'])

/** maps anything thrown during a check to a result whose message is ours, never the error's. */
function toResult(error: unknown, signal: AbortSignal, host: string): VerificationResult {
  if (error instanceof RegistryCheckFailure) return { status: error.status, message: error.message }
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
 * A connection with the given rules. The defaults suit a deployed stage: https only, no internal
 * addresses, 5 s per check, 64 KiB per body.
 */
export function createRegistryConnection(options: RegistryConnectionOptions = {}): RegistryConnection {
  const allowInsecureHttp = options.allowInsecureHttp ?? false
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS
  const maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES
  const resolve = options.resolve ?? lookupAll
  const isBlocked = createAddressPolicy(options.allowLoopback ?? false)
  // node's `ca` replaces the default roots, so the bundled ones are kept alongside the extra ones
  const ca = options.ca && options.ca.length > 0 ? [...rootCertificates, ...options.ca] : undefined

  return {
    allowInsecureHttp,
    async check(host, run) {
      const signal = AbortSignal.timeout(timeoutMs)
      const session: Session = { signal, allowInsecureHttp, maxResponseBytes, resolve, isBlocked, ca }
      try {
        return await run({
          allowInsecureHttp,
          request: (url, request) => requestVetted(session, url, request),
        })
      } catch (error) {
        return toResult(error, signal, host)
      }
    },
  }
}
