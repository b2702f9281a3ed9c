import { marshall } from '@aws-sdk/util-dynamodb'
import type { AttributeValue, DynamoDBRecord } from 'aws-lambda'
import type { CredentialItem } from '../../shared/adapters/docker-registry-store.ts'

/**
 * Builders of DynamoDB stream records exactly as Lambda delivers them to a function subscribed to
 * a NEW_AND_OLD_IMAGES stream: AttributeValue JSON, binary values as base64 strings, the creation
 * time in epoch seconds.
 */

/** The stream's ARN in every record. */
export const STREAM_ARN =
  'arn:aws:dynamodb:eu-west-1:123456789012:table/registry-credentials/stream/2025-01-30T00:00:00.000'

/** A string that must never leave the table: it sits in every fixture's secret envelope. */
export const CANARY = 'CANARY-s3cr3t-7f1c'

// lambda's JSON carries binary attributes as base64 strings where the SDK has bytes.
function toStreamJson(value: unknown): unknown {
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64')
  if (Array.isArray(value)) return value.map(toStreamJson)
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, toStreamJson(inner)]))
  }
  return value
}

/** An item in the stream's image format. */
export function streamImage(item: object): Record<string, AttributeValue> {
  return toStreamJson(marshall(item, { removeUndefinedValues: true })) as Record<string, AttributeValue>
}

/** A credential item as the store writes it, with the canary in every part of its envelope. */
export function credentialItem(overrides: Partial<CredentialItem> = {}): CredentialItem {
  const companyId = overrides.company_id ?? '0c6a6c9e-5d2b-4c1f-9f57-3c1bb6a1d001'
  const id = overrides.id ?? '01948f5e-7a10-7c3e-8d2a-5b7f3e9c0a11'
  return {
    pk: `COMPANY#${companyId}`,
    sk: `DOCKER_REGISTRY#${id}`,
    id,
    company_id: companyId,
    name: 'Production Docker Hub',
    registry: 'dockerHub',
    username: 'acme-deploy',
    created_at: '2025-01-30T10:00:00.000Z',
    updated_at: '2025-01-30T10:00:00.000Z',
    secret_envelope: {
      version: 1,
      key_id: `arn:aws:kms:eu-west-1:123456789012:key/${CANARY}`,
      encrypted_key: new TextEncoder().encode(`${CANARY}-data-key`),
      iv: new TextEncoder().encode(CANARY.slice(0, 12)),
      tag: new TextEncoder().encode(CANARY.slice(0, 16)),
      ciphertext: new TextEncoder().encode(CANARY),
    },
    ...overrides,
  }
}

/** An API key item, which shares the table with credentials. */
export function apiKeyItem(): { pk: string; sk: string } & Record<string, unknown> {
  return {
    pk: 'API_KEY#9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
    sk: 'API_KEY',
    company_id: '0c6a6c9e-5d2b-4c1f-9f57-3c1bb6a1d001',
    name: 'ci',
    permissions: ['docker_registries:read', 'docker_registries:write'],
    enabled: true,
    created_at: '2025-01-30T09:00:00.000Z',
  }
}

/** What changed in one record. */
export interface StreamChange {
  eventName: 'INSERT' | 'MODIFY' | 'REMOVE'
  oldItem?: { pk: string; sk: string }
  newItem?: { pk: string; sk: string }
  sequenceNumber: string
  /** Epoch seconds. */
  approximateCreationDateTime?: number
  eventID?: string
}

/** One stream record, as Lambda delivers it. */
export function streamRecord(change: StreamChange): DynamoDBRecord {
  const item = change.newItem ?? change.oldItem
  if (!item) throw new Error('a stream record needs an image')
  const dynamodb: NonNullable<DynamoDBRecord['dynamodb']> = {
    ApproximateCreationDateTime: change.approximateCreationDateTime ?? 1_738_231_200,
    Keys: streamImage({ pk: item.pk, sk: item.sk }),
    SequenceNumber: change.sequenceNumber,
    SizeBytes: 412,
    StreamViewType: 'NEW_AND_OLD_IMAGES',
  }
  if (change.newItem) dynamodb.NewImage = streamImage(change.newItem)
  if (change.oldItem) dynamodb.OldImage = streamImage(change.oldItem)
  return {
    eventID: change.eventID ?? `event-${change.sequenceNumber}`,
    eventName: change.eventName,
    eventVersion: '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: 'eu-west-1',
    dynamodb,
    eventSourceARN: STREAM_ARN,
  }
}
