import { randomUUID } from 'node:crypto'
import {
  type AttributeValue,
  type CancellationReason,
  ConditionalCheckFailedException,
  TransactionCanceledException,
} from '@aws-sdk/client-dynamodb'
import {
  type DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  type QueryCommandInput,
  TransactWriteCommand,
  type TransactWriteCommandInput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb'
import { unmarshall } from '@aws-sdk/util-dynamodb'
import type { Actor, ChangeRecord } from '../domain/activity.ts'
import {
  CREDENTIAL_SORT_KEY_PREFIX,
  companyPartitionKey,
  credentialSortKey,
} from '../domain/credential-keys.ts'
import type { RegistryProvider } from '../domain/docker-registry.ts'
import {
  ConcurrentUpdateError,
  CredentialLimitReachedError,
  DependencyUnavailableError,
  IdempotencyKeyReusedError,
} from '../domain/errors.ts'
import type {
  CreateOptions,
  CredentialChanges,
  CredentialPage,
  CredentialStore,
  CredentialSummary,
  IdempotencyClaim,
  SealedSecret,
  StoredCredential,
  WriteOptions,
} from '../domain/ports.ts'
import { activityItem } from './activity-log.ts'
import { RETRY_AFTER_SECONDS, translateAwsError } from './aws-errors.ts'
import { toCredentialSummary, toSummaryAttributes } from './credential-summary-item.ts'

export { toCredentialSummary } from './credential-summary-item.ts'

import {
  IDEMPOTENCY_EXPIRY_ATTRIBUTE,
  type IdempotencyRecordItem,
  idempotencyRecord,
  idempotencySortKey,
  replayOf,
} from './idempotency-record.ts'
import { WriteDeadlineError, withWriteDeadline } from './write-deadline.ts'

/**
 * Sort key of the company's credential count. It sorts right after every credential
 * (`~` > `#`), so one descending Query from it reads the count and then the newest credentials:
 * a list page is one call. It does not start with {@link CREDENTIAL_SORT_KEY_PREFIX}, so the change
 * event stream never takes it for a credential.
 */
export const COUNT_SORT_KEY = 'DOCKER_REGISTRY~COUNT'

/** The attribute of the count item that holds the company's number of credentials. */
export const COUNT_ATTRIBUTE = 'credential_count'

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

/** What reads that never decrypt project, so the envelope does not even leave the table. */
export const SUMMARY_ATTRIBUTES = [
  'id',
  'company_id',
  '#name',
  'registry',
  'username',
  'created_at',
  'updated_at',
  'registry_host',
]
/** {@link SUMMARY_ATTRIBUTES} as a `ProjectionExpression`, with {@link SUMMARY_NAMES}. */
export const SUMMARY_PROJECTION = SUMMARY_ATTRIBUTES.join(', ')
/** The `ExpressionAttributeNames` of the summary attributes (`name` is a reserved word). */
export const SUMMARY_NAMES = { '#name': 'name' }

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

/** Options of the DynamoDB credential store. */
export interface DynamoCredentialStoreOptions {
  client: DynamoDBDocumentClient
  tableName: string
  /**
   * The least remaining time a write attempt is sent with: the clients' `requestTimeout` plus a
   * margin (see {@link withWriteDeadline}).
   * @default 3250
   */
  writeAttemptBudgetMs?: number
  /** The current time (idempotency records expire after 24 hours). */
  clock?: () => Date
}

/** How often a transaction that lost to a concurrent one (or found no count yet) is tried again. */
const TRANSACTION_ATTEMPTS = 4

// cancellation reasons that mean "too much traffic", not "wrong request"
const THROTTLED_ITEM_CODES = new Set([
  'ThrottlingError',
  'ProvisionedThroughputExceeded',
  'RequestLimitExceeded',
])

// what DynamoDB answered for each item of a cancelled transaction, in the order they were sent
type Reasons = (CancellationReason | undefined)[]

const failedCondition = (reason: CancellationReason | undefined) => reason?.Code === 'ConditionalCheckFailed'
const oldImage = (reason: CancellationReason | undefined) =>
  reason?.Item ? unmarshall(reason.Item as Record<string, AttributeValue>) : undefined

// the same bytes: an envelope's data key and IV are fresh for every write, so an item holding
// ours was written by us
const sameBytes = (a: unknown, b: Uint8Array) =>
  a instanceof Uint8Array && a.length === b.length && a.every((byte, index) => byte === b[index])

/** Credentials in the single table, partitioned by company, with each company's exact count. */
export function createDynamoCredentialStore({
  client,
  tableName,
  writeAttemptBudgetMs = 3_250,
  clock = () => new Date(),
}: DynamoCredentialStoreOptions): CredentialStore {
  const onError = translateAwsError('DynamoDB')
  const key = (companyId: string, id: string) => ({
    pk: companyPartitionKey(companyId),
    sk: credentialSortKey(id),
  })
  const countKey = (companyId: string) => ({ pk: companyPartitionKey(companyId), sk: COUNT_SORT_KEY })
  const nowSeconds = () => Math.floor(clock().getTime() / 1000)

  // a write the deadline kept back was never sent: as retryable as a throttle
  const onWriteError = (error: unknown): never => {
    if (error instanceof WriteDeadlineError) {
      throw new DependencyUnavailableError('DynamoDB', RETRY_AFTER_SECONDS, { cause: error })
    }
    return onError(error)
  }

  // one TransactWriteItems. The token makes the SDK's own retry of an attempt whose answer was
  // lost idempotent: DynamoDB answers it with the first attempt's outcome instead of running it
  // again (a fresh token per call of ours, so a transaction we retry after a conflict is new).
  async function transact(
    items: NonNullable<TransactWriteCommandInput['TransactItems']>,
    options: WriteOptions,
  ): Promise<Reasons | undefined> {
    const command = withWriteDeadline(
      new TransactWriteCommand({ TransactItems: items, ClientRequestToken: randomUUID() }),
      options.remainingMs,
      writeAttemptBudgetMs,
    )
    try {
      await client.send(command)
      return undefined
    } catch (error) {
      if (error instanceof TransactionCanceledException) {
        const reasons: Reasons = error.CancellationReasons ?? []
        // a throttled item is DynamoDB's trouble, worth a retry by the client (503); an invalid
        // one (ValidationError, a full item collection) is ours (500)
        const codes = reasons.map((reason) => reason?.Code ?? 'None')
        if (codes.some((code) => THROTTLED_ITEM_CODES.has(code))) {
          throw new DependencyUnavailableError('DynamoDB', RETRY_AFTER_SECONDS, { cause: error })
        }
        if (codes.some((code) => !['None', 'ConditionalCheckFailed', 'TransactionConflict'].includes(code))) {
          throw error
        }
        return reasons
      }
      return onWriteError(error)
    }
  }

  // the company's credentials, counted by reading their keys: only for a company that has no
  // count item yet (written before counts existed), once, on its first write or list
  async function countCredentials(companyId: string): Promise<number> {
    let total = 0
    let ExclusiveStartKey: Record<string, unknown> | undefined
    do {
      const page = await client
        .send(
          new QueryCommand({
            TableName: tableName,
            KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
            ExpressionAttributeValues: {
              ':pk': companyPartitionKey(companyId),
              ':prefix': CREDENTIAL_SORT_KEY_PREFIX,
            },
            Select: 'COUNT',
            ConsistentRead: true,
            ExclusiveStartKey,
          }),
        )
        .catch(onError)
      total += page.Count ?? 0
      ExclusiveStartKey = page.LastEvaluatedKey
    } while (ExclusiveStartKey)
    return total
  }

  // the count item's part of a transaction: `delta` on the stored count, or (for a company
  // without one) the count just taken, on condition that no other write created it meanwhile
  function countUpdate(companyId: string, delta: 1 | -1, counted: number | undefined, limit?: number) {
    const base = {
      TableName: tableName,
      Key: countKey(companyId),
      ExpressionAttributeNames: { '#count': COUNT_ATTRIBUTE },
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const,
    }
    if (counted !== undefined) {
      return {
        Update: {
          ...base,
          UpdateExpression: 'SET #count = :count',
          ConditionExpression: 'attribute_not_exists(#count)',
          ExpressionAttributeValues: { ':count': counted + delta },
        },
      }
    }
    return {
      Update: {
        ...base,
        UpdateExpression: 'SET #count = #count + :delta',
        ConditionExpression:
          limit === undefined ? 'attribute_exists(#count)' : 'attribute_exists(#count) AND #count < :limit',
        ExpressionAttributeValues: { ':delta': delta, ...(limit === undefined ? {} : { ':limit': limit }) },
      },
    }
  }

  const store: CredentialStore = {
    async create(credential: StoredCredential, options: CreateOptions): Promise<CredentialSummary> {
      const item: CredentialItem = {
        ...key(credential.companyId, credential.id),
        ...toSummaryAttributes(credential),
        ...(credential.createdBy
          ? {
              changed_by_key_id: credential.createdBy.apiKeyId,
              changed_by_key_name: credential.createdBy.apiKeyName,
            }
          : {}),
        secret_envelope: toEnvelopeAttribute(credential.secret),
      }
      const { secret: _, ...summary } = credential
      const { limit, idempotency } = options
      const record =
        idempotency &&
        idempotencyRecord(companyPartitionKey(credential.companyId), idempotency, summary, nowSeconds())
      const isOurs = (stored: Record<string, unknown> | undefined) => {
        const envelope = stored?.secret_envelope as Partial<EnvelopeAttribute> | undefined
        return (
          stored?.id === credential.id &&
          sameBytes(envelope?.encrypted_key, credential.secret.encryptedKey) &&
          sameBytes(envelope?.iv, credential.secret.iv)
        )
      }

      let counted: number | undefined
      for (let attempt = 1; attempt <= TRANSACTION_ATTEMPTS; attempt += 1) {
        if (counted !== undefined && counted >= limit) throw new CredentialLimitReachedError(limit)
        const reasons = await transact(
          [
            {
              Put: {
                TableName: tableName,
                Item: item,
                ConditionExpression: 'attribute_not_exists(pk)',
                ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
              },
            },
            countUpdate(credential.companyId, 1, counted, limit),
            ...(record
              ? [
                  {
                    Put: {
                      TableName: tableName,
                      Item: record,
                      // an expired record may linger until TTL deletes it: it no longer counts
                      ConditionExpression: 'attribute_not_exists(pk) OR #expiration <= :now',
                      ExpressionAttributeNames: { '#expiration': IDEMPOTENCY_EXPIRY_ATTRIBUTE },
                      ExpressionAttributeValues: { ':now': nowSeconds() },
                      ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const,
                    },
                  },
                ]
              : []),
            // who created it: its activity record, last so the reasons above keep their places
            ...(credential.createdBy
              ? [
                  {
                    Put: {
                      TableName: tableName,
                      Item: activityItem(credential.companyId, credential.id, {
                        at: credential.createdAt,
                        kind: 'created',
                        actor: credential.createdBy,
                      }),
                      ConditionExpression: 'attribute_not_exists(pk)',
                    },
                  },
                ]
              : []),
          ],
          options,
        )
        if (!reasons) return summary
        const [credentialReason, countReason, recordReason] = reasons

        // the id is fresh, so a credential already under it is our own: an earlier attempt of
        // this very write committed and its answer was lost
        if (failedCondition(credentialReason)) {
          if (isOurs(oldImage(credentialReason))) return summary
          throw new Error('a credential with this fresh id already exists')
        }
        // another run claimed the key first: its answer is ours too, unless the request differs
        if (record && idempotency && failedCondition(recordReason)) {
          const winner = replayOf(
            oldImage(recordReason) as IdempotencyRecordItem | undefined,
            idempotency,
            nowSeconds(),
          )
          if (winner === 'mismatch') throw new IdempotencyKeyReusedError()
          if (winner) return winner
          continue
        }
        if (failedCondition(countReason)) {
          const current = oldImage(countReason)?.[COUNT_ATTRIBUTE]
          if (typeof current === 'number' && current >= limit) throw new CredentialLimitReachedError(limit)
          // no count item yet: count once and write it with this credential; or one appeared
          // since we counted: use it
          counted = typeof current === 'number' ? undefined : await countCredentials(credential.companyId)
        }
        // else a concurrent transaction on the same items: try again with a new token
      }
      throw new DependencyUnavailableError('DynamoDB', RETRY_AFTER_SECONDS)
    },

    async findIdempotent(companyId: string, claim: IdempotencyClaim) {
      const { Item } = await client
        .send(
          new GetCommand({
            TableName: tableName,
            Key: { pk: companyPartitionKey(companyId), sk: idempotencySortKey(claim.key) },
            ConsistentRead: true,
          }),
        )
        .catch(onError)
      return replayOf(Item as IdempotencyRecordItem | undefined, claim, nowSeconds())
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

    // one descending Query from the count item: the count, then the newest credentials, reading
    // at most offset + limit of them (projected, never an envelope), never the whole partition
    async list(
      companyId: string,
      { limit, offset }: { limit: number; offset: number },
    ): Promise<CredentialPage> {
      const wanted = offset + limit
      const items: CredentialSummary[] = []
      let total: number | undefined
      let seen = 0
      let ExclusiveStartKey: QueryCommandInput['ExclusiveStartKey']
      do {
        const page = await client
          .send(
            new QueryCommand({
              TableName: tableName,
              KeyConditionExpression: 'pk = :pk AND sk BETWEEN :first AND :count',
              ExpressionAttributeValues: {
                ':pk': companyPartitionKey(companyId),
                ':first': CREDENTIAL_SORT_KEY_PREFIX,
                ':count': COUNT_SORT_KEY,
              },
              ProjectionExpression: `sk, ${COUNT_ATTRIBUTE}, ${SUMMARY_PROJECTION}`,
              ExpressionAttributeNames: SUMMARY_NAMES,
              ScanIndexForward: false,
              ConsistentRead: true,
              // the count item, then the credentials up to the end of the page
              Limit: wanted - seen + (ExclusiveStartKey ? 0 : 1),
              ExclusiveStartKey,
            }),
          )
          .catch(onError)
        for (const raw of page.Items ?? []) {
          if (raw.sk === COUNT_SORT_KEY) {
            total = raw[COUNT_ATTRIBUTE] as number
            continue
          }
          if (seen >= offset && items.length < limit) items.push(toCredentialSummary(raw as CredentialItem))
          seen += 1
        }
        ExclusiveStartKey = page.LastEvaluatedKey
        // past the end: nothing more to read
        if (total !== undefined && offset >= total) break
      } while (ExclusiveStartKey && seen < wanted)
      return { items, total: total ?? (await countCredentials(companyId)) }
    },

    async update(
      companyId: string,
      id: string,
      changes: CredentialChanges,
      { updatedAt, expectedUpdatedAt }: { updatedAt: string; expectedUpdatedAt: string },
      options: WriteOptions = {},
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
      const update = {
        TableName: tableName,
        Key: key(companyId, id),
        UpdateExpression: `SET ${assignments.join(', ')}`,
        // optimistic concurrency: only over the version that was read
        ConditionExpression: 'attribute_exists(pk) AND updated_at = :expected_updated_at',
        ExpressionAttributeNames: Object.keys(names).length > 0 ? names : undefined,
        ExpressionAttributeValues: values,
      }
      if (change) {
        // the change and its activity record commit together or not at all (no change without
        // its record); the transaction's token makes the SDK's retry of an attempt whose answer
        // was lost return that attempt's outcome instead of writing a second record
        const reasons = await transact(
          [
            { Update: update },
            {
              Put: {
                TableName: tableName,
                Item: activityItem(companyId, id, {
                  at: updatedAt,
                  kind: 'updated',
                  actor: change.actor,
                  changedFields: change.changedFields,
                  secretRotated: change.secretRotated,
                }),
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
          ],
          options,
        )
        if (!reasons) return true
        // gone, or changed since it was read (or a concurrent transaction): read again
        if (!(await store.find(companyId, id))) return false
        throw new ConcurrentUpdateError()
      }
      try {
        await client.send(
          withWriteDeadline(
            // nothing comes back: the envelope never travels to this function again
            new UpdateCommand({ ...update, ReturnValues: 'NONE' }),
            options.remainingMs,
            writeAttemptBudgetMs,
          ),
        )
        return true
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) return onWriteError(error)
        // gone, or changed since it was read
        if (!(await store.find(companyId, id))) return false
        throw new ConcurrentUpdateError()
      }
    },

    async delete(companyId: string, id: string, options: WriteOptions = {}, actor?: Actor): Promise<boolean> {
      let counted: number | undefined
      for (let attempt = 1; attempt <= TRANSACTION_ATTEMPTS; attempt += 1) {
        const reasons = await transact(
          [
            {
              Delete: {
                TableName: tableName,
                Key: key(companyId, id),
                ConditionExpression: 'attribute_exists(pk)',
              },
            },
            countUpdate(companyId, -1, counted),
            // who deleted it: its activity record, kept after it (until the record's TTL)
            ...(actor
              ? [
                  {
                    Put: {
                      TableName: tableName,
                      Item: activityItem(companyId, id, {
                        at: new Date(clock().getTime()).toISOString(),
                        kind: 'deleted',
                        actor,
                      }),
                      ConditionExpression: 'attribute_not_exists(pk)',
                    },
                  },
                ]
              : []),
          ],
          options,
        )
        if (!reasons) return true
        const [credentialReason, countReason] = reasons
        if (failedCondition(credentialReason)) return false
        if (failedCondition(countReason)) {
          const current = oldImage(countReason)?.[COUNT_ATTRIBUTE]
          counted = typeof current === 'number' ? undefined : await countCredentials(companyId)
        }
      }
      throw new DependencyUnavailableError('DynamoDB', RETRY_AFTER_SECONDS)
    },
  }
  return store
}
