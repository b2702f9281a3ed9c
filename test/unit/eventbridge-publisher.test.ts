import { EventBridgeClient, PutEventsCommand, type PutEventsResponse } from '@aws-sdk/client-eventbridge'
import { mockClient } from 'aws-sdk-client-mock'
import { afterEach, describe, expect, it } from 'vitest'
import { createEventBridgePublisher } from '../../shared/adapters/eventbridge-publisher.ts'
import type { CredentialEvent } from '../../shared/domain/credential-events.ts'

// there is no local EventBridge server: refused entries and throttling only come from the real
// service, so these paths use aws-sdk-client-mock.
const client = new EventBridgeClient({ region: 'eu-west-1' })
const eventBridge = mockClient(client)
const publisher = createEventBridgePublisher({ client, eventBusName: 'deploy-events' })

afterEach(() => {
  eventBridge.reset()
})

function event(index: number): CredentialEvent {
  return {
    source: 'registry-credentials',
    detailType: 'DockerRegistryCredentialCreated',
    time: '2025-01-30T10:00:00.000Z',
    detail: {
      event_id: `event-${index}`,
      company_id: '0c6a6c9e-5d2b-4c1f-9f57-3c1bb6a1d001',
      id: `01948f5e-7a10-7c3e-8d2a-5b7f3e9c0a${String(index).padStart(2, '0')}`,
      name: `Registry ${index}`,
      registry: 'github',
      username: 'acme',
      created_at: '2025-01-30T10:00:00.000Z',
      updated_at: '2025-01-30T10:00:00.000Z',
    },
  }
}

const events = (count: number) => Array.from({ length: count }, (_, index) => event(index))

function accepted(count: number): PutEventsResponse {
  return {
    FailedEntryCount: 0,
    Entries: Array.from({ length: count }, (_, index) => ({ EventId: `eb-${index}` })),
  }
}

describe('createEventBridgePublisher', () => {
  it('sends at most ten entries per PutEvents call, in order', async () => {
    // Arrange
    eventBridge.on(PutEventsCommand).callsFake(async (input) => accepted(input.Entries.length))

    // Act
    const outcome = await publisher.publish(events(23))

    // Assert
    const batches = eventBridge
      .commandCalls(PutEventsCommand)
      .map((call) => call.args[0].input.Entries?.map((entry) => JSON.parse(entry.Detail ?? '{}').event_id))
    expect({ outcome, batches }).toStrictEqual({
      outcome: { accepted: 23 },
      batches: [
        events(10).map((each) => each.detail.event_id),
        events(20)
          .slice(10)
          .map((each) => each.detail.event_id),
        events(23)
          .slice(20)
          .map((each) => each.detail.event_id),
      ],
    })
  })

  it('puts source, detail type, time, bus and the detail as JSON on each entry', async () => {
    // Arrange
    eventBridge.on(PutEventsCommand).resolves(accepted(1))

    // Act
    await publisher.publish([event(7)])

    // Assert
    expect(eventBridge.commandCalls(PutEventsCommand)[0]?.args[0].input.Entries).toStrictEqual([
      {
        EventBusName: 'deploy-events',
        Source: 'registry-credentials',
        DetailType: 'DockerRegistryCredentialCreated',
        Time: new Date('2025-01-30T10:00:00.000Z'),
        Detail: JSON.stringify(event(7).detail),
      },
    ])
  })

  it('stops at the first entry the bus refuses and sends no later batch', async () => {
    // Arrange
    eventBridge
      .on(PutEventsCommand)
      .resolvesOnce(accepted(10))
      .resolvesOnce({
        FailedEntryCount: 2,
        Entries: [
          { EventId: 'eb-0' },
          { EventId: 'eb-1' },
          { EventId: 'eb-2' },
          { ErrorCode: 'ThrottlingException', ErrorMessage: 'Rate exceeded' },
          { EventId: 'eb-4' },
          { ErrorCode: 'InternalFailure', ErrorMessage: 'Internal failure' },
          ...(accepted(4).Entries ?? []),
        ],
      })

    // Act
    const outcome = await publisher.publish(events(25))

    // Assert
    expect({ outcome, calls: eventBridge.commandCalls(PutEventsCommand).length }).toStrictEqual({
      outcome: { accepted: 13, failure: { code: 'ThrottlingException', message: 'Rate exceeded' } },
      calls: 2,
    })
  })

  it('counts a whole batch as refused when FailedEntryCount names no entry', async () => {
    // Arrange
    eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 1, Entries: [] })

    // Act
    const outcome = await publisher.publish(events(3))

    // Assert
    expect(outcome.accepted).toBe(0)
  })

  it('reports throttling of the call itself as an unavailable dependency', async () => {
    // Arrange
    const throttled = Object.assign(new Error('Rate exceeded'), {
      name: 'ThrottlingException',
      $metadata: { httpStatusCode: 400 },
    })
    eventBridge.on(PutEventsCommand).resolvesOnce(accepted(10)).rejectsOnce(throttled)

    // Act
    const outcome = await publisher.publish(events(12))

    // Assert
    expect(outcome).toStrictEqual({
      accepted: 10,
      failure: {
        code: 'DependencyUnavailableError',
        message: 'EventBridge is unavailable (ThrottlingException)',
      },
    })
  })
})
