import type { DynamoDBRecord } from 'aws-lambda'
import { describe, expect, it } from 'vitest'
import {
  type CredentialEvent,
  type CredentialEventPublisher,
  type PublishOutcome,
  publishCredentialEvents,
} from '../../shared/domain/credential-events.ts'
import { apiKeyItem, credentialItem, streamRecord } from '../support/stream-records.ts'

/** A bus that accepts events until it has seen `refuseAt` of them, then refuses the rest. */
class FakePublisher implements CredentialEventPublisher {
  readonly accepted: CredentialEvent[] = []
  calls = 0

  constructor(private readonly refuseAt = Number.POSITIVE_INFINITY) {}

  async publish(events: readonly CredentialEvent[]): Promise<PublishOutcome> {
    this.calls += 1
    for (const [index, event] of events.entries()) {
      if (this.accepted.length >= this.refuseAt) {
        return { accepted: index, failure: { code: 'ThrottlingException', message: 'Rate exceeded' } }
      }
      this.accepted.push(event)
    }
    return { accepted: events.length }
  }
}

function credentialRecord(sequence: number): DynamoDBRecord {
  const id = `01948f5e-7a10-7c3e-8d2a-5b7f3e9c0a${String(sequence).padStart(2, '0')}`
  return streamRecord({
    eventName: 'INSERT',
    newItem: credentialItem({ id, sk: `DOCKER_REGISTRY#${id}` }),
    sequenceNumber: `${sequence}00000000000000000000`,
    eventID: `event-${sequence}`,
  })
}

function apiKeyRecord(sequence: number): DynamoDBRecord {
  return streamRecord({
    eventName: 'INSERT',
    newItem: apiKeyItem(),
    sequenceNumber: `${sequence}00000000000000000000`,
  })
}

function malformedRecord(sequence: number): DynamoDBRecord {
  const record = credentialRecord(sequence)
  delete record.dynamodb?.NewImage?.username
  return record
}

const sequenceNumbers = (records: DynamoDBRecord[]) =>
  records.map((record) => ({ itemIdentifier: record.dynamodb?.SequenceNumber }))

describe('publishCredentialEvents', () => {
  it('publishes every credential change in stream order and reports no failures', async () => {
    // Arrange
    const publisher = new FakePublisher()
    const records = [credentialRecord(1), credentialRecord(2), credentialRecord(3)]

    // Act
    const result = await publishCredentialEvents({ publisher }, records)

    // Assert
    expect(result.batchItemFailures).toStrictEqual([])
    expect(publisher.accepted.map((event) => event.detail.event_id)).toStrictEqual([
      'event-1',
      'event-2',
      'event-3',
    ])
  })

  it('reports the first refused record and every later one, so Lambda retries from there', async () => {
    // Arrange
    const publisher = new FakePublisher(1)
    const records = [credentialRecord(1), credentialRecord(2), credentialRecord(3)]

    // Act
    const result = await publishCredentialEvents({ publisher }, records)

    // Assert
    expect(result.batchItemFailures).toStrictEqual(sequenceNumbers(records.slice(1)))
  })

  it('names the refused event and the reason for the logs', async () => {
    // Arrange
    const publisher = new FakePublisher(1)
    const records = [credentialRecord(1), credentialRecord(2)]

    // Act
    const result = await publishCredentialEvents({ publisher }, records)

    // Assert
    expect(result.failure).toStrictEqual({
      eventId: 'event-2',
      code: 'ThrottlingException',
      message: 'Rate exceeded',
    })
  })

  it('reports records after a refused one even when they are not credentials', async () => {
    // Arrange
    const publisher = new FakePublisher(0)
    const records = [credentialRecord(1), apiKeyRecord(2), credentialRecord(3)]

    // Act
    const result = await publishCredentialEvents({ publisher }, records)

    // Assert
    expect(result.batchItemFailures).toStrictEqual(sequenceNumbers(records))
  })

  it('does not report skipped API key records that precede the refused one', async () => {
    // Arrange
    const publisher = new FakePublisher(1)
    const records = [credentialRecord(1), apiKeyRecord(2), credentialRecord(3), credentialRecord(4)]

    // Act
    const result = await publishCredentialEvents({ publisher }, records)

    // Assert
    expect(result.batchItemFailures).toStrictEqual(sequenceNumbers(records.slice(2)))
  })

  it('stops at an unreadable record: earlier ones are published, it and later ones retried', async () => {
    // Arrange
    const publisher = new FakePublisher()
    const records = [credentialRecord(1), malformedRecord(2), credentialRecord(3)]

    // Act
    const result = await publishCredentialEvents({ publisher }, records)

    // Assert
    expect({
      published: publisher.accepted.map((event) => event.detail.event_id),
      failures: result.batchItemFailures,
    }).toStrictEqual({ published: ['event-1'], failures: sequenceNumbers(records.slice(1)) })
  })

  it('does not call the bus for a batch without credential changes', async () => {
    // Arrange
    const publisher = new FakePublisher()
    const records = [apiKeyRecord(1), apiKeyRecord(2)]

    // Act
    const result = await publishCredentialEvents({ publisher }, records)

    // Assert
    expect({ calls: publisher.calls, failures: result.batchItemFailures }).toStrictEqual({
      calls: 0,
      failures: [],
    })
  })
})
