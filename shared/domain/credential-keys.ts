/**
 * The single table's key layout for credentials. It lives in the domain because domain rules read
 * it too (which stream records are credential changes); the store adapter and the IAM conditions
 * of the stacks import it from here.
 */

/** Partition key of everything a company owns. */
export const companyPartitionKey = (companyId: string) => `COMPANY#${companyId}`

/** Prefix of credential sort keys. */
export const CREDENTIAL_SORT_KEY_PREFIX = 'DOCKER_REGISTRY#'

/** Sort key of one credential. */
export const credentialSortKey = (id: string) => `${CREDENTIAL_SORT_KEY_PREFIX}${id}`
