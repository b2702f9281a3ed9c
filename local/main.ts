import { JavaNotFoundError } from './dynamodb.ts'
import { startLocalStack } from './local-stack.ts'

/**
 * `npm start`: the local stack on http://127.0.0.1:3000/v3. Settings: PORT, HOST,
 * LOCAL_DYNAMODB_PORT (default 8000), LOCAL_DATA_DIR (keeps data across restarts),
 * LOCAL_API_KEY and LOCAL_COMPANY_ID (fix the development key and company).
 */
const stack = await startLocalStack({
  host: process.env.HOST ?? '127.0.0.1',
  port: Number(process.env.PORT ?? 3000),
  dynamoDbPort: Number(process.env.LOCAL_DYNAMODB_PORT ?? 8000),
  ...(process.env.LOCAL_DATA_DIR ? { dataDir: process.env.LOCAL_DATA_DIR } : {}),
  ...(process.env.LOCAL_API_KEY ? { apiKey: process.env.LOCAL_API_KEY } : {}),
  ...(process.env.LOCAL_COMPANY_ID ? { companyId: process.env.LOCAL_COMPANY_ID } : {}),
}).catch((error: unknown) => {
  // no Java: one line saying what to install, and a failing exit
  if (!(error instanceof JavaNotFoundError)) throw error
  process.stderr.write(`${error.message}\n`)
  process.exit(1)
})

process.stdout.write(
  [
    'registry credentials: local stack ready',
    `  API base URL       ${stack.baseUrl}`,
    `  API key            ${stack.apiKey}`,
    `  company id         ${stack.companyId}`,
    `  DynamoDB endpoint  ${stack.dynamoDb.endpoint} (table ${stack.tableName})`,
    `  KMS endpoint       ${stack.kms.endpoint}`,
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
