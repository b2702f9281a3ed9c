import type { AttributeValue as SdkAttributeValue } from '@aws-sdk/client-dynamodb'
import { unmarshall } from '@aws-sdk/util-dynamodb'
import type { AttributeValue, DynamoDBBatchItemFailure, DynamoDBRecord } from 'aws-lambda'
import { CREDENTIAL_SORT_KEY_PREFIX, companyPartitionKey } from './credential-keys.ts'

// the stream carries the table's own item format, so this mapping shares the store's key layout
// rather than restating it.
const COMPANY_PARTITION_PREFIX = companyPartitionKey('')

/** The `source` of every event this service publishes. */
export const CREDENTIAL_EVENT_SOURCE = 'registry-credentials'

/** The detail types of the three change events. */
export const CREDENTIAL_EVENT_TYPES = {
  INSERT: 'DockerRegistryCredentialCreated',
  MODIFY: 'DockerRegistryCredentialUpdated',
  REMOVE: 'DockerRegistryCredentialDeleted',
} as const

/** The detail types of the two health events. */
export const HEALTH_EVENT_TYPES = {
  failed: 'DockerRegistryCredentialVerificationFailed',
  recovered: 'DockerRegistryCredentialVerificationRecovered',
} as const

/** A change event's detail type. */
export type CredentialEventType = (typeof CREDENTIAL_EVENT_TYPES)[keyof typeof CREDENTIAL_EVENT_TYPES]

/** A health event's detail type. */
export type HealthEventType = (typeof HEALTH_EVENT_TYPES)[keyof typeof HEALTH_EVENT_TYPES]

/**
 * What a health event says: which credential, the verification's result code and message (never
 * the secret: messages are the verifier's own texts), when it ran, and the result before.
 */
export interface HealthEventDetail extends CredentialEventDetail {
  result: string
  message: string
  verified_at: string
  /** The image checked, if any. */
  image?: string
  /** The result of the verification before this one; absent for a first verification. */
  previous_result?: string
}

/**
 * What a created or updated credential's event says: its public fields, exactly those the API
 * returns, and never the secret or its envelope.
 */
export interface CredentialEventDetail {
  /** The stream record's eventID: the same on every retry, so consumers can deduplicate. */
  event_id: string
  company_id: string
  id: string
  name: string
  registry: string
  username: string
  created_at: string
  updated_at: string
}

/** Who made a change: the API key, by id (its SHA-256, never the key) and name. */
export interface EventActor {
  api_key_id: string
  api_key_name: string
}

/** What a Created event adds: who created the credential (absent for items written before). */
export interface CredentialCreatedDetail extends CredentialEventDetail {
  actor?: EventActor
}

/** What an Updated event adds: who changed which fields, and whether the secret was rotated. */
export interface CredentialUpdatedDetail extends CredentialEventDetail {
  actor?: EventActor
  changed_fields?: string[]
  secret_rotated?: boolean
}

/** A deleted credential's detail: its last state, and when it was deleted. */
export interface CredentialDeletedDetail extends CredentialEventDetail {
  /** When the delete reached the table (the stream record's ApproximateCreationDateTime). */
  deleted_at: string
}

/** One event to publish, in the bus's terms but without the bus. */
export type CredentialEvent =
  | CredentialEventOf<'DockerRegistryCredentialCreated', CredentialCreatedDetail>
  | CredentialEventOf<'DockerRegistryCredentialUpdated', CredentialUpdatedDetail>
  | CredentialEventOf<'DockerRegistryCredentialDeleted', CredentialDeletedDetail>
  | CredentialEventOf<HealthEventType, HealthEventDetail>

/** An event of one detail type. */
export interface CredentialEventOf<Type extends CredentialEventType | HealthEventType, Detail> {
  source: typeof CREDENTIAL_EVENT_SOURCE
  detailType: Type
  /** When the change reached the table, ISO 8601 (second precision, as the stream gives it). */
  time: string
  detail: Detail
}

/** A stream record that claims to be a credential change but cannot be turned into an event. */
export class MalformedStreamRecordError extends Error {
  override readonly name = 'MalformedStreamRecordError'
}

// the allow-list: the only attributes that ever leave the stream. Anything added to the item later
// (the envelope today, whatever tomorrow) stays out of events until it is named here.
const PUBLIC_ATTRIBUTES = [
  'company_id',
  'id',
  'name',
  'registry',
  'username',
  'created_at',
  'updated_at',
] as const

type PublicAttributes = Omit<CredentialEventDetail, 'event_id'>

type StreamImage = Record<string, AttributeValue>

function stringAttribute(image: StreamImage, name: string): string | undefined {
  return image[name]?.S
}

function isCredentialItem(image: StreamImage): boolean {
  const pk = stringAttribute(image, 'pk')
  const sk = stringAttribute(image, 'sk')
  return (
    pk?.startsWith(COMPANY_PARTITION_PREFIX) === true && sk?.startsWith(CREDENTIAL_SORT_KEY_PREFIX) === true
  )
}

