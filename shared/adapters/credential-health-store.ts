import { randomUUID } from 'node:crypto'
import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb'
import {
  type DynamoDBDocumentClient,
  GetCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb'
import type {
  CredentialHealthStore,
  CredentialWithHealth,
  LastUse,
  LastVerification,
} from '../domain/credential-health.ts'
import { companyPartitionKey, credentialSortKey } from '../domain/credential-keys.ts'
import type { VerificationStatus } from '../domain/verify-credential.ts'
import { activityItem } from './activity-log.ts'
import { translateAwsError } from './aws-errors.ts'
import {
  type CredentialItem,
  SUMMARY_ATTRIBUTES,
  SUMMARY_NAMES,
  toCredentialSummary,
} from './docker-registry-store.ts'

/**
 * The health attributes of credential items: plain top-level attributes beside the credential's
 * fields, written with UpdateItem SET/REMOVE of these names only, so neither a field nor the
 * envelope is ever read or rewritten by a health write, and the writers' IAM policies can allow
 * exactly these names (`dynamodb:Attributes`).
 */
export const HEALTH_ATTRIBUTES = {
  result: 'verification_result',
  message: 'verification_message',
  verifiedAt: 'verified_at',
  image: 'verification_image',
  platform: 'verification_platform',
  /** the scheduled run that made the last verification, if one did. */
  run: 'verification_run',
  usedAt: 'last_used_at',
  usedImageHost: 'last_used_image_host',
} as const

/** The attributes a verification writes (its IAM allow-list, the key attributes included). */
export const VERIFICATION_WRITE_ATTRIBUTES = [
  'pk',
  'sk',
  HEALTH_ATTRIBUTES.result,
  HEALTH_ATTRIBUTES.message,
  HEALTH_ATTRIBUTES.verifiedAt,
  HEALTH_ATTRIBUTES.image,
  HEALTH_ATTRIBUTES.platform,
  HEALTH_ATTRIBUTES.run,
] as const

/** The attributes a use stamp writes (its IAM allow-list, the key attributes included). */
export const USE_WRITE_ATTRIBUTES = [
  'pk',
  'sk',
  HEALTH_ATTRIBUTES.usedAt,
  HEALTH_ATTRIBUTES.usedImageHost,
] as const

/** The health attributes as they sit on the item. */
interface HealthItem {
  verification_result?: VerificationStatus
  verification_message?: string
  verified_at?: string
  verification_image?: string
  verification_platform?: string
  last_used_at?: string
  last_used_image_host?: string
}

// everything but the envelope: the summary fields and the health attributes.
const READ_ATTRIBUTES = [
  ...SUMMARY_ATTRIBUTES,
  ...Object.values(HEALTH_ATTRIBUTES).filter((name) => name !== HEALTH_ATTRIBUTES.run),
]

function healthOf(item: HealthItem): Pick<CredentialWithHealth, 'lastVerification' | 'lastUse'> {
  const health: Pick<CredentialWithHealth, 'lastVerification' | 'lastUse'> = {}
  if (item.verification_result && item.verified_at) {
    health.lastVerification = {
      result: item.verification_result,
      message: item.verification_message ?? '',
      verifiedAt: item.verified_at,
      ...(item.verification_image ? { image: item.verification_image } : {}),
      ...(item.verification_platform ? { platform: item.verification_platform } : {}),
    }
  }
  if (item.last_used_at && item.last_used_image_host) {
    health.lastUse = { usedAt: item.last_used_at, imageHost: item.last_used_image_host }
  }
  return health
}

/** Options of the DynamoDB health store. */
export interface DynamoCredentialHealthStoreOptions {
  client: DynamoDBDocumentClient
  tableName: string
}

/** Health attributes of credentials in the single table. */
export function createDynamoCredentialHealthStore({
  client,
  tableName,
}: DynamoCredentialHealthStoreOptions): CredentialHealthStore {
  const onError = translateAwsError('DynamoDB')
  const key = (companyId: string, id: string) => ({
    pk: companyPartitionKey(companyId),
    sk: credentialSortKey(id),
  })
  const exists = async (companyId: string, id: string) => {
    const { Item } = await client
      .send(
        new GetCommand({
          TableName: tableName,
          Key: key(companyId, id),
          ProjectionExpression: 'pk',
          ConsistentRead: true,
        }),
      )
      .catch(onError)
    return Item !== undefined
  }

  return {
    async recordVerification(companyId, id, verification: LastVerification, runId, activity) {
      const set: Record<string, unknown> = {
        [HEALTH_ATTRIBUTES.result]: verification.result,
        [HEALTH_ATTRIBUTES.message]: verification.message,
        [HEALTH_ATTRIBUTES.verifiedAt]: verification.verifiedAt,
        [HEALTH_ATTRIBUTES.image]: verification.image,
        [HEALTH_ATTRIBUTES.platform]: verification.platform,
        [HEALTH_ATTRIBUTES.run]: runId,
      }
      const assignments: string[] = []
      const removals: string[] = []
      const values: Record<string, unknown> = {}
      for (const [name, value] of Object.entries(set)) {
        if (value === undefined) removals.push(name)
        else {
          assignments.push(`${name} = :${name}`)
          values[`:${name}`] = value
        }
      }
      const update = {
        TableName: tableName,
        Key: key(companyId, id),
        UpdateExpression: `SET ${assignments.join(', ')}${removals.length > 0 ? ` REMOVE ${removals.join(', ')}` : ''}`,
        // never recreate a deleted credential; never replace a later verification with an
        // earlier one (two checks racing, a slow scheduled one behind an on-demand one)
        ConditionExpression: `attribute_exists(pk) AND (attribute_not_exists(${HEALTH_ATTRIBUTES.verifiedAt}) OR ${HEALTH_ATTRIBUTES.verifiedAt} <= :${HEALTH_ATTRIBUTES.verifiedAt})`,
        ExpressionAttributeValues: values,
      }
      try {
        if (activity) {
          // the record and the verification commit together or not at all; the token makes the
          // SDK's retry of an attempt whose answer was lost return that attempt's outcome
          await client.send(
            new TransactWriteCommand({
              TransactItems: [
                { Update: update },
                {
                  Put: {
                    TableName: tableName,
                    Item: activityItem(companyId, id, activity),
                    ConditionExpression: 'attribute_not_exists(pk)',
                  },
                },
              ],
              ClientRequestToken: randomUUID(),
            }),
          )
        } else {
          await client.send(new UpdateCommand({ ...update, ReturnValues: 'NONE' }))
        }
        return true
      } catch (error) {
        const failedCondition =
          error instanceof ConditionalCheckFailedException ||
          (error instanceof TransactionCanceledException &&
            error.CancellationReasons?.[0]?.Code === 'ConditionalCheckFailed')
        if (!failedCondition) return onError(error)
        // a later verification is stored (this one is history, and the credential exists), or
        // the credential is gone
        return exists(companyId, id)
      }
    },

    async recordUse(companyId, id, use: LastUse, staleBefore) {
      try {
        await client.send(
          new UpdateCommand({
            TableName: tableName,
            Key: key(companyId, id),
            UpdateExpression: `SET ${HEALTH_ATTRIBUTES.usedAt} = :at, ${HEALTH_ATTRIBUTES.usedImageHost} = :host`,
            ConditionExpression: `attribute_exists(pk) AND (attribute_not_exists(${HEALTH_ATTRIBUTES.usedAt}) OR ${HEALTH_ATTRIBUTES.usedAt} < :stale)`,
            ExpressionAttributeValues: { ':at': use.usedAt, ':host': use.imageHost, ':stale': staleBefore },
            ReturnValues: 'NONE',
          }),
        )
        return true
      } catch (error) {
        if (error instanceof ConditionalCheckFailedException) return false
        return onError(error)
      }
    },

    async findWithHealth(companyId, id) {
      const { Item } = await client
        .send(
          new GetCommand({
            TableName: tableName,
            Key: key(companyId, id),
            ProjectionExpression: READ_ATTRIBUTES.join(', '),
            ExpressionAttributeNames: SUMMARY_NAMES,
            ConsistentRead: true,
          }),
        )
        .catch(onError)
      if (!Item) return undefined
      return { ...toCredentialSummary(Item as CredentialItem), ...healthOf(Item as HealthItem) }
    },
  }
}
