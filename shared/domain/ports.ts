import type { Actor, ChangeRecord } from './activity.ts'
import type { RegistryProvider } from './docker-registry.ts'

/** Who a secret belongs to; bound into its encryption so an envelope cannot be moved. */
export interface SecretContext {
  companyId: string
  credentialId: string
}

/** A secret sealed under a data key that only KMS can unwrap. Format version 1. */
export interface SealedSecret {
  version: 1
  /** ARN of the KMS key that wrapped the data key. */
  keyId: string
  encryptedKey: Uint8Array
  iv: Uint8Array
  tag: Uint8Array
  ciphertext: Uint8Array
}

/** Seals secrets for storage. Public functions get only this half. */
export interface SecretSealer {
  seal(plaintext: string, context: SecretContext): Promise<SealedSecret>
}

/** Opens sealed secrets. Only the internal functions (resolve, verify) are given one. */
export interface SecretOpener {
  open(sealed: SealedSecret, context: SecretContext): Promise<string>
}

/** A credential as stored: everything but the plaintext secret. */
export interface StoredCredential {
  companyId: string
  id: string
  name: string
  registry: RegistryProvider
  username: string
  createdAt: string
  updatedAt: string
  /** The registry host the secret is pinned to (`registry_host` at create), if any. */
  registryHost?: string
  /** Who created it (the API key), carried by its Created event. */
  createdBy?: Actor
  secret: SealedSecret
}

/** The fields an update may change, already sealed. */
export interface CredentialChanges {
  name?: string
  registry?: RegistryProvider
  username?: string
  secret?: SealedSecret
}

/** A credential without its envelope: what reads that never decrypt need. */
export type CredentialSummary = Omit<StoredCredential, 'secret' | 'createdBy'>

/** One page of a company's credentials, newest first. */
export interface CredentialPage {
  items: CredentialSummary[]
  total: number
}

/** Persistence of credentials, always scoped to one company. */
export interface CredentialStore {
  /** Stores a new credential; never overwrites. */
  create(credential: StoredCredential): Promise<void>
  /** The credential without its envelope, or undefined. */
  find(companyId: string, id: string): Promise<CredentialSummary | undefined>
  /** The credential with its envelope, or undefined (internal functions only). */
  findSealed(companyId: string, id: string): Promise<StoredCredential | undefined>
  list(companyId: string, page: { limit: number; offset: number }): Promise<CredentialPage>
  /**
   * Applies only the given fields, if the credential still has `expectedUpdatedAt`: false when
   * it does not exist, `ConcurrentUpdateError` when it changed since it was read.
   */
  update(
    companyId: string,
    id: string,
    changes: CredentialChanges,
    version: { updatedAt: string; expectedUpdatedAt: string },
    /** Who changed what, written with the change (its Updated event carries it). */
    change?: ChangeRecord,
  ): Promise<boolean>
  /** True when something was deleted. */
  delete(companyId: string, id: string): Promise<boolean>
}

/** The current time. */
export type Clock = () => Date

/** A new credential id (UUIDv7, so ids sort by creation time). */
export type IdGenerator = () => string

/** What makes two requests "the same" for an Idempotency-Key. */
export interface IdempotentRequest {
  companyId: string
  /** The client's Idempotency-Key. */
  key: string
  /** The parts of the request a retry must repeat; never a secret. */
  fingerprint: Record<string, unknown>
}

/**
 * Runs an operation once per company and Idempotency-Key: a retry gets the first result again,
 * a reuse with another fingerprint fails with `IdempotencyKeyReusedError`, and a retry while the
 * first is still running with `IdempotentRequestInProgressError`. A failed run is forgotten.
 */
export interface IdempotencyGuard {
  /**
   * @param remainingMs how long this invocation may still run: a run that dies before then (a
   *   timeout, a crash) stops blocking its key once that time has passed, not after the whole TTL
   */
  once<T>(request: IdempotentRequest, operation: () => Promise<T>, remainingMs: () => number): Promise<T>
}
