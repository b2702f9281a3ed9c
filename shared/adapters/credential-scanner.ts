import { type DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb'
import { CREDENTIAL_SORT_KEY_PREFIX, companyPartitionKey } from '../domain/credential-keys.ts'
import type { RegistryProvider } from '../domain/docker-registry.ts'
import { InvalidInputError } from '../domain/errors.ts'
import type { CredentialScanner, ScannedCredential } from '../domain/health-check-run.ts'
import { translateAwsError } from './aws-errors.ts'
import { HEALTH_ATTRIBUTES } from './credential-health-store.ts'

/**
 * Every company's credentials, for the scheduled health checks: a Scan that projects only what a
 * run needs (ids, provider, pinned host, the last run), so no envelope ever leaves the table.
 * The scanning role's IAM policy allows exactly these attribute names (`dynamodb:Attributes`
 * with `dynamodb:Select = SPECIFIC_ATTRIBUTES`): Scan has no partition key, so LeadingKeys
 * cannot scope it, and the attribute list is what keeps the envelopes out of its reach.
 */

/** The attributes a scan reads: its IAM allow-list. */
export const SCANNED_ATTRIBUTES = [
  'pk',
  'sk',
  'id',
  'company_id',
  'registry',
  'registry_host',
  HEALTH_ATTRIBUTES.run,
] as const

const COMPANY_PREFIX = companyPartitionKey('')

interface ScannedItem {
  pk: string
  sk: string
  id?: string
  company_id?: string
  registry?: RegistryProvider
  registry_host?: string
  verification_run?: string
}

/** The cursor of a scan: its LastEvaluatedKey, which is the table key of a credential item. */
function encodeCursor(key: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify({ pk: key.pk, sk: key.sk })).toString('base64url')
}

function decodeCursor(cursor: string): { pk: string; sk: string } {
  try {
    const key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Record<string, unknown>
    if (typeof key.pk === 'string' && typeof key.sk === 'string') return { pk: key.pk, sk: key.sk }
  } catch {
    // reported below
  }
  throw new InvalidInputError([{ path: 'cursor', message: 'is not a cursor of this scan' }])
}

/** Options of the DynamoDB scanner. */
export interface DynamoCredentialScannerOptions {
  client: DynamoDBDocumentClient
  tableName: string
}

/** Scans the single table's credential items. */
export function createDynamoCredentialScanner({
  client,
  tableName,
}: DynamoCredentialScannerOptions): CredentialScanner {
  const onError = translateAwsError('DynamoDB')
  return {
    async page(cursor, limit) {
      const output = await client
        .send(
          new ScanCommand({
            TableName: tableName,
            // Limit counts items read, before the filter: a page may come back short, or empty
            // with a cursor, which the run just follows
            Limit: limit,
            Select: 'SPECIFIC_ATTRIBUTES',
            ProjectionExpression: SCANNED_ATTRIBUTES.join(', '),
            FilterExpression: 'begins_with(pk, :company) AND begins_with(sk, :credential)',
            ExpressionAttributeValues: {
              ':company': COMPANY_PREFIX,
              ':credential': CREDENTIAL_SORT_KEY_PREFIX,
            },
            ...(cursor === undefined ? {} : { ExclusiveStartKey: decodeCursor(cursor) }),
            ConsistentRead: true,
          }),
        )
        .catch(onError)
      const items: ScannedCredential[] = []
      for (const raw of (output.Items ?? []) as ScannedItem[]) {
        if (!raw.id || !raw.company_id || !raw.registry) continue
        items.push({
          companyId: raw.company_id,
          id: raw.id,
          registry: raw.registry,
          ...(raw.registry_host ? { registryHost: raw.registry_host } : {}),
          ...(raw.verification_run ? { lastRunId: raw.verification_run } : {}),
        })
      }
      const next = output.LastEvaluatedKey
      return next ? { items, cursor: encodeCursor(next) } : { items }
    },
  }
}
