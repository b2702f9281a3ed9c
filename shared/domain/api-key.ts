import { createHash, randomBytes } from 'node:crypto'
import { AuthenticationError } from './errors.ts'
import type { Clock } from './ports.ts'

/** What an API key may do. */
export const PERMISSIONS = ['docker_registries:read', 'docker_registries:write'] as const

/** One permission. */
export type Permission = (typeof PERMISSIONS)[number]

/** Every key starts with this, so leaked keys are recognisable (secret scanners, log reviews). */
export const API_KEY_PREFIX = 'rcs_'

const API_KEY_PATTERN = /^rcs_[A-Za-z0-9_-]{43}$/

/** An API key as stored: only the SHA-256 of the key, never the key. */
export interface ApiKeyRecord {
  /** SHA-256 of the raw key, hex; also the key's public id. */
  hash: string
  companyId: string
  name: string
  permissions: Permission[]
  enabled: boolean
  /** ISO 8601; absent when the key does not expire. */
  expiresAt?: string
  createdAt: string
}

/** Who is calling, once their key checks out. */
export interface Caller {
  companyId: string
  permissions: readonly Permission[]
  /** The key's public id (its hash), for audit logs. */
  keyId: string
  /** The key's name, for audit records and change events (never the key). */
  keyName: string
}

/** Reads key records by hash. */
export interface ApiKeyLookup {
  find(hash: string): Promise<ApiKeyRecord | undefined>
}

/** Persistence of API keys, for the operator command. */
export interface ApiKeyStore extends ApiKeyLookup {
  create(record: ApiKeyRecord): Promise<void>
  list(companyId?: string): Promise<ApiKeyRecord[]>
  /** Disables a key; false when there is no such key. */
  revoke(hash: string): Promise<boolean>
}

/** SHA-256 hex of a raw key. A 256-bit random key needs no salt or slow hash. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex')
}

/** A new random 256-bit key with its hash. The raw key is shown once and never stored. */
export function generateApiKey(): { key: string; hash: string } {
  const key = `${API_KEY_PREFIX}${randomBytes(32).toString('base64url')}`
  return { key, hash: hashApiKey(key) }
}

/** Whether a string has the shape of one of our keys (checked before any lookup). */
export function isWellFormedApiKey(key: string): boolean {
  return API_KEY_PATTERN.test(key)
}

/** The permissions a new key gets. */
export function permissionsFor({ readOnly }: { readOnly: boolean }): Permission[] {
  return readOnly ? ['docker_registries:read'] : ['docker_registries:read', 'docker_registries:write']
}

/**
 * Resolves a raw key to its caller, or throws {@link AuthenticationError}: malformed, unknown,
 * disabled or expired keys are all refused. Expiry is checked against the clock on every call.
 */
export async function authenticateApiKey(lookup: ApiKeyLookup, clock: Clock, key: string): Promise<Caller> {
  if (!isWellFormedApiKey(key)) throw new AuthenticationError('malformed')
  const hash = hashApiKey(key)
  const record = await lookup.find(hash)
  if (!record) throw new AuthenticationError('unknown')
  if (!record.enabled) throw new AuthenticationError('disabled')
  // written so that an unreadable expiry (NaN) counts as expired, never as "no expiry"
  if (record.expiresAt !== undefined && !(Date.parse(record.expiresAt) > clock().getTime())) {
    throw new AuthenticationError('expired')
  }
  // a company is one partition whatever case its id was minted in (resolve and the ExternalId
  // read it lower-case too): a key minted as 6F1C… must not write where nothing can find it
  return {
    companyId: record.companyId.toLowerCase(),
    permissions: record.permissions,
    keyId: hash,
    keyName: record.name,
  }
}
