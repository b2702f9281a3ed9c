import { createDynamoCredentialStore } from '../adapters/docker-registry-store.ts'
import { WRITE_ATTEMPT_BUDGET_MS } from './aws-client-config.ts'
import { dynamo, tableName } from './dynamo.ts'

/** The container's credential store over the single table. */
export const credentialStore = createDynamoCredentialStore({
  client: dynamo,
  tableName,
  writeAttemptBudgetMs: WRITE_ATTEMPT_BUDGET_MS,
})
