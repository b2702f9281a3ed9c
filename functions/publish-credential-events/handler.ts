import { EventBridgeClient } from '@aws-sdk/client-eventbridge'
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda'
import { createEventBridgePublisher } from '../../shared/adapters/eventbridge-publisher.ts'
import { publishCredentialEvents } from '../../shared/domain/credential-events.ts'
import { requiredEnv } from '../../shared/runtime/config.ts'
import { logger } from '../../shared/runtime/logger.ts'
import { count, createMetrics, INTERNAL_OPERATIONS, METRIC } from '../../shared/runtime/metrics.ts'
import { observedHandler } from '../../shared/runtime/observed-handler.ts'

const metrics = createMetrics(INTERNAL_OPERATIONS.publish)

// the container's one EventBridge client (`AWS_ENDPOINT_URL_EVENTBRIDGE` overrides the endpoint);
// only this function publishes, so it lives here rather than in shared/runtime.
const ports = {
  publisher: createEventBridgePublisher({
    client: new EventBridgeClient({}),
    eventBusName: requiredEnv('EVENT_BUS_NAME'),
  }),
}

/**
 * Turns the table's stream into change events on the bus. Wired with ReportBatchItemFailures and
 * an on-failure destination: a failed record and everything after it are retried in order, and a
 * record that keeps failing is dead-lettered rather than lost. Logs ids and codes only; the
 * records hold the secret envelope, so they are never logged. Counts `EventsPublished` and
 * `EventsNotPublished` (records handed back for a retry) per invocation.
 */
async function publishFromStream(event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> {
  const result = await publishCredentialEvents(ports, event.Records)
  count(metrics, METRIC.eventsPublished, result.published)
  count(metrics, METRIC.eventsNotPublished, result.batchItemFailures.length)
  if (result.failure) {
    logger.warn('credential events not published', {
      records: event.Records.length,
      published: result.published,
      retried: result.batchItemFailures.length,
      eventId: result.failure.eventId,
      code: result.failure.code,
      reason: result.failure.message,
    })
  } else {
    logger.info('credential events published', { records: event.Records.length, published: result.published })
  }
  return { batchItemFailures: result.batchItemFailures }
}

/** {@link publishFromStream} with the Lambda context in its logs and its metrics flushed. */
export const handler = observedHandler(metrics, publishFromStream)
