import type { DynamoDBRecord } from 'aws-lambda'
import { describe, expect, it } from 'vitest'
import {
  type CredentialEvent,
  MalformedStreamRecordError,
  toCredentialEvent,
} from '../../shared/domain/credential-events.ts'
import { apiKeyItem, CANARY, credentialItem, STREAM_ARN, streamRecord } from '../support/stream-records.ts'

const COMPANY_ID = '0c6a6c9e-5d2b-4c1f-9f57-3c1bb6a1d001'
const CREDENTIAL_ID = '01948f5e-7a10-7c3e-8d2a-5b7f3e9c0a11'

// written out by hand, byte for byte what Lambda hands a NEW_AND_OLD_IMAGES subscriber for a
// PutItem of a new credential (binary attributes base64, numbers as strings).
const insertRecord: DynamoDBRecord = {
  eventID: '7de3041dd709b024af6f29e4fa13d34c',
  eventName: 'INSERT',
  eventVersion: '1.1',
  eventSource: 'aws:dynamodb',
  awsRegion: 'eu-west-1',
  dynamodb: {
    ApproximateCreationDateTime: 1738231200,
    Keys: {
      pk: { S: `COMPANY#${COMPANY_ID}` },
      sk: { S: `DOCKER_REGISTRY#${CREDENTIAL_ID}` },
    },
    NewImage: {
      pk: { S: `COMPANY#${COMPANY_ID}` },
      sk: { S: `DOCKER_REGISTRY#${CREDENTIAL_ID}` },
      id: { S: CREDENTIAL_ID },
      company_id: { S: COMPANY_ID },
      name: { S: 'Production Docker Hub' },
      registry: { S: 'dockerHub' },
      username: { S: 'acme-deploy' },
      created_at: { S: '2025-01-30T10:00:00.000Z' },
      updated_at: { S: '2025-01-30T10:00:00.000Z' },
      secret_envelope: {
        M: {
          version: { N: '1' },
          key_id: { S: `arn:aws:kms:eu-west-1:123456789012:key/${CANARY}` },
          encrypted_key: { B: 'Q0FOQVJZLXMzY3IzdC03ZjFjLWRhdGEta2V5' },
          iv: { B: 'Q0FOQVJZLXMzY3Iz' },
          tag: { B: 'Q0FOQVJZLXMzY3IzdC03Zg==' },
          ciphertext: { B: 'Q0FOQVJZLXMzY3IzdC03ZjFj' },
        },
      },
    },
    SequenceNumber: '111000000000012345678901',
    SizeBytes: 412,
    StreamViewType: 'NEW_AND_OLD_IMAGES',
  },
  eventSourceARN: STREAM_ARN,
}

const created = credentialItem()
const renamed = credentialItem({
  name: 'Docker Hub (rotated)',
  username: 'acme-deploy-2',
  updated_at: '2025-02-01T08:30:00.000Z',
})

const modifyRecord = streamRecord({
  eventName: 'MODIFY',
  oldItem: created,
  newItem: renamed,
  sequenceNumber: '222000000000012345678902',
  approximateCreationDateTime: 1738398600,
  eventID: 'c81e728d9d4c2f636f067f89cc14862c',
})

const removeRecord = streamRecord({
  eventName: 'REMOVE',
  oldItem: renamed,
  sequenceNumber: '333000000000012345678903',
  approximateCreationDateTime: 1738402261,
  eventID: 'eccbc87e4b5ce2fe28308fd9f2a7baf3',
})

const canaryForms = [
  CANARY,
  Buffer.from(CANARY).toString('base64'),
  Buffer.from(`${CANARY}-data-key`).toString('base64'),
  'secret',
  'envelope',
  'ciphertext',
]

