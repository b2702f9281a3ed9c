import { randomUUID } from 'node:crypto'
import { type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb'
import { ACTIVITY_RETENTION_DAYS, type ActivityEntry, type ActivityLog } from '../domain/activity.ts'
import { translateAwsError } from './aws-errors.ts'
import { IDEMPOTENCY_EXPIRY_ATTRIBUTE } from './idempotency-record.ts'

/**
 * Activity records in the single table: one partition per credential, `ACTIVITY#<company>#<id>`,
 * apart from the company's credential partition, so a function that writes records may be
 * granted exactly these partitions (IAM `dynamodb:LeadingKeys`), and deleting a credential
 * leaves its records to their TTL (the table's one TTL attribute, which idempotency records
 * share). Sort keys are the time and a random suffix: newest first is a descending Query.
 */

/** Prefix of every activity partition. */
export const ACTIVITY_PARTITION_PREFIX = 'ACTIVITY#'

/** The partition of one credential's activity. */
export const activityPartitionKey = (companyId: string, credentialId: string) =>
  `${ACTIVITY_PARTITION_PREFIX}${companyId}#${credentialId}`

/** An activity record as it sits in the table. */
export interface ActivityItem {
  pk: string
  sk: string
  at: string
  kind: ActivityEntry['kind']
  actor_key_id?: string
  actor_key_name?: string
  changed_fields?: string[]
  secret_rotated?: boolean
  result?: string
  message?: string
  image?: string
  source?: 'api' | 'schedule'
  /** Epoch seconds after which DynamoDB's TTL deletes the record. */
  [IDEMPOTENCY_EXPIRY_ATTRIBUTE]: number
}

/** The item of a record, for the transaction of what it records. */
export function activityItem(companyId: string, credentialId: string, entry: ActivityEntry): ActivityItem {
  return {
    pk: activityPartitionKey(companyId, credentialId),
    sk: `${entry.at}#${randomUUID()}`,
    at: entry.at,
    kind: entry.kind,
    ...(entry.actor ? { actor_key_id: entry.actor.apiKeyId, actor_key_name: entry.actor.apiKeyName } : {}),
    ...(entry.changedFields ? { changed_fields: entry.changedFields } : {}),
    ...(entry.secretRotated === undefined ? {} : { secret_rotated: entry.secretRotated }),
    ...(entry.result ? { result: entry.result } : {}),
    ...(entry.message === undefined ? {} : { message: entry.message }),
    ...(entry.image ? { image: entry.image } : {}),
    ...(entry.source ? { source: entry.source } : {}),
    [IDEMPOTENCY_EXPIRY_ATTRIBUTE]:
      Math.floor(Date.parse(entry.at) / 1000) + ACTIVITY_RETENTION_DAYS * 86_400,
  }
}

function entryOf(item: ActivityItem): ActivityEntry {
  return {
    at: item.at,
    kind: item.kind,
    ...(item.actor_key_id && item.actor_key_name
      ? { actor: { apiKeyId: item.actor_key_id, apiKeyName: item.actor_key_name } }
      : {}),
    ...(item.changed_fields ? { changedFields: item.changed_fields } : {}),
    ...(item.secret_rotated === undefined ? {} : { secretRotated: item.secret_rotated }),
    ...(item.result ? { result: item.result as ActivityEntry['result'] } : {}),
    ...(item.message === undefined ? {} : { message: item.message }),
    ...(item.image ? { image: item.image } : {}),
    ...(item.source ? { source: item.source } : {}),
  }
}

/** Reads activity records (the writes are parts of the stores' transactions). */
export function createDynamoActivityLog(options: {
  client: DynamoDBDocumentClient
  tableName: string
}): ActivityLog {
  const onError = translateAwsError('DynamoDB')
  return {
    async list(companyId, credentialId, limit) {
      const nowSeconds = Math.floor(Date.now() / 1000)
      const output = await options.client
        .send(
          new QueryCommand({
            TableName: options.tableName,
            KeyConditionExpression: 'pk = :pk',
            ExpressionAttributeValues: { ':pk': activityPartitionKey(companyId, credentialId) },
            ScanIndexForward: false,
            Limit: limit,
            ConsistentRead: true,
          }),
        )
        .catch(onError)
      // TTL deletes within days of expiry, not at once: an expired record is not answered
      return ((output.Items ?? []) as ActivityItem[])
        .filter((item) => item[IDEMPOTENCY_EXPIRY_ATTRIBUTE] > nowSeconds)
        .map(entryOf)
    },
  }
}
