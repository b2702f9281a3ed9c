import { describe, expect, it } from 'vitest'
import type { CredentialVerificationRequest } from '../../shared/domain/credential-verification.ts'
import { DependencyUnavailableError } from '../../shared/domain/errors.ts'
import {
  type HealthRunEvent,
  type HealthRunSettings,
  runHealthChecks,
  type ScannedCredential,
} from '../../shared/domain/health-check-run.ts'
import { FakeClock } from '../support/fake-clock.ts'

const RUN = '2026-12-01T03:00:00Z'
const SETTINGS: HealthRunSettings = { concurrency: 4, perHostPerSecond: 2, pageSize: 3, handOverBeforeMs: 0 }

const credential = (n: number, host = 'registry.example.com'): ScannedCredential => ({
  companyId: `0195f1f6-8f5e-7000-8000-00000000000${n % 10}`,
  id: `019ac6a2-5225-723e-86b1-${String(n).padStart(12, '0')}`,
  registry: 'custom',
  registryHost: host,
})

/** a table of credentials, a verifier that marks them with the run id, and what it saw. */
function fixture(
  credentials: ScannedCredential[],
  options: { verifyMs?: number; fail?: (request: CredentialVerificationRequest) => Error | undefined } = {},
) {
  const clock = new FakeClock()
  const calls: { id: string; host: string | undefined; at: number }[] = []
  const continuations: HealthRunEvent[] = []
  let inFlight = 0
  let maxInFlight = 0
  let deadline = Number.POSITIVE_INFINITY
  const ports = {
    clock: clock.now,
    sleep: clock.sleep,
    remainingMs: () => deadline - clock.time,
    scanner: {
      async page(cursor: string | undefined, limit: number) {
        const start = cursor === undefined ? 0 : Number(cursor)
        const items = credentials.slice(start, start + limit).map((item) => ({ ...item }))
        const end = start + items.length
        return end < credentials.length ? { items, cursor: String(end) } : { items }
      },
    },
    verifier: {
      async verify(request: CredentialVerificationRequest) {
        const stored = credentials.find((item) => item.id === request.credentialId)
        calls.push({ id: request.credentialId, host: stored?.registryHost, at: clock.time })
        inFlight++
        maxInFlight = Math.max(maxInFlight, inFlight)
        try {
          if (options.verifyMs) await clock.sleep(options.verifyMs)
          const error = options.fail?.(request)
          if (error) throw error
          if (stored && request.runId) stored.lastRunId = request.runId
        } finally {
          inFlight--
        }
        return {} as never
      },
    },
    continuation: {
      async continueRun(event: HealthRunEvent) {
        continuations.push(event)
      },
    },
  }
  return {
    clock,
    calls,
    continuations,
    ports,
    maxInFlight: () => maxInFlight,
    setDeadline: (ms: number) => {
      deadline = clock.time + ms
    },
    run: (settings: HealthRunSettings, event: HealthRunEvent = { run_id: RUN }) =>
      clock.run(runHealthChecks(ports, settings, event)),
  }
}

