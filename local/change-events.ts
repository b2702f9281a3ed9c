import { createEventDelivery, type EventDelivery } from './event-delivery.ts'
import { type EventBridgeEmulator, startEventBridgeEmulator } from './eventbridge-emulator.ts'

/** The local change-event bus, which the publisher's `EVENT_BUS_NAME` names. */
export const LOCAL_EVENT_BUS_NAME = 'registry-credentials-local'

/** Options of {@link startChangeEventBus}. */
export interface ChangeEventBusOptions {
  host: string
  region: string
  /** Where each event is POSTed (`LOCAL_EVENT_TARGET_URL`); printed only when absent. */
  eventTargetUrl?: string
  /** How long a failing POST is retried before the event is dropped. @default 60_000 */
  eventRetryWindowMs?: number
  /** Where the one line per event goes. @default stdout */
  print?: (line: string) => void
}

/** The running bus: the EventBridge stand-in and its delivery to the target. */
export interface ChangeEventBus {
  eventBridge: EventBridgeEmulator
  delivery: EventDelivery
  /** What the publisher's environment needs to reach this bus. */
  environment: Record<string, string>
  close(): Promise<void>
}

/**
 * Starts the local end of the change events: the EventBridge stand-in with the one bus, whose
 * accepted events are printed and delivered to the target URL as an API destination would.
 */
export async function startChangeEventBus(options: ChangeEventBusOptions): Promise<ChangeEventBus> {
  const delivery = createEventDelivery({
    ...(options.eventTargetUrl === undefined ? {} : { targetUrl: options.eventTargetUrl }),
    ...(options.eventRetryWindowMs === undefined ? {} : { retryWindowMs: options.eventRetryWindowMs }),
    ...(options.print === undefined ? {} : { print: options.print }),
  })
  const eventBridge = await startEventBridgeEmulator({
    host: options.host,
    region: options.region,
    eventBusNames: [LOCAL_EVENT_BUS_NAME],
    deliver: (event) => delivery.deliver(event),
  })
  return {
    eventBridge,
    delivery,
    environment: {
      AWS_ENDPOINT_URL_EVENTBRIDGE: eventBridge.endpoint,
      EVENT_BUS_NAME: LOCAL_EVENT_BUS_NAME,
    },
    async close() {
      await eventBridge.close()
      await delivery.close()
    },
  }
}
