import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb'
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  paginateQuery,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb'
import type { ChangeRecord } from '../domain/activity.ts'
import type { RegistryProvider } from '../domain/docker-registry.ts'
import { ConcurrentUpdateError } from '../domain/errors.ts'
import type {
  CredentialChanges,
  CredentialPage,
  CredentialStore,
  CredentialSummary,
  SealedSecret,
  StoredCredential,
} from '../domain/ports.ts'
import { translateAwsError } from './aws-errors.ts'

/** Partition key of everything a company owns. */
export const companyPartitionKey = (companyId: string) => `COMPANY#${companyId}`

/** Prefix of credential sort keys. */
export const CREDENTIAL_SORT_KEY_PREFIX = 'DOCKER_REGISTRY#'

/** Sort key of one credential. */
export const credentialSortKey = (id: string) => `${CREDENTIAL_SORT_KEY_PREFIX}${id}`

/** The credential item as it sits in the table. */
export interface CredentialItem {
  pk: string
  sk: string
  id: string
  company_id: string
  name: string
  registry: RegistryProvider
  username: string
  created_at: string
  updated_at: string
  registry_host?: string
  /** Who made the last change (an API key's id and name), carried by its change event. */
  changed_by_key_id?: string
  changed_by_key_name?: string
  /** The fields the last update wrote, and whether it stored a new secret. */
  changed_fields?: string[]
  secret_rotated?: boolean
  secret_envelope: EnvelopeAttribute
}

/** The envelope map attribute; binary parts are DynamoDB binary (B) values. */
export interface EnvelopeAttribute {
  version: 1
  key_id: string
  encrypted_key: Uint8Array
  iv: Uint8Array
  tag: Uint8Array
  ciphertext: Uint8Array
}

// reads that never decrypt project only these, so the envelope does not even leave the table.
const SUMMARY_ATTRIBUTES = [
  'id',
  'company_id',
  '#name',
  'registry',
  'username',
  'created_at',
  'updated_at',
  'registry_host',
]
const SUMMARY_PROJECTION = SUMMARY_ATTRIBUTES.join(', ')
const SUMMARY_NAMES = { '#name': 'name' }

/** Maps a sealed secret to its attribute. */
export function toEnvelopeAttribute(sealed: SealedSecret): EnvelopeAttribute {
  return {
    version: sealed.version,
    key_id: sealed.keyId,
    encrypted_key: sealed.encryptedKey,
    iv: sealed.iv,
    tag: sealed.tag,
    ciphertext: sealed.ciphertext,
  }
}

/** Maps an envelope attribute back to a sealed secret. */
export function fromEnvelopeAttribute(attribute: EnvelopeAttribute): SealedSecret {
  return {
    version: attribute.version,
    keyId: attribute.key_id,
    encryptedKey: attribute.encrypted_key,
    iv: attribute.iv,
    tag: attribute.tag,
    ciphertext: attribute.ciphertext,
  }
}

/** Maps an item (whole or projected) to the domain's summary. */
export function toCredentialSummary(
  item: Omit<CredentialItem, 'pk' | 'sk' | 'secret_envelope'>,
): CredentialSummary {
  return {
    companyId: item.company_id,
    id: item.id,
    name: item.name,
    registry: item.registry,
    username: item.username,
    createdAt: item.created_at,
    updatedAt: item.updated_at,
    ...(item.registry_host === undefined ? {} : { registryHost: item.registry_host }),
  }
}

/** Options of the DynamoDB credential store. */
export interface DynamoCredentialStoreOptions {
  client: DynamoDBDocumentClient
  tableName: string
}

