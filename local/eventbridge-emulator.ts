import { randomUUID } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { BusEvent } from './event-delivery.ts'
import { closeServer, listen } from './server-lifecycle.ts'

/** PutEvents takes at most this many entries. */
export const PUT_EVENTS_MAX_ENTRIES = 10

/** PutEvents refuses a request whose entries add up to more than this (EventBridge's 256 KB). */
export const PUT_EVENTS_MAX_TOTAL_BYTES = 256 * 1024

const JSON_CONTENT_TYPE = 'application/x-amz-json-1.1'
const TARGET = 'AWSEvents.PutEvents'
// far above any valid request, so a runaway client cannot fill the memory of the stack
const MAX_BODY_BYTES = 4 * PUT_EVENTS_MAX_TOTAL_BYTES

/** Options of {@link startEventBridgeEmulator}. */
export interface EventBridgeEmulatorOptions {
  host?: string
  /** 0 picks a free port. */
  port?: number
  region: string
  /** The buses that exist; PutEvents entries naming another bus fail. */
  eventBusNames: readonly string[]
  /** Called with every event the bus accepted, in request order. */
  deliver: (event: BusEvent) => void
}

/** A running EventBridge stand-in. */
export interface EventBridgeEmulator {
  endpoint: string
  /** PutEvents calls answered (any outcome). */
  requestCount(): number
  close(): Promise<void>
}

class EventBridgeProtocolError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
  ) {
    super(message)
  }
}

interface EntryOutcome {
  EventId?: string
  ErrorCode?: string
  ErrorMessage?: string
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const payload = Buffer.from(JSON.stringify(body), 'utf8')
  response.writeHead(status, {
    'content-type': JSON_CONTENT_TYPE,
    'content-length': payload.length,
    'x-amzn-requestid': randomUUID(),
  })
  response.end(payload)
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of request) {
    size += (chunk as Buffer).length
    if (size > MAX_BODY_BYTES) {
      throw new EventBridgeProtocolError(413, 'ValidationException', 'Request is too large.')
    }
    chunks.push(chunk as Buffer)
  }
  return Buffer.concat(chunks).toString('utf8')
}

const utf8Length = (value: unknown) => (typeof value === 'string' ? Buffer.byteLength(value) : 0)

// EventBridge's own size rule: 14 bytes for Time when given, plus the UTF-8 bytes of Source,
// DetailType, Detail and every Resources entry.
function entrySize(entry: Record<string, unknown>): number {
  const resources = Array.isArray(entry.Resources) ? entry.Resources : []
  return (
    (entry.Time === undefined ? 0 : 14) +
    utf8Length(entry.Source) +
    utf8Length(entry.DetailType) +
    utf8Length(entry.Detail) +
    resources.reduce((sum: number, resource) => sum + utf8Length(resource), 0)
  )
}

function invalidArgument(parameter: string, reason: string): EntryOutcome {
  return {
    ErrorCode: 'InvalidArgument',
    ErrorMessage: `Parameter ${parameter} is not valid. Reason: ${reason}`,
  }
}

function eventTime(value: unknown): Date | undefined {
  if (value === undefined) return new Date()
  const date = typeof value === 'number' ? new Date(value * 1000) : new Date(String(value))
  return Number.isNaN(date.getTime()) ? undefined : date
}

/**
 * A local stand-in for EventBridge's `PutEvents` (JSON 1.1 protocol, `AWSEvents.PutEvents`), which
 * the real publisher reaches through `AWS_ENDPOINT_URL_EVENTBRIDGE`. It enforces PutEvents' limits
 * as EventBridge does: 1 to 10 entries and 256 KB in all (else `ValidationException`), and per
 * entry a Source, DetailType and a Detail that is a JSON object on an existing bus, answering
 * `ErrorCode`/`ErrorMessage` for a refused entry and counting them in `FailedEntryCount`. Every
 * accepted entry becomes an event, handed to `deliver` in request order.
 */
