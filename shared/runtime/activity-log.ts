import { createDynamoActivityLog } from '../adapters/activity-log.ts'
import { dynamo, tableName } from './dynamo.ts'

/** The container's reader of activity records over the single table. */
export const activityLog = createDynamoActivityLog({ client: dynamo, tableName })