// picks the allowed attributes first and unmarshalls only those, so the envelope is never even
// decoded here (threat: a later edit logging or spreading the whole item into an event).
function publicAttributes(image: StreamImage): PublicAttributes {
  const picked: Record<string, AttributeValue> = {}
  for (const attribute of PUBLIC_ATTRIBUTES) {
    const value = image[attribute]
    if (value?.S === undefined) {
      throw new MalformedStreamRecordError(`credential image lacks the string attribute ${attribute}`)
    }
    picked[attribute] = value
  }
  // aws-lambda types binary values as base64 strings, the SDK as bytes; only strings are picked.
  const native = unmarshall(picked as Record<string, SdkAttributeValue>) as PublicAttributes
  return {
    company_id: native.company_id,
    id: native.id,
    name: native.name,
    registry: native.registry,
    username: native.username,
    created_at: native.created_at,
    updated_at: native.updated_at,
  }
}

// the change attributes, read one by one by name and type: nothing else of the item is read
function actorOf(image: StreamImage): EventActor | undefined {
  const id = stringAttribute(image, 'changed_by_key_id')
  const name = stringAttribute(image, 'changed_by_key_name')
  return id !== undefined && name !== undefined ? { api_key_id: id, api_key_name: name } : undefined
}

function changeOf(image: StreamImage): Omit<CredentialUpdatedDetail, keyof CredentialEventDetail> {
  const actor = actorOf(image)
  const fields = image.changed_fields?.L?.map((value) => value.S).filter((field) => field !== undefined)
  const rotated = image.secret_rotated?.BOOL
  return {
    ...(actor ? { actor } : {}),
    ...(fields ? { changed_fields: fields as string[] } : {}),
    ...(rotated !== undefined ? { secret_rotated: rotated } : {}),
  }
}

function approximateTime(record: DynamoDBRecord): string {
  const seconds = record.dynamodb?.ApproximateCreationDateTime
  if (typeof seconds !== 'number' || !Number.isFinite(seconds)) {
    throw new MalformedStreamRecordError('stream record lacks ApproximateCreationDateTime')
  }
  return new Date(seconds * 1000).toISOString()
}

function requiredImage(image: StreamImage | undefined, which: string): StreamImage {
  if (!image) {
    throw new MalformedStreamRecordError(
      `stream record lacks ${which}; the stream must be NEW_AND_OLD_IMAGES`,
    )
  }
  return image
}

// the verification attributes the health events read (plain strings; see credential-health-store)
const RESULT = 'verification_result'
const HEALTHY = new Set(['ok', 'anonymous'])

/**
 * The health event of a MODIFY that changed no field (`updated_at` unchanged: a verification or a
 * use stamp was recorded): Failed when a working credential (or one never verified) stops
 * working, Recovered when a failing one works again; undefined otherwise, so a stamp or an
 * unchanged health publishes nothing.
 */
function healthEvent(
  record: DynamoDBRecord,
  oldImage: StreamImage,
  newImage: StreamImage,
  detail: CredentialEventDetail,
  time: string,
): CredentialEvent | undefined {
  const result = stringAttribute(newImage, RESULT)
  const previous = stringAttribute(oldImage, RESULT)
  const verifiedAt = stringAttribute(newImage, 'verified_at')
  if (result === undefined || verifiedAt === undefined) return undefined
  if (stringAttribute(oldImage, 'verified_at') === verifiedAt) return undefined
  const healthy = HEALTHY.has(result)
  const wasHealthy = previous === undefined ? undefined : HEALTHY.has(previous)
  let detailType: HealthEventType
  if (!healthy && wasHealthy !== false) detailType = HEALTH_EVENT_TYPES.failed
  else if (healthy && wasHealthy === false) detailType = HEALTH_EVENT_TYPES.recovered
  else return undefined
  const image = stringAttribute(newImage, 'verification_image')
  if (!record.eventID) throw new MalformedStreamRecordError('stream record lacks eventID')
  return {
    source: CREDENTIAL_EVENT_SOURCE,
    detailType,
    time,
    detail: {
      ...detail,
      result,
      message: stringAttribute(newImage, 'verification_message') ?? '',
      verified_at: verifiedAt,
      ...(image ? { image } : {}),
      ...(previous ? { previous_result: previous } : {}),
    },
  }
}

/**
 * The event a table change means, or undefined when the changed item is not a credential (API
 * keys share the table) or the change is not one (a use stamp, an unchanged health). Works on the stream's NEW_AND_OLD_IMAGES records exactly as Lambda
 * delivers them. The detail is built from an allow-list of attributes, so the secret envelope can
 * never reach a consumer. Throws {@link MalformedStreamRecordError} for a credential record it
 * cannot read (a missing image or attribute), so the record is retried and then dead-lettered
 * instead of silently dropped.
 */
