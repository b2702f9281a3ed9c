import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createEventDelivery, type EventDelivery } from '../../local/event-delivery.ts'
import {
  type EventBridgeEmulator,
  PUT_EVENTS_MAX_TOTAL_BYTES,
  startEventBridgeEmulator,
} from '../../local/eventbridge-emulator.ts'
import { type EventReceiver, startEventReceiver } from '../support/event-receiver.ts'

const BUS = 'registry-credentials-local'
const REGION = 'eu-west-1'

function entry(overrides: Partial<PutEventsRequestEntry> = {}): PutEventsRequestEntry {
  return {
    EventBusName: BUS,
    Source: 'registry-credentials',
    DetailType: 'DockerRegistryCredentialCreated',
    Detail: JSON.stringify({ company_id: 'c-1', id: 'id-1', name: 'Production Hub', username: 'deployer' }),
    ...overrides,
  }
}

describe('the EventBridge stand-in (PutEvents)', () => {
  let receiver: EventReceiver
  let emulator: EventBridgeEmulator
  let delivery: EventDelivery
  let client: EventBridgeClient
  const printed: string[] = []

  beforeAll(async () => {
    receiver = await startEventReceiver()
    delivery = createEventDelivery({
      targetUrl: receiver.url,
      retryWindowMs: 400,
      firstRetryDelayMs: 20,
      print: (line) => printed.push(line),
    })
    emulator = await startEventBridgeEmulator({
      region: REGION,
      eventBusNames: [BUS],
      deliver: (event) => delivery.deliver(event),
    })
    client = new EventBridgeClient({
      endpoint: emulator.endpoint,
      region: REGION,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      maxAttempts: 1,
    })
  })

  afterEach(async () => {
    await delivery.idle()
    receiver.received.length = 0
    receiver.answerWith(() => 200)
    printed.length = 0
  })

  afterAll(async () => {
    client?.destroy()
    await emulator?.close()
    await delivery?.close()
    await receiver?.close()
  })

  it('accepts ten entries and POSTs each event, one per request, in order', async () => {
    const entries = Array.from({ length: 10 }, (_, index) =>
      entry({ Detail: JSON.stringify({ company_id: 'c-1', id: `id-${index}` }) }),
    )

    const result = await client.send(new PutEventsCommand({ Entries: entries }))
    await delivery.idle()

    expect(result.FailedEntryCount).toBe(0)
    expect(result.Entries?.every((outcome) => typeof outcome.EventId === 'string')).toBe(true)
    expect(receiver.received).toHaveLength(10)
    expect(receiver.received.map((request) => request.body.detail.id)).toEqual(
      entries.map((_, index) => `id-${index}`),
    )
    expect(receiver.received[0]?.contentType).toBe('application/json')
    expect(receiver.received[0]?.body).toEqual({
      version: '0',
      id: result.Entries?.[0]?.EventId,
      'detail-type': 'DockerRegistryCredentialCreated',
      source: 'registry-credentials',
      account: '000000000000',
      time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
      region: REGION,
      resources: [],
      detail: { company_id: 'c-1', id: 'id-0' },
    })
  })

  it('prints one line per event with its detail type, company and id, and nothing else of the detail', async () => {
    await client.send(new PutEventsCommand({ Entries: [entry()] }))

    expect(printed).toEqual(['event DockerRegistryCredentialCreated company c-1 id id-1'])
    expect(printed.join('\n')).not.toContain('Production Hub')
    expect(printed.join('\n')).not.toContain('deployer')
  })

  it('refuses more than ten entries with ValidationException', async () => {
    const error = await client
      .send(new PutEventsCommand({ Entries: Array.from({ length: 11 }, () => entry()) }))
      .catch((caught: unknown) => caught)

    expect((error as Error).name).toBe('ValidationException')
    expect(receiver.received).toHaveLength(0)
  })

  it('refuses entries over 256 KB in all, and takes them at exactly 256 KB', async () => {
    // EventBridge counts 14 bytes for Time plus Source, DetailType and Detail
    const fixed = 14 + 'registry-credentials'.length + 'DockerRegistryCredentialCreated'.length
    const detailOf = (bytes: number) => JSON.stringify({ pad: 'x'.repeat(bytes - '{"pad":""}'.length) })
    const half = PUT_EVENTS_MAX_TOTAL_BYTES / 2
    const atLimit = [
      entry({ Time: new Date(), Detail: detailOf(half - fixed) }),
      entry({ Time: new Date(), Detail: detailOf(half - fixed) }),
    ]
    const overLimit = [
      atLimit[0] as PutEventsRequestEntry,
      entry({ Time: new Date(), Detail: detailOf(half - fixed + 1) }),
    ]

    const accepted = await client.send(new PutEventsCommand({ Entries: atLimit }))
    const refused = await client
      .send(new PutEventsCommand({ Entries: overLimit }))
      .catch((caught: unknown) => caught)

    expect(accepted.FailedEntryCount).toBe(0)
    expect((refused as Error).name).toBe('ValidationException')
    expect((refused as Error).message).toBe('Total size of the entries in the request is over the limit.')
  })

  it('answers refused entries one by one and delivers only the accepted ones', async () => {
    const result = await client.send(
      new PutEventsCommand({
        Entries: [
          entry({ Detail: JSON.stringify({ company_id: 'c-1', id: 'first' }) }),
          entry({ DetailType: undefined }),
          entry({ Detail: '[1, 2]' }),
          entry({ EventBusName: 'no-such-bus' }),
          entry({ Detail: JSON.stringify({ company_id: 'c-1', id: 'last' }) }),
        ],
      }),
    )
    await delivery.idle()

    expect(result.FailedEntryCount).toBe(3)
    expect(result.Entries?.map((outcome) => outcome.ErrorCode ?? 'ok')).toEqual([
      'ok',
      'InvalidArgument',
      'MalformedDetail',
      'ResourceNotFoundException',
      'ok',
    ])
    expect(receiver.received.map((request) => request.body.detail.id)).toEqual(['first', 'last'])
  })

  it('retries a target that fails with backoff until it accepts', async () => {
    receiver.answerWith((received) => (received < 2 ? 503 : 200))

    await client.send(new PutEventsCommand({ Entries: [entry()] }))
    await delivery.idle()

    expect(receiver.received.map((request) => request.answered)).toEqual([503, 503, 200])
    expect(new Set(receiver.received.map((request) => request.body.id)).size).toBe(1)
  })

  it('drops an event with a printed line once the retry window has passed', async () => {
    receiver.answerWith(() => 500)

    await client.send(new PutEventsCommand({ Entries: [entry()] }))
    await delivery.idle()

    expect(receiver.received.length).toBeGreaterThan(1)
    expect(printed.at(-1)).toMatch(
      /^event [\w-]+ \(DockerRegistryCredentialCreated company c-1 id id-1\) dropped after \d+ attempts: last HTTP 500$/,
    )
  })

  it('does not retry a target that refuses the event with a 4xx', async () => {
    receiver.answerWith(() => 400)

    await client.send(new PutEventsCommand({ Entries: [entry()] }))
    await delivery.idle()

    expect(receiver.received).toHaveLength(1)
    expect(printed.at(-1)).toMatch(/dropped: the target answered HTTP 400$/)
  })
})
