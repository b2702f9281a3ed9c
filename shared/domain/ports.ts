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

/**
 * How long the invocation may still wait for a write: a store sends no write it could not see
 * answered (or time out) before then, so nothing it sends can commit after the function answered.
 */
export interface WriteOptions {
  remainingMs?: () => number
}

/** An `Idempotency-Key` a create claims, in the same transaction as the credential it creates. */
export interface IdempotencyClaim {
  /** The client's Idempotency-Key. */
  key: string
  /** The parts of the request a retry must repeat; never a secret. */
  fingerprint: Record<string, unknown>
}

/** Options of {@link CredentialStore.create}. */
export interface CreateOptions extends WriteOptions {
  /** Most credentials the company may hold; `CredentialLimitReachedError` when it holds that many. */
  limit: number
  /** Remembers the answer for this key for 24 hours, in the same transaction. */
  idempotency?: IdempotencyClaim
}

/** Persistence of credentials, always scoped to one company. */
export interface CredentialStore {
  /**
   * Stores a new credential, the company's count and (given a claim) the Idempotency-Key's record
   * in one transaction, never overwriting. Answers what the request stands for: the credential
   * written, or the one a concurrent request with the same key and request already stored;
   * `IdempotencyKeyReusedError` when that key stands for another request.
   */
  create(credential: StoredCredential, options: CreateOptions): Promise<CredentialSummary>
  /**
   * What an Idempotency-Key already stands for: the credential to answer again, `mismatch` when
   * it was used with another request, or undefined when it is unused (or expired).
   */
  findIdempotent(
    companyId: string,
    claim: IdempotencyClaim,
  ): Promise<CredentialSummary | 'mismatch' | undefined>
  /** The credential without its envelope, or undefined. */
  find(companyId: string, id: string): Promise<CredentialSummary | undefined>
  /** The credential with its envelope, or undefined (internal functions only). */
  findSealed(companyId: string, id: string): Promise<StoredCredential | undefined>
  /** One page, newest first, and the company's exact total. */
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
    options?: WriteOptions,
    /** Who changed what, written with the change (its Updated event carries it). */
    change?: ChangeRecord,
  ): Promise<boolean>
  /** Deletes the credential and counts it out, in one transaction; true when something was deleted. */
  delete(
    companyId: string,
    id: string,
    options?: WriteOptions,
    /** Who deletes it: its activity record is written in the same transaction. */
    actor?: Actor,
  ): Promise<boolean>
}

/** The current time. */
export type Clock = () => Date

/** A new credential id (UUIDv7, so ids sort by creation time). */
export type IdGenerator = () => string