export function toCredentialEvent(record: DynamoDBRecord): CredentialEvent | undefined {
  const { eventName, eventID } = record
  const image = eventName === 'REMOVE' ? record.dynamodb?.OldImage : record.dynamodb?.NewImage
  const keys = record.dynamodb?.Keys ?? image
  if (!keys || !isCredentialItem(keys)) return undefined
  if (eventName !== 'INSERT' && eventName !== 'MODIFY' && eventName !== 'REMOVE') {
    throw new MalformedStreamRecordError('stream record has no known eventName')
  }
  if (!eventID) throw new MalformedStreamRecordError('stream record lacks eventID')

  const attributes = publicAttributes(requiredImage(image, eventName === 'REMOVE' ? 'OldImage' : 'NewImage'))
  const time = approximateTime(record)
  const detail: CredentialEventDetail = { event_id: eventID, ...attributes }
  const source = CREDENTIAL_EVENT_SOURCE
  switch (eventName) {
    case 'INSERT': {
      const actor = actorOf(requiredImage(image, 'NewImage'))
      return {
        source,
        detailType: CREDENTIAL_EVENT_TYPES.INSERT,
        time,
        detail: { ...detail, ...(actor ? { actor } : {}) },
      }
    }
    case 'MODIFY': {
      // a write that changed no field (health and use attributes) is no update of the credential
      const oldImage = requiredImage(record.dynamodb?.OldImage, 'OldImage')
      if (stringAttribute(oldImage, 'updated_at') === detail.updated_at) {
        return healthEvent(record, oldImage, requiredImage(image, 'NewImage'), detail, time)
      }
      const change = changeOf(requiredImage(image, 'NewImage'))
      return { source, detailType: CREDENTIAL_EVENT_TYPES.MODIFY, time, detail: { ...detail, ...change } }
    }
    case 'REMOVE':
      return {
        source,
        detailType: CREDENTIAL_EVENT_TYPES.REMOVE,
        time,
        detail: { ...detail, deleted_at: time },
      }
  }
}

/** Why the bus did not accept an event. */
export interface PublishFailure {
  /** The bus's error code (`ThrottlingException`, `InternalFailure`) or the error's name. */
  code: string
  message: string
}

/** What became of a run of events handed to a publisher. */
export interface PublishOutcome {
  /** How many events, counted from the first, the bus accepted; every later one must be sent again. */
  accepted: number
  /** Why event number `accepted` was not accepted; absent when all were. */
  failure?: PublishFailure
}

/** Publishes change events to the bus the platform's consumers subscribe to. */
export interface CredentialEventPublisher {
  /**
   * Sends the events in order and stops at the first one the bus refuses (or cannot be reached
   * for). Never rejects: failures are part of the outcome, so accepted events are not resent.
   */
  publish(events: readonly CredentialEvent[]): Promise<PublishOutcome>
}

/** Ports of the publish use case. */
export interface PublishCredentialEventsPorts {
  publisher: CredentialEventPublisher
}

/** The outcome of one stream batch. */
export interface PublishCredentialEventsResult {
  /** For Lambda's ReportBatchItemFailures: the first failed record and every record after it. */
  batchItemFailures: DynamoDBBatchItemFailure[]
  /** How many events were published. */
  published: number
  /** The first failure, for logs: the failing record's event id and why. */
  failure?: PublishFailure & { eventId?: string }
}

function describeFailure(error: unknown): PublishFailure {
  return error instanceof Error
    ? { code: error.name, message: error.message }
    : { code: 'UnknownError', message: String(error) }
}

/**
 * Publishes the events of one stream batch in order. At the first record that fails (unreadable,
 * or refused by the bus) it stops, and reports that record and every later one as failed, so
 * Lambda retries from there: no event is lost and none overtakes an earlier one. Events accepted
 * before a failure inside a bus batch may be published again on the retry; their `event_id` lets
 * consumers drop the duplicates.
 */
export async function publishCredentialEvents(
  ports: PublishCredentialEventsPorts,
  records: readonly DynamoDBRecord[],
): Promise<PublishCredentialEventsResult> {
  const pending: { index: number; event: CredentialEvent }[] = []
  let failedFrom = records.length
  let failure: PublishCredentialEventsResult['failure']
  for (const [index, record] of records.entries()) {
    try {
      const event = toCredentialEvent(record)
      if (event) pending.push({ index, event })
    } catch (error) {
      failedFrom = index
      failure = { ...describeFailure(error), eventId: record.eventID }
      break
    }
  }

  let published = 0
  if (pending.length > 0) {
    const outcome = await ports.publisher.publish(pending.map(({ event }) => event))
    published = outcome.accepted
    const refused = pending[outcome.accepted]
    if (refused) {
      failedFrom = refused.index
      failure = {
        ...(outcome.failure ?? { code: 'Unknown', message: 'the bus did not accept the event' }),
        eventId: refused.event.detail.event_id,
      }
    }
  }

  return {
    // a record without a sequence number cannot be named; an empty identifier makes Lambda retry
    // the whole batch, which loses nothing.
    batchItemFailures: records
      .slice(failedFrom)
      .map((record) => ({ itemIdentifier: record.dynamodb?.SequenceNumber ?? '' })),
    published,
    ...(failure ? { failure } : {}),
  }
}
