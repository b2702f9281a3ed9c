import { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'
import { AWS_CLIENT_CONFIG } from './aws-client-config.ts'
import { requiredEnv } from './config.ts'

/**
 * The container's one DynamoDB client. The endpoint follows the SDK's own settings
 * (`AWS_ENDPOINT_URL_DYNAMODB` points it at the local stack).
 */
export const dynamo = DynamoDBDocumentClient.from(new DynamoDBClient(AWS_CLIENT_CONFIG), {
  marshallOptions: { removeUndefinedValues: true },
})

/** The single table's name. */
export const tableName = requiredEnv('TABLE_NAME')