export async function startEventBridgeEmulator(
  options: EventBridgeEmulatorOptions,
): Promise<EventBridgeEmulator> {
  const { host = '127.0.0.1', region, eventBusNames, deliver } = options
  const account = '000000000000'
  const busArn = (name: string) => `arn:aws:events:${region}:${account}:event-bus/${name}`
  let requests = 0

  function busOf(value: unknown): string | undefined {
    const name = value === undefined || value === '' ? 'default' : String(value)
    return [...eventBusNames, 'default'].find((bus) => bus === name || busArn(bus) === name)
  }

  function accept(entry: Record<string, unknown>): { outcome: EntryOutcome; event?: BusEvent } {
    const { Source, DetailType, Detail } = entry
    if (typeof Source !== 'string' || Source === '') {
      return { outcome: invalidArgument('Source', 'Source is a required argument.') }
    }
    if (typeof DetailType !== 'string' || DetailType === '') {
      return { outcome: invalidArgument('DetailType', 'DetailType is a required argument.') }
    }
    if (DetailType.length > 128) {
      return { outcome: invalidArgument('DetailType', 'DetailType is longer than 128 characters.') }
    }
    if (typeof Detail !== 'string' || Detail === '') {
      return { outcome: invalidArgument('Detail', 'Detail is a required argument.') }
    }
    if (Source.startsWith('aws.')) {
      return {
        outcome: {
          ErrorCode: 'NotAuthorizedForSourceException',
          ErrorMessage: 'Not authorized for the source.',
        },
      }
    }
    let detail: unknown
    try {
      detail = JSON.parse(Detail)
    } catch {
      detail = undefined
    }
    if (typeof detail !== 'object' || detail === null || Array.isArray(detail)) {
      return { outcome: { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' } }
    }
    const time = eventTime(entry.Time)
    if (!time) return { outcome: invalidArgument('Time', 'Time is not a valid timestamp.') }
    const bus = busOf(entry.EventBusName)
    if (!bus) {
      return {
        outcome: {
          ErrorCode: 'ResourceNotFoundException',
          ErrorMessage: `Event bus ${String(entry.EventBusName)} does not exist.`,
        },
      }
    }
    const id = randomUUID()
    return {
      outcome: { EventId: id },
      event: {
        version: '0',
        id,
        'detail-type': DetailType,
        source: Source,
        account,
        time: `${time.toISOString().slice(0, 19)}Z`,
        region,
        resources: Array.isArray(entry.Resources) ? entry.Resources.map(String) : [],
        detail: detail as Record<string, unknown>,
      },
    }
  }

  function putEvents(body: Record<string, unknown>): { Entries: EntryOutcome[]; FailedEntryCount: number } {
    const entries = body.Entries
    if (!Array.isArray(entries) || entries.length < 1 || entries.length > PUT_EVENTS_MAX_ENTRIES) {
      throw new EventBridgeProtocolError(
        400,
        'ValidationException',
        `1 validation error detected: Value at 'entries' failed to satisfy constraint: Member must have length less than or equal to ${PUT_EVENTS_MAX_ENTRIES} and greater than or equal to 1`,
      )
    }
    const records = entries.map((entry) =>
      typeof entry === 'object' && entry !== null ? (entry as Record<string, unknown>) : {},
    )
    const total = records.reduce((sum, entry) => sum + entrySize(entry), 0)
    if (total > PUT_EVENTS_MAX_TOTAL_BYTES) {
      throw new EventBridgeProtocolError(
        400,
        'ValidationException',
        'Total size of the entries in the request is over the limit.',
      )
    }
    const results = records.map(accept)
    for (const { event } of results) if (event) deliver(event)
    return {
      Entries: results.map(({ outcome }) => outcome),
      FailedEntryCount: results.filter(({ outcome }) => outcome.ErrorCode !== undefined).length,
    }
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    requests += 1
    try {
      if (request.method !== 'POST' || request.headers['x-amz-target'] !== TARGET) {
        request.resume()
        throw new EventBridgeProtocolError(
          400,
          'UnknownOperationException',
          `unsupported operation ${String(request.headers['x-amz-target'] ?? request.method)}`,
        )
      }
      if (!request.headers.authorization?.startsWith('AWS4-HMAC-SHA256 ')) {
        request.resume()
        throw new EventBridgeProtocolError(
          400,
          'MissingAuthenticationTokenException',
          'Request is missing Authentication Token',
        )
      }
      let body: unknown
      try {
        body = JSON.parse((await readBody(request)) || '{}')
      } catch (error) {
        if (error instanceof EventBridgeProtocolError) throw error
        throw new EventBridgeProtocolError(400, 'SerializationException', 'request body is not valid JSON')
      }
      if (typeof body !== 'object' || body === null || Array.isArray(body)) {
        throw new EventBridgeProtocolError(
          400,
          'SerializationException',
          'request body must be a JSON object',
        )
      }
      sendJson(response, 200, putEvents(body as Record<string, unknown>))
    } catch (error) {
      // error bodies carry a type and a fixed message, never an entry's content
      if (error instanceof EventBridgeProtocolError) {
        if (error.status === 413) response.setHeader('connection', 'close')
        sendJson(response, error.status, { __type: error.type, message: error.message })
      } else {
        sendJson(response, 500, { __type: 'InternalException', message: 'internal error' })
      }
    }
  }

  const server = createServer((request, response) => {
    void handle(request, response)
  })
  const port = await listen(server, host, options.port ?? 0)
  return {
    endpoint: `http://${host}:${port}`,
    requestCount: () => requests,
    close: () => closeServer(server),
  }
}
