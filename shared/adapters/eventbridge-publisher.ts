import {
  type EventBridgeClient,
  PutEventsCommand,
  type PutEventsRequestEntry,
  type PutEventsResultEntry,
} from '@aws-sdk/client-eventbridge'
import type {
  CredentialEvent,
  CredentialEventPublisher,
  PublishFailure,
  PublishOutcome,
} from '../domain/credential-events.ts'
import { translateAwsError } from './aws-errors.ts'

/** The most entries one PutEvents call takes. */
export const PUT_EVENTS_MAX_ENTRIES = 10

/** Options of the EventBridge publisher. */
export interface EventBridgePublisherOptions {
  client: EventBridgeClient
  /** Name or ARN of the bus. */
  eventBusName: string
}

function toEntry(event: CredentialEvent, eventBusName: string): PutEventsRequestEntry {
  return {
    EventBusName: eventBusName,
    Source: event.source,
    DetailType: event.detailType,
    Time: new Date(event.time),
    Detail: JSON.stringify(event.detail),
  }
}

// PutEvents answers entry by entry, in request order; a refused entry has an ErrorCode and no
// EventId. When FailedEntryCount says something failed but no entry says which, the whole batch
// counts as refused: resending is safe (consumers deduplicate), losing is not.
function firstRefused(entries: PutEventsResultEntry[] | undefined, sent: number): number | undefined {
  for (let index = 0; index < sent; index += 1) {
    const entry = entries?.[index]
    if (!entry || entry.ErrorCode || !entry.EventId) return index
  }
  return undefined
}

// the translated error says whether a retry may help; its cause says what AWS answered.
function failureOf(error: unknown): PublishFailure {
  if (!(error instanceof Error)) return { code: 'UnknownError', message: 'PutEvents failed' }
  const cause = error.cause instanceof Error ? ` (${error.cause.name})` : ''
  return { code: error.name, message: `${error.message}${cause}` }
}

/**
 * Publishes change events with PutEvents, at most ten entries a call, in order, and stops at the
 * first entry the bus refuses. Throttling and outages (after the SDK's own retries) are reported
 * as `DependencyUnavailableError` failures; nothing is thrown.
 */
export function createEventBridgePublisher({
  client,
  eventBusName,
}: EventBridgePublisherOptions): CredentialEventPublisher {
  const onError = translateAwsError('EventBridge')
  return {
    async publish(events: readonly CredentialEvent[]): Promise<PublishOutcome> {
      for (let start = 0; start < events.length; start += PUT_EVENTS_MAX_ENTRIES) {
        const batch = events.slice(start, start + PUT_EVENTS_MAX_ENTRIES)
        let entries: PutEventsResultEntry[] | undefined
        let failedEntryCount: number | undefined
        try {
          const response = await client
            .send(new PutEventsCommand({ Entries: batch.map((event) => toEntry(event, eventBusName)) }))
            .catch(onError)
          entries = response.Entries
          failedEntryCount = response.FailedEntryCount
        } catch (error) {
          return { accepted: start, failure: failureOf(error) }
        }
        if (!failedEntryCount) continue
        const refused = firstRefused(entries, batch.length) ?? 0
        const entry = entries?.[refused]
        return {
          accepted: start + refused,
          failure: {
            code: entry?.ErrorCode ?? 'FailedEntry',
            message: entry?.ErrorMessage ?? `PutEvents reported ${failedEntryCount} failed entries`,
          },
        }
      }
      return { accepted: events.length }
    },
  }
}
