import { createDynamoCredentialHealthStore } from '../adapters/credential-health-store.ts'
import { dynamo, tableName } from './dynamo.ts'

/** The container's store of health attributes (last verification, last use) over the single table. */
export const credentialHealthStore = createDynamoCredentialHealthStore({ client: dynamo, tableName })
