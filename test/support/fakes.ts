import {
  ConcurrentUpdateError,
  CredentialLimitReachedError,
  IdempotencyKeyReusedError,
} from '../../shared/domain/errors.ts'
import type {
  CreateOptions,
  CredentialChanges,
  CredentialPage,
  CredentialStore,
  CredentialSummary,
  IdempotencyClaim,
  SealedSecret,
  SecretContext,
  SecretSealer,
  StoredCredential,
} from '../../shared/domain/ports.ts'

/** An in-memory credential store with the DynamoDB store's semantics (limit, idempotency records). */
export class InMemoryCredentialStore implements CredentialStore {
  readonly items = new Map<string, StoredCredential>()
  readonly claims = new Map<string, { fingerprint: string; credential: CredentialSummary }>()
  private key = (companyId: string, id: string) => `${companyId}/${id}`

  async create(credential: StoredCredential, options: CreateOptions): Promise<CredentialSummary> {
    const key = this.key(credential.companyId, credential.id)
    if (this.items.has(key)) throw new Error('exists')
    const { secret: _, ...summary } = credential
    if (options.idempotency) {
      const claimed = await this.findIdempotent(credential.companyId, options.idempotency)
      if (claimed === 'mismatch') throw new IdempotencyKeyReusedError()
      if (claimed) return claimed
    }
    const held = [...this.items.values()].filter((item) => item.companyId === credential.companyId).length
    if (held >= options.limit) throw new CredentialLimitReachedError(options.limit)
    this.items.set(key, structuredClone(credential))
    if (options.idempotency) {
      this.claims.set(`${credential.companyId}/${options.idempotency.key}`, {
        fingerprint: JSON.stringify(options.idempotency.fingerprint),
        credential: summary,
      })
    }
    return summary
  }

  async findIdempotent(companyId: string, claim: IdempotencyClaim) {
    const stored = this.claims.get(`${companyId}/${claim.key}`)
    if (!stored) return undefined
    return stored.fingerprint === JSON.stringify(claim.fingerprint) ? stored.credential : 'mismatch'
  }

  async find(companyId: string, id: string): Promise<CredentialSummary | undefined> {
    const item = this.items.get(this.key(companyId, id))
    if (!item) return undefined
    const { secret: _, ...summary } = item
    return summary
  }

  async findSealed(companyId: string, id: string): Promise<StoredCredential | undefined> {
    return this.items.get(this.key(companyId, id))
  }

  async list(
    companyId: string,
    { limit, offset }: { limit: number; offset: number },
  ): Promise<CredentialPage> {
    const mine = [...this.items.values()]
      .filter((item) => item.companyId === companyId)
      .sort((a, b) => b.id.localeCompare(a.id))
      .map(({ secret: _, ...summary }) => summary)
    return { items: mine.slice(offset, offset + limit), total: mine.length }
  }

  async update(
    companyId: string,
    id: string,
    changes: CredentialChanges,
    { updatedAt, expectedUpdatedAt }: { updatedAt: string; expectedUpdatedAt: string },
  ) {
    const item = this.items.get(this.key(companyId, id))
    if (!item) return false
    if (item.updatedAt !== expectedUpdatedAt) throw new ConcurrentUpdateError()
    Object.assign(
      item,
      Object.fromEntries(Object.entries(changes).filter(([, value]) => value !== undefined)),
      {
        updatedAt,
      },
    )
    return true
  }

  async delete(companyId: string, id: string): Promise<boolean> {
    return this.items.delete(this.key(companyId, id))
  }
}

/** A sealer that records what it sealed and produces a recognisable, fake envelope. */
export class RecordingSealer implements SecretSealer {
  readonly sealed: { plaintext: string; context: SecretContext }[] = []
  failWith: Error | undefined

  async seal(plaintext: string, context: SecretContext): Promise<SealedSecret> {
    if (this.failWith) throw this.failWith
    this.sealed.push({ plaintext, context })
    const n = this.sealed.length
    return {
      version: 1,
      keyId: 'arn:aws:kms:us-east-1:000000000000:key/fake',
      encryptedKey: new Uint8Array([n]),
      iv: new Uint8Array(12),
      tag: new Uint8Array(16),
      ciphertext: new Uint8Array([n, n]),
    }
  }
}

/** A clock that only moves when told to. */
export function fixedClock(start = '2026-01-02T03:04:05.678Z') {
  let now = new Date(start)
  const clock = () => new Date(now)
  clock.advance = (ms: number) => {
    now = new Date(now.getTime() + ms)
  }
  return clock
}

/** Ids in creation order, UUIDv7-shaped. */
export function sequentialIds() {
  let n = 0
  return () => {
    n += 1
    return `0195f1f6-8f5e-7000-8000-${String(n).padStart(12, '0')}`
  }
}
