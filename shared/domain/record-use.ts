import type { CredentialHealthStore } from './credential-health.ts'
import type { Clock } from './ports.ts'
import {
  invocationIds,
  type ResolveCredentialPorts,
  type ResolveCredentialResult,
  resolveCredential,
} from './resolve-credential.ts'

/**
 * Where a credential is used: a successful resolve stamps the credential's `last_used_at` and the
 * image's registry host, at most once per credential per {@link USE_STAMP_INTERVAL_MS}. A stamp
 * must never fail or slow a resolve (the deploy is what matters), so it starts only once the
 * answer is computed, is awaited for at most {@link USE_STAMP_WAIT_MS} (long enough for a healthy
 * DynamoDB write to finish before Lambda freezes the sandbox, which would otherwise hold an
 * unawaited write until the next invocation thaws it), and any failure is only logged.
 */

/** A credential's last use is stamped at most this often. */
export const USE_STAMP_INTERVAL_MS = 10 * 60_000

/** The longest a resolve waits for its stamp before answering anyway. */
export const USE_STAMP_WAIT_MS = 200

/** Most credentials a container remembers having stamped (then it forgets the oldest). */
const REMEMBERED_STAMPS = 1_000

/** Ports of {@link resolveAndRecordUse}. */
export interface ResolveAndRecordUsePorts extends ResolveCredentialPorts {
  usage: Pick<CredentialHealthStore, 'recordUse'>
  clock: Clock
  /** Told about a stamp that failed or did not finish in time; never rethrows. */
  onStampFailure: (reason: 'failed' | 'late', error?: unknown) => void
}

/**
 * A resolve that records its use. Credentials stamped by this container within the interval are
 * not written again (`stamped` remembers them); across containers the write's condition keeps it
 * to one stamp per interval.
 */
export function createResolveAndRecordUse(ports: ResolveAndRecordUsePorts) {
  const stamped = new Map<string, number>()

  async function stamp(event: unknown, registryHost: string): Promise<void> {
    const { company_id: companyId, docker_registry_credential_id: id } = invocationIds(event)
    if (!companyId || !id) return
    const key = `${companyId}/${id.toLowerCase()}`
    const now = ports.clock().getTime()
    const last = stamped.get(key)
    if (last !== undefined && now - last < USE_STAMP_INTERVAL_MS) return
    stamped.delete(key)
    stamped.set(key, now)
    if (stamped.size > REMEMBERED_STAMPS) stamped.delete(stamped.keys().next().value as string)

    const write = ports.usage
      .recordUse(
        companyId,
        id.toLowerCase(),
        { usedAt: new Date(now).toISOString(), imageHost: registryHost },
        new Date(now - USE_STAMP_INTERVAL_MS).toISOString(),
      )
      .then(
        () => 'done' as const,
        (error: unknown) => {
          // forget it, so the next resolve tries again
          stamped.delete(key)
          ports.onStampFailure('failed', error)
          return 'done' as const
        },
      )
    let timer: NodeJS.Timeout | undefined
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), USE_STAMP_WAIT_MS)
      timer.unref()
    })
    const outcome = await Promise.race([write, late])
    clearTimeout(timer)
    if (outcome === 'late') ports.onStampFailure('late')
  }

  return async function resolveAndRecordUse(event: unknown): Promise<ResolveCredentialResult> {
    const result = await resolveCredential(ports, event)
    if (result.ok) await stamp(event, result.registry_host)
    return result
  }
}
