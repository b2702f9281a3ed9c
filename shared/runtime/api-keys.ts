import { createCachedApiKeyLookup, createDynamoApiKeyStore } from '../adapters/api-key-store.ts'
import { dynamo, tableName } from './dynamo.ts'

/** API key lookups of this container, cached briefly across warm invocations. */
export const apiKeys = createCachedApiKeyLookup(createDynamoApiKeyStore({ client: dynamo, tableName }))