describe('toCredentialEvent', () => {
  it('turns an INSERT of a credential into DockerRegistryCredentialCreated', () => {
    // Arrange
    const record = insertRecord

    // Act
    const event = toCredentialEvent(record)

    // Assert
    expect(event).toStrictEqual({
      source: 'registry-credentials',
      detailType: 'DockerRegistryCredentialCreated',
      time: '2025-01-30T10:00:00.000Z',
      detail: {
        event_id: '7de3041dd709b024af6f29e4fa13d34c',
        company_id: COMPANY_ID,
        id: CREDENTIAL_ID,
        name: 'Production Docker Hub',
        registry: 'dockerHub',
        username: 'acme-deploy',
        created_at: '2025-01-30T10:00:00.000Z',
        updated_at: '2025-01-30T10:00:00.000Z',
      },
    })
  })

  it('turns a MODIFY into DockerRegistryCredentialUpdated carrying the new image', () => {
    // Arrange
    const record = modifyRecord

    // Act
    const event = toCredentialEvent(record)

    // Assert
    expect(event).toStrictEqual({
      source: 'registry-credentials',
      detailType: 'DockerRegistryCredentialUpdated',
      time: '2025-02-01T08:30:00.000Z',
      detail: {
        event_id: 'c81e728d9d4c2f636f067f89cc14862c',
        company_id: COMPANY_ID,
        id: CREDENTIAL_ID,
        name: 'Docker Hub (rotated)',
        registry: 'dockerHub',
        username: 'acme-deploy-2',
        created_at: '2025-01-30T10:00:00.000Z',
        updated_at: '2025-02-01T08:30:00.000Z',
      },
    })
  })

  it('turns a REMOVE into DockerRegistryCredentialDeleted from the old image, with deleted_at', () => {
    // Arrange
    const record = removeRecord

    // Act
    const event = toCredentialEvent(record)

    // Assert
    expect(event).toStrictEqual({
      source: 'registry-credentials',
      detailType: 'DockerRegistryCredentialDeleted',
      time: '2025-02-01T09:31:01.000Z',
      detail: {
        event_id: 'eccbc87e4b5ce2fe28308fd9f2a7baf3',
        company_id: COMPANY_ID,
        id: CREDENTIAL_ID,
        name: 'Docker Hub (rotated)',
        registry: 'dockerHub',
        username: 'acme-deploy-2',
        created_at: '2025-01-30T10:00:00.000Z',
        updated_at: '2025-02-01T08:30:00.000Z',
        deleted_at: '2025-02-01T09:31:01.000Z',
      },
    })
  })

  it('ignores API key items', () => {
    // Arrange
    const records = (['INSERT', 'MODIFY', 'REMOVE'] as const).map((eventName, index) =>
      streamRecord({
        eventName,
        oldItem: eventName === 'INSERT' ? undefined : apiKeyItem(),
        newItem: eventName === 'REMOVE' ? undefined : apiKeyItem(),
        sequenceNumber: `40000000000000000000000${index}`,
      }),
    )

    // Act
    const events = records.map(toCredentialEvent)

    // Assert
    expect(events).toStrictEqual([undefined, undefined, undefined])
  })

  it("ignores the company's count item and its Idempotency-Key records", () => {
    // Arrange: the items a create's and a delete's transaction write beside the credential
    const companyPartition = `COMPANY#${COMPANY_ID}`
    const count = { pk: companyPartition, sk: 'DOCKER_REGISTRY~COUNT', credential_count: 3 }
    const record = {
      pk: companyPartition,
      sk: 'IDEMPOTENCY#create-docker-registry#9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
      fingerprint: 'ab',
      credential: { id: CREDENTIAL_ID },
      expiration: 1_738_317_600,
    }
    const records = [count, record].flatMap((item, index) =>
      (['INSERT', 'MODIFY', 'REMOVE'] as const).map((eventName) =>
        streamRecord({
          eventName,
          oldItem: eventName === 'INSERT' ? undefined : item,
          newItem: eventName === 'REMOVE' ? undefined : item,
          sequenceNumber: `50000000000000000000000${index}`,
        }),
      ),
    )

    // Act
    const events = records.map(toCredentialEvent)

    // Assert
    expect(events).toStrictEqual(records.map(() => undefined))
  })

  it('never puts the secret envelope into any event', () => {
    // Arrange
    const records = [insertRecord, modifyRecord, removeRecord]

    // Act
    const published = JSON.stringify(records.map(toCredentialEvent))

    // Assert
    for (const form of canaryForms) expect(published).not.toContain(form)
  })

  it('leaves out attributes it does not know, so new item fields stay private by default', () => {
    // Arrange
    const item = { ...credentialItem(), internal_note: CANARY }
    const record = streamRecord({
      eventName: 'INSERT',
      newItem: item,
      sequenceNumber: '500000000000000000000001',
    })

    // Act
    const event = toCredentialEvent(record) as CredentialEvent

    // Assert
    expect(Object.keys(event.detail).sort()).toStrictEqual([
      'company_id',
      'created_at',
      'event_id',
      'id',
      'name',
      'registry',
      'updated_at',
      'username',
    ])
  })

  it('refuses a credential record without images rather than dropping it', () => {
    // Arrange: a KEYS_ONLY stream would deliver this
    const record = streamRecord({
      eventName: 'INSERT',
      newItem: created,
      sequenceNumber: '600000000000000000000001',
    })
    delete record.dynamodb?.NewImage

    // Act
    const act = () => toCredentialEvent(record)

    // Assert
    expect(act).toThrow(MalformedStreamRecordError)
  })
})

