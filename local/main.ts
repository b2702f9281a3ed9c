import { startLocalStack } from './local-stack.ts'

/**
 * `npm start`: the local stack on http://127.0.0.1:3000/v3. Settings: PORT, HOST,
 * LOCAL_DYNAMODB_PORT (default 8000), LOCAL_LAMBDA_PORT (default 3001, the internal functions), LOCAL_DATA_DIR (keeps data across restarts),
 * LOCAL_API_KEY and LOCAL_COMPANY_ID (fix the development key and company).
 */
const stack = await startLocalStack({
  host: process.env.HOST ?? '127.0.0.1',
  port: Number(process.env.PORT ?? 3000),
  dynamoDbPort: Number(process.env.LOCAL_DYNAMODB_PORT ?? 8000),
  lambdaPort: Number(process.env.LOCAL_LAMBDA_PORT ?? 3001),
  ...(process.env.LOCAL_DATA_DIR ? { dataDir: process.env.LOCAL_DATA_DIR } : {}),
  ...(process.env.LOCAL_API_KEY ? { apiKey: process.env.LOCAL_API_KEY } : {}),
  ...(process.env.LOCAL_COMPANY_ID ? { companyId: process.env.LOCAL_COMPANY_ID } : {}),
})

process.stdout.write(
  [
    'registry credentials: local stack ready',
    `  API base URL       ${stack.baseUrl}`,
    `  API key            ${stack.apiKey}`,
    `  company id         ${stack.companyId}`,
    `  DynamoDB endpoint  ${stack.dynamoDb.endpoint} (table ${stack.tableName})`,
    `  KMS endpoint       ${stack.kms.endpoint}`,
    `  Lambda endpoint    ${stack.lambdaEndpoint} (credential-verifier, health-check, resolve-docker-registry)`,
    `  data               ${process.env.LOCAL_DATA_DIR ?? 'in memory (set LOCAL_DATA_DIR to keep it)'}`,
    '',
    `  try: curl -s ${stack.baseUrl}/docker-registries -H "Authorization: Bearer ${stack.apiKey}"`,
    '',
  ].join('\n'),
)

const shutdown = async () => {
  await stack.close()
  process.exit(0)
}
process.once('SIGINT', shutdown)
process.once('SIGTERM', shutdown)