describe('runHealthChecks', () => {
  it('verifies every credential once, across pages, with the run id', async () => {
    const credentials = Array.from({ length: 7 }, (_, n) => credential(n, `host-${n}.example.com`))
    const run = fixture(credentials)

    const summary = await run.run(SETTINGS)

    expect(summary).toMatchObject({ runId: RUN, checked: 7, skipped: 0, failed: 0, finished: true })
    expect(run.calls.map((call) => call.id).sort()).toEqual(credentials.map((item) => item.id).sort())
    expect(credentials.every((item) => item.lastRunId === RUN)).toBe(true)
  })

  it('skips a credential with no host to check (an unpinned custom one)', async () => {
    const { registryHost: _, ...unpinned } = credential(1)
    const run = fixture([unpinned, credential(2)])

    const summary = await run.run(SETTINGS)

    expect(summary).toMatchObject({ checked: 1, skipped: 1 })
    expect(run.calls.map((call) => call.id)).toEqual([credential(2).id])
  })

  it('starts at most perHostPerSecond checks of one host in any second', async () => {
    const run = fixture(Array.from({ length: 6 }, (_, n) => credential(n)))

    await run.run({ ...SETTINGS, perHostPerSecond: 2, pageSize: 10 })

    const start = run.calls[0]?.at ?? 0
    const times = run.calls.map((call) => call.at - start)
    expect(times).toEqual([0, 500, 1000, 1500, 2000, 2500])
    for (const from of times) {
      expect(times.filter((time) => time >= from && time < from + 1000).length).toBeLessThanOrEqual(2)
    }
  })

  it('paces each host on its own: another host does not wait', async () => {
    const run = fixture([
      credential(1, 'a.example.com'),
      credential(2, 'a.example.com'),
      credential(3, 'b.example.com'),
    ])

    await run.run({ ...SETTINGS, perHostPerSecond: 1, pageSize: 10 })

    const at = (id: string) => run.calls.find((call) => call.id === id)?.at ?? Number.NaN
    const start = at(credential(1).id)
    expect(at(credential(3).id) - start).toBe(0)
    expect(at(credential(2).id) - start).toBe(1000)
  })

  it('keeps at most `concurrency` checks in flight', async () => {
    const credentials = Array.from({ length: 10 }, (_, n) => credential(n, `host-${n}.example.com`))
    const run = fixture(credentials, { verifyMs: 1000 })

    const summary = await run.run({ ...SETTINGS, concurrency: 3, pageSize: 10 })

    expect(summary.checked).toBe(10)
    expect(run.maxInFlight()).toBe(3)
  })

  it('hands over before its deadline, and the continuation checks the rest, nothing twice', async () => {
    const credentials = Array.from({ length: 9 }, (_, n) => credential(n, `host-${n}.example.com`))
    const run = fixture(credentials, { verifyMs: 1000 })
    const settings = { ...SETTINGS, concurrency: 3, pageSize: 3, handOverBeforeMs: 1500 }
    run.setDeadline(3000)

    const first = await run.run(settings)
    const [continuation] = run.continuations
    run.setDeadline(60_000)
    const second = await run.run(settings, continuation)

    expect(first).toMatchObject({ finished: false, checked: 6, cursor: '6' })
    expect(continuation).toEqual({ run_id: RUN, cursor: '6' })
    expect(second).toMatchObject({ finished: true, checked: 3 })
    const ids = run.calls.map((call) => call.id)
    expect(new Set(ids).size).toBe(9)
    expect(ids).toHaveLength(9)
  })

  it('started again after a timeout, skips what it already checked in this run', async () => {
    const credentials = Array.from({ length: 4 }, (_, n) => credential(n, `host-${n}.example.com`))
    // the invocation that timed out had verified the first two
    const [first, second, third, fourth] = credentials as [
      ScannedCredential,
      ScannedCredential,
      ScannedCredential,
      ScannedCredential,
    ]
    first.lastRunId = RUN
    second.lastRunId = RUN
    third.lastRunId = 'an earlier run'
    const run = fixture(credentials)

    const summary = await run.run(SETTINGS)

    expect(summary).toMatchObject({ checked: 2, skipped: 2, finished: true })
    expect(run.calls.map((call) => call.id)).toEqual([third.id, fourth.id])
  })

  it('counts a failed check and goes on with the run', async () => {
    const credentials = [credential(1, 'a.example.com'), credential(2, 'b.example.com')]
    const run = fixture(credentials, {
      fail: (request) =>
        request.credentialId === credential(1).id ? new DependencyUnavailableError('KMS', 1) : undefined,
    })

    const summary = await run.run(SETTINGS)

    expect(summary).toMatchObject({ checked: 1, failed: 1, finished: true })
    expect(summary.failures).toEqual([
      { companyId: credential(1).companyId, id: credential(1).id, error: 'DependencyUnavailableError' },
    ])
  })
})
