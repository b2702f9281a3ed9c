import * as v from 'valibot'
import type { CredentialVerifier } from './credential-verification.ts'
import type { RegistryProvider } from './docker-registry.ts'
import type { Clock } from './ports.ts'
import { credentialHost } from './registry-host.ts'

/**
 * The scheduled health checks: a run re-verifies every credential through the internal
 * verifier, at most `concurrency` at a time and at most `perHostPerSecond` checks per registry
 * host per second (a registry is never hammered by its own customers' credentials). A run is
 * resumable: it stops before its invocation's deadline and hands its cursor to a continuation,
 * and every credential it checks is marked with the run's id, so a run started again (a retry
 * after a timeout) skips what it already checked: nothing is checked twice in a run.
 */

/** What a run needs to know of a credential; never its envelope. */
export interface ScannedCredential {
  companyId: string
  id: string
  registry: RegistryProvider
  registryHost?: string
  /** The run that last verified it, if a scheduled one did. */
  lastRunId?: string
}

/** One page of every company's credentials. */
export interface ScannedPage {
  items: ScannedCredential[]
  /** Where the next page starts; absent after the last page. */
  cursor?: string
}

/** Reads every credential of every company, page by page. */
export interface CredentialScanner {
  /** Throws `InvalidInputError` for a cursor it did not make. */
  page(cursor: string | undefined, limit: number): Promise<ScannedPage>
}

/** Starts the rest of a run in a new invocation (asynchronously: the caller does not wait). */
export interface HealthRunContinuation {
  continueRun(event: HealthRunEvent): Promise<void>
}

/** Ports of {@link runHealthChecks}. */
export interface HealthCheckPorts {
  scanner: CredentialScanner
  verifier: CredentialVerifier
  continuation: HealthRunContinuation
  clock: Clock
  /** Waits; tests pass a fake clock's. */
  sleep: (ms: number) => Promise<void>
  /** What is left of this invocation, in ms. */
  remainingMs: () => number
}

/** How a run paces itself. */
export interface HealthRunSettings {
  /** Checks in flight at once. */
  concurrency: number
  /** Checks started per registry host per second, at most. */
  perHostPerSecond: number
  /** Credentials per scanned page. */
  pageSize: number
  /**
   * The run hands over to a continuation once less than this is left of the invocation: room for
   * a page of checks to finish (each bounded by the verifier's own deadline).
   */
  handOverBeforeMs: number
}

/** The event of a run: the Scheduler's (the run id is the scheduled time) or a continuation's. */
export const HealthRunEvent = v.strictObject({
  run_id: v.pipe(v.string(), v.regex(/^[\x21-\x7e]{1,64}$/, 'must be 1 to 64 visible ASCII characters')),
  cursor: v.optional(v.pipe(v.string(), v.maxLength(2048, 'is too long'))),
})
/** A run's event. */
export type HealthRunEvent = v.InferOutput<typeof HealthRunEvent>

/** What one invocation of a run did. */
export interface HealthRunSummary {
  runId: string
  /** Credentials verified in this invocation. */
  checked: number
  /** Already checked in this run (skipped), or with no host to check (unpinned custom and ecr). */
  skipped: number
  /** Checks the verifier could not make (not found meanwhile, dependencies down). */
  failed: number
  /** The first few of those, for the logs: ids and the error's name, never a message. */
  failures: { companyId: string; id: string; error: string }[]
  /** Whether the run is over; otherwise a continuation was started at `cursor`. */
  finished: boolean
  cursor?: string
}

const MAX_NAMED_FAILURES = 10

/** Spaces the checks of each host by 1/rate seconds: at most `rate` start in any second. */
function hostPacer(ports: Pick<HealthCheckPorts, 'clock' | 'sleep'>, perSecond: number) {
  const interval = 1000 / perSecond
  const nextSlot = new Map<string, number>()
  return async function pace(host: string): Promise<void> {
    const now = ports.clock().getTime()
    const slot = Math.max(now, nextSlot.get(host) ?? now)
    nextSlot.set(host, slot + interval)
    if (slot > now) await ports.sleep(slot - now)
  }
}

/** Runs `work` over `items` with at most `limit` in flight. */
async function inPool<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++] as T
      await work(item)
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
}

/**
 * One invocation of a health run: page after page, it verifies every credential not yet checked
 * in this run, and before its deadline hands the rest to a continuation. A page is finished
 * before its cursor is handed on, so a continuation never repeats or skips a credential.
 */
export async function runHealthChecks(
  ports: HealthCheckPorts,
  settings: HealthRunSettings,
  event: HealthRunEvent,
): Promise<HealthRunSummary> {
  const runId = event.run_id
  const pace = hostPacer(ports, settings.perHostPerSecond)
  const summary: HealthRunSummary = {
    runId,
    checked: 0,
    skipped: 0,
    failed: 0,
    failures: [],
    finished: false,
  }
  let cursor = event.cursor

  for (;;) {
    const page = await ports.scanner.page(cursor, settings.pageSize)
    const due = page.items.filter((item) => {
      const unverifiable = credentialHost(item.registry, item.registryHost) === undefined
      if (item.lastRunId === runId || unverifiable) summary.skipped++
      return item.lastRunId !== runId && !unverifiable
    })
    await inPool(due, settings.concurrency, async (item) => {
      await pace(credentialHost(item.registry, item.registryHost) as string)
      try {
        await ports.verifier.verify({ companyId: item.companyId, credentialId: item.id, runId })
        summary.checked++
      } catch (error) {
        // one credential's failure (deleted meanwhile, KMS throttled, a verifier bug) never stops
        // the run: it is counted and named for the logs, and the next run checks it again
        summary.failed++
        if (summary.failures.length < MAX_NAMED_FAILURES) {
          summary.failures.push({
            companyId: item.companyId,
            id: item.id,
            error: error instanceof Error ? error.name : 'UnknownError',
          })
        }
      }
    })
    cursor = page.cursor
    if (cursor === undefined) return { ...summary, finished: true }
    if (ports.remainingMs() < settings.handOverBeforeMs) {
      await ports.continuation.continueRun({ run_id: runId, cursor })
      return { ...summary, cursor }
    }
  }
}