describe('toCredentialEvent for health changes', () => {
  const verified = (result: string, verifiedAt: string, extra: Record<string, string> = {}) =>
    ({
      ...created,
      verification_result: result,
      verification_message: `registry said ${result}`,
      verified_at: verifiedAt,
      ...extra,
    }) as unknown as typeof created
  const record = (oldItem: object, newItem: object) =>
    streamRecord({
      eventName: 'MODIFY',
      oldItem: oldItem as typeof created,
      newItem: newItem as typeof created,
      sequenceNumber: '444000000000012345678904',
      approximateCreationDateTime: 1738398600,
      eventID: 'a87ff679a2f3e71d9181a67b7542122c',
    })

  it('publishes VerificationFailed when a working credential stops working, without the secret', () => {
    const event = toCredentialEvent(
      record(verified('ok', '2025-02-01T03:00:00.000Z'), verified('auth_denied', '2025-02-02T03:00:00.000Z')),
    )

    expect(event).toEqual({
      source: 'registry-credentials',
      detailType: 'DockerRegistryCredentialVerificationFailed',
      time: '2025-02-01T08:30:00.000Z',
      detail: {
        event_id: 'a87ff679a2f3e71d9181a67b7542122c',
        company_id: COMPANY_ID,
        id: CREDENTIAL_ID,
        name: 'Production Docker Hub',
        registry: 'dockerHub',
        username: 'acme-deploy',
        created_at: '2025-01-30T10:00:00.000Z',
        updated_at: '2025-01-30T10:00:00.000Z',
        result: 'auth_denied',
        message: 'registry said auth_denied',
        verified_at: '2025-02-02T03:00:00.000Z',
        previous_result: 'ok',
      },
    })
    for (const form of canaryForms) expect(JSON.stringify(event)).not.toContain(form)
  })

  it('publishes VerificationFailed for a first verification that fails', () => {
    const event = toCredentialEvent(record(created, verified('pull_denied', '2025-02-02T03:00:00.000Z')))

    expect(event?.detailType).toBe('DockerRegistryCredentialVerificationFailed')
    expect(event?.detail).not.toHaveProperty('previous_result')
  })

  it('publishes VerificationRecovered when a failing credential works again, with its image', () => {
    const event = toCredentialEvent(
      record(
        verified('timeout', '2025-02-01T03:00:00.000Z'),
        verified('ok', '2025-02-02T03:00:00.000Z', { verification_image: 'docker.io/acme/api:1' }),
      ),
    )

    expect(event?.detailType).toBe('DockerRegistryCredentialVerificationRecovered')
    expect(event?.detail).toMatchObject({
      result: 'ok',
      previous_result: 'timeout',
      image: 'docker.io/acme/api:1',
    })
  })

  it.each([
    [
      'an unchanged good health',
      verified('ok', '2025-02-01T03:00:00.000Z'),
      verified('anonymous', '2025-02-02T03:00:00.000Z'),
    ],
    [
      'an unchanged bad health',
      verified('dns', '2025-02-01T03:00:00.000Z'),
      verified('timeout', '2025-02-02T03:00:00.000Z'),
    ],
    ['a first verification that works', created, verified('ok', '2025-02-02T03:00:00.000Z')],
    [
      'a use stamp',
      verified('dns', '2025-02-01T03:00:00.000Z'),
      verified('dns', '2025-02-01T03:00:00.000Z', { last_used_at: '2025-02-02T03:00:00.000Z' }),
    ],
  ])('publishes nothing, and no Updated event, for %s', (_, oldItem, newItem) => {
    expect(toCredentialEvent(record(oldItem, newItem))).toBeUndefined()
  })

  it('still publishes Updated for a change of a field, whatever the health attributes', () => {
    const event = toCredentialEvent(
      record(verified('ok', '2025-02-01T03:00:00.000Z'), {
        ...verified('ok', '2025-02-01T03:00:00.000Z'),
        name: 'x',
        updated_at: '2025-02-03T00:00:00.000Z',
      }),
    )

    expect(event?.detailType).toBe('DockerRegistryCredentialUpdated')
  })
})

describe('toCredentialEvent names the actor', () => {
  const actor = { changed_by_key_id: 'a'.repeat(64), changed_by_key_name: 'CI deploys' }

  it('of a create', () => {
    const event = toCredentialEvent(
      streamRecord({
        eventName: 'INSERT',
        newItem: { ...created, ...actor },
        sequenceNumber: '555000000000012345678905',
        approximateCreationDateTime: 1738231200,
        eventID: 'e4da3b7fbbce2345d7772b0674a318d5',
      }),
    )

    expect(event?.detail).toMatchObject({ actor: { api_key_id: 'a'.repeat(64), api_key_name: 'CI deploys' } })
  })

  it('of an update, with the fields it wrote and whether it rotated the secret', () => {
    const event = toCredentialEvent(
      streamRecord({
        eventName: 'MODIFY',
        oldItem: created,
        newItem: {
          ...renamed,
          ...actor,
          changed_fields: ['name', 'secret', 'username'],
          secret_rotated: true,
        } as never,
        sequenceNumber: '666000000000012345678906',
        approximateCreationDateTime: 1738398600,
        eventID: '1679091c5a880faf6fb5e6087eb1b2dc',
      }),
    )

    expect(event?.detailType).toBe('DockerRegistryCredentialUpdated')
    expect(event?.detail).toMatchObject({
      actor: { api_key_id: 'a'.repeat(64), api_key_name: 'CI deploys' },
      changed_fields: ['name', 'secret', 'username'],
      secret_rotated: true,
    })
    // the field names say "secret" by design; the secret's bytes and envelope never appear
    for (const form of canaryForms.slice(0, 3)) expect(JSON.stringify(event)).not.toContain(form)
    expect(JSON.stringify(event)).not.toContain('envelope')
  })

  it('leaves the actor out for items written before actors were recorded', () => {
    expect(toCredentialEvent(modifyRecord)?.detail).not.toHaveProperty('actor')
  })
})