/** Credentials in the single table, partitioned by company. */
export function createDynamoCredentialStore({
  client,
  tableName,
}: DynamoCredentialStoreOptions): CredentialStore {
  const onError = translateAwsError('DynamoDB')
  const key = (companyId: string, id: string) => ({
    pk: companyPartitionKey(companyId),
    sk: credentialSortKey(id),
  })

  const store: CredentialStore = {
    async create(credential: StoredCredential): Promise<void> {
      const item: CredentialItem = {
        ...key(credential.companyId, credential.id),
        id: credential.id,
        company_id: credential.companyId,
        name: credential.name,
        registry: credential.registry,
        username: credential.username,
        created_at: credential.createdAt,
        updated_at: credential.updatedAt,
        ...(credential.registryHost === undefined ? {} : { registry_host: credential.registryHost }),
        ...(credential.createdBy
          ? {
              changed_by_key_id: credential.createdBy.apiKeyId,
              changed_by_key_name: credential.createdBy.apiKeyName,
            }
          : {}),
        secret_envelope: toEnvelopeAttribute(credential.secret),
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

    async find(companyId: string, id: string): Promise<CredentialSummary | undefined> {
      const { Item } = await client
        .send(
          new GetCommand({
            TableName: tableName,
            Key: key(companyId, id),
            ProjectionExpression: SUMMARY_PROJECTION,
            ExpressionAttributeNames: SUMMARY_NAMES,
            ConsistentRead: true,
          }),
        )
        .catch(onError)
      return Item ? toCredentialSummary(Item as CredentialItem) : undefined
    },

    async findSealed(companyId: string, id: string): Promise<StoredCredential | undefined> {
      const { Item } = await client
        .send(new GetCommand({ TableName: tableName, Key: key(companyId, id), ConsistentRead: true }))
        .catch(onError)
      if (!Item) return undefined
      const item = Item as CredentialItem
      return { ...toCredentialSummary(item), secret: fromEnvelopeAttribute(item.secret_envelope) }
    },

    // one Query (paginated by DynamoDB's 1 MB pages) over the company's partition, newest first:
    // it counts every credential for `total` and keeps the requested window.
    async list(
      companyId: string,
      { limit, offset }: { limit: number; offset: number },
    ): Promise<CredentialPage> {
      const items: CredentialSummary[] = []
      let total = 0
      const pages = paginateQuery(
        { client },
        {
          TableName: tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
          ExpressionAttributeValues: {
            ':pk': companyPartitionKey(companyId),
            ':prefix': CREDENTIAL_SORT_KEY_PREFIX,
          },
          ProjectionExpression: SUMMARY_PROJECTION,
          ExpressionAttributeNames: SUMMARY_NAMES,
          ScanIndexForward: false,
          ConsistentRead: true,
        },
      )
      try {
        for await (const page of pages) {
          for (const item of page.Items ?? []) {
            if (total >= offset && total < offset + limit)
              items.push(toCredentialSummary(item as CredentialItem))
            total += 1
          }
        }
      } catch (error) {
        onError(error)
      }
      return { items, total }
    },

    async update(
      companyId: string,
      id: string,
      changes: CredentialChanges,
      { updatedAt, expectedUpdatedAt }: { updatedAt: string; expectedUpdatedAt: string },
      change?: ChangeRecord,
    ): Promise<boolean> {
      const values: Record<string, unknown> = {
        ':updated_at': updatedAt,
        ':expected_updated_at': expectedUpdatedAt,
      }
      const names: Record<string, string> = {}
      const assignments = ['updated_at = :updated_at']
      const fields: Record<string, unknown> = {
        name: changes.name,
        registry: changes.registry,
        username: changes.username,
        secret_envelope: changes.secret && toEnvelopeAttribute(changes.secret),
        // who changed what: the Updated event of this write carries it
        changed_by_key_id: change?.actor.apiKeyId,
        changed_by_key_name: change?.actor.apiKeyName,
        changed_fields: change?.changedFields,
        secret_rotated: change?.secretRotated,
      }
      for (const [field, value] of Object.entries(fields)) {
        if (value === undefined) continue
        names[`#${field}`] = field
        values[`:${field}`] = value
        assignments.push(`#${field} = :${field}`)
      }
      try {
        await client.send(
          new UpdateCommand({
            TableName: tableName,
            Key: key(companyId, id),
            UpdateExpression: `SET ${assignments.join(', ')}`,
            // optimistic concurrency: only over the version that was read
            ConditionExpression: 'attribute_exists(pk) AND updated_at = :expected_updated_at',
            ExpressionAttributeNames: Object.keys(names).length > 0 ? names : undefined,
            ExpressionAttributeValues: values,
            // nothing comes back: the envelope never travels to this function again
            ReturnValues: 'NONE',
          }),
        )
        return true
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) return onError(error)
        // gone, or changed since it was read
        if (!(await store.find(companyId, id))) return false
        throw new ConcurrentUpdateError()
      }
    },

    async delete(companyId: string, id: string): Promise<boolean> {
      try {
        await client.send(
          new DeleteCommand({
            TableName: tableName,
            Key: key(companyId, id),
            ConditionExpression: 'attribute_exists(pk)',
          }),
        )
        return true
      } catch (error) {
        if (error instanceof ConditionalCheckFailedException) return false
        return onError(error)
      }
    },
  }
  return store
}
