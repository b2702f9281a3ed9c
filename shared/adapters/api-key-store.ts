import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb'
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  paginateScan,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb'
import type { ApiKeyLookup, ApiKeyRecord, ApiKeyStore, Permission } from '../domain/api-key.ts'
import { translateAwsError } from './aws-errors.ts'
import { createExpiringCache } from './expiring-cache.ts'

/** Sort key shared by every API key item. */
export const API_KEY_SORT_KEY = 'API_KEY'

/** Partition key of one API key. */
export const apiKeyPartitionKey = (hash: string) => `API_KEY#${hash}`

interface ApiKeyItem {
  pk: string
  sk: string
  key_hash: string
  company_id: string
  name: string
  permissions: Permission[]
  enabled: boolean
  expires_at?: string
  created_at: string
}

function toRecord(item: ApiKeyItem): ApiKeyRecord {
  return {
    hash: item.key_hash,
    companyId: item.company_id,
    name: item.name,
    permissions: item.permissions,
    enabled: item.enabled,
    ...(item.expires_at === undefined ? {} : { expiresAt: item.expires_at }),
    createdAt: item.created_at,
  }
}

/** Options of the DynamoDB key store. */
export interface DynamoApiKeyStoreOptions {
  client: DynamoDBDocumentClient
  tableName: string
}

/** API keys in the single table, one item per key hash. */
export function createDynamoApiKeyStore({ client, tableName }: DynamoApiKeyStoreOptions): ApiKeyStore {
  const onError = translateAwsError('DynamoDB')
  return {
    async find(hash: string): Promise<ApiKeyRecord | undefined> {
      const { Item } = await client
        .send(
          new GetCommand({
            TableName: tableName,
            Key: { pk: apiKeyPartitionKey(hash), sk: API_KEY_SORT_KEY },
          }),
        )
        .catch(onError)
      return Item ? toRecord(Item as ApiKeyItem) : undefined
    },

    async create(record: ApiKeyRecord): Promise<void> {
      const item: ApiKeyItem = {
        pk: apiKeyPartitionKey(record.hash),
        sk: API_KEY_SORT_KEY,
        key_hash: record.hash,
        company_id: record.companyId,
        name: record.name,
        permissions: record.permissions,
        enabled: record.enabled,
        ...(record.expiresAt === undefined ? {} : { expires_at: record.expiresAt }),
        created_at: record.createdAt,
      }
      await client
        .send(
          new PutCommand({
            TableName: tableName,
            Item: item,
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        )
        .catch(onError)
    },

    // an operator command, run rarely: a filtered Scan is simpler than an index kept for it.
    async list(companyId?: string): Promise<ApiKeyRecord[]> {
      const records: ApiKeyRecord[] = []
      const pages = paginateScan(
        { client },
        {
          TableName: tableName,
          FilterExpression: companyId ? 'sk = :sk AND company_id = :company' : 'sk = :sk',
          ExpressionAttributeValues: {
            ':sk': API_KEY_SORT_KEY,
            ...(companyId ? { ':company': companyId } : {}),
          },
        },
      )
      for await (const page of pages) {
        for (const item of page.Items ?? []) records.push(toRecord(item as ApiKeyItem))
      }
      return records.sort((a, b) => a.createdAt.localeCompare(b.createdAt))
    },

    async revoke(hash: string): Promise<boolean> {
      try {
        await client.send(
          new UpdateCommand({
            TableName: tableName,
            Key: { pk: apiKeyPartitionKey(hash), sk: API_KEY_SORT_KEY },
            UpdateExpression: 'SET enabled = :false',
            ConditionExpression: 'attribute_exists(pk)',
            ExpressionAttributeValues: { ':false': false },
          }),
        )
        return true
      } catch (error) {
        if (error instanceof ConditionalCheckFailedException) return false
        return onError(error)
      }
    },
  }
}

/** How long a warm container trusts a looked-up key: the delay before a revocation takes effect. */
export const API_KEY_CACHE_TTL_MS = 30_000

/** How many keys a warm container remembers. */
export const API_KEY_CACHE_MAX_ENTRIES = 1_000

/**
 * Caches found keys briefly, so warm invocations skip the lookup. Unknown keys are not cached:
 * a key minted a moment ago works at once, and a guessing caller gains nothing.
 */
export function createCachedApiKeyLookup(
  lookup: ApiKeyLookup,
  { ttlMs = API_KEY_CACHE_TTL_MS, max = API_KEY_CACHE_MAX_ENTRIES } = {},
): ApiKeyLookup {
  const cache = createExpiringCache<string, ApiKeyRecord>({ max, ttlMs })
  return {
    async find(hash: string): Promise<ApiKeyRecord | undefined> {
      const cached = cache.get(hash)
      if (cached) return cached
      const record = await lookup.find(hash)
      if (record) cache.set(hash, record)
      return record
    },
  }
}
