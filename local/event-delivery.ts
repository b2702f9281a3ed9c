/** An event as EventBridge hands it to a target (an API destination posts exactly this JSON). */
export interface BusEvent {
  version: '0'
  id: string
  'detail-type': string
  source: string
  account: string
  time: string
  region: string
  resources: string[]
  detail: Record<string, unknown>
}

/** Options of {@link createEventDelivery}. */
export interface EventDeliveryOptions {
  /** Where each event is POSTed, like an API destination; printed only when absent. */
  targetUrl?: string
  /**
   * How long a refused or failed POST is retried, with exponential backoff, before the event is
   * dropped (EventBridge retries an API destination for up to its retry policy's age).
   * @default 60_000
   */
  retryWindowMs?: number
  /** First backoff delay, doubled per attempt up to 10 s. @default 500 */
  firstRetryDelayMs?: number
  /** Where the one line per event goes. @default stdout */
  print?: (line: string) => void
}

/** Delivers accepted events; what the EventBridge stand-in hands each event to. */
export interface EventDelivery {
  deliver(event: BusEvent): void
  /** Resolves when every delivery in flight has been made or dropped. */
  idle(): Promise<void>
  /** Stops retrying; events still waiting are dropped (and printed as such). */
  close(): Promise<void>
}

// the one line printed per event: what happened to which credential of which company. The
// detail's other fields (names, usernames) stay out of the terminal and its scrollback.
function summary(event: BusEvent): string {
  const field = (name: string) => {
    const value = event.detail[name]
    return typeof value === 'string' ? value : '-'
  }
  return `${event['detail-type']} company ${field('company_id')} id ${field('id')}`
}

// an API destination retries throttling and server errors (and network failures); any other 4xx
// is the target refusing the event, which retrying cannot change.
function retryable(status: number): boolean {
  return status === 429 || status >= 500
}

/**
 * Prints one line per event (its detail type, company and id; nothing else of the detail) and,
 * when a target URL is set, POSTs the event to it as JSON, one event per request, retrying
 * throttling, server errors and network failures with exponential backoff until the retry window
 * has passed, then dropping it with a printed line.
 */
export function createEventDelivery({
  targetUrl,
  retryWindowMs = 60_000,
  firstRetryDelayMs = 500,
  print = (line) => process.stdout.write(`${line}\n`),
}: EventDeliveryOptions = {}): EventDelivery {
  const inFlight = new Set<Promise<void>>()
  const controller = new AbortController()

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms)
      controller.signal.addEventListener('abort', () => {
        clearTimeout(timer)
        resolve()
      })
    })

  async function post(url: string, event: BusEvent): Promise<void> {
    const startedAt = Date.now()
    const body = JSON.stringify(event)
    let delay = firstRetryDelayMs
    for (let attempt = 1; ; attempt += 1) {
      let outcome: string
      try {
        const response = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
          signal: controller.signal,
        })
        await response.arrayBuffer().catch(() => undefined)
        if (response.ok) return
        outcome = `HTTP ${response.status}`
        if (!retryable(response.status)) {
          print(`event ${event.id} (${summary(event)}) dropped: the target answered ${outcome}`)
          return
        }
      } catch (error) {
        outcome = (error as Error)?.name ?? 'network error'
      }
      if (controller.signal.aborted) {
        print(`event ${event.id} (${summary(event)}) dropped: the local stack stopped`)
        return
      }
      if (Date.now() - startedAt + delay > retryWindowMs) {
        print(`event ${event.id} (${summary(event)}) dropped after ${attempt} attempts: last ${outcome}`)
        return
      }
      await sleep(delay)
      delay = Math.min(delay * 2, 10_000)
    }
  }

  return {
    deliver(event) {
      print(`event ${summary(event)}`)
      if (targetUrl === undefined) return
      const delivery = post(targetUrl, event).finally(() => inFlight.delete(delivery))
      inFlight.add(delivery)
    },
    async idle() {
      while (inFlight.size > 0) await Promise.all(inFlight)
    },
    async close() {
      controller.abort()
      await this.idle()
    },
  }
}
