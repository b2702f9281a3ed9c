import { JavaNotFoundError } from './dynamodb.ts'
import { startLocalStack } from './local-stack.ts'
import { assertPortFree, LocalSettingError, listenError, localStackSettings } from './settings.ts'

/**
 * `npm start`: the local stack on http://127.0.0.1:3000/v3. Settings: PORT, HOST,
 * LOCAL_DYNAMODB_PORT (default 8000), LOCAL_DATA_DIR (keeps data across restarts),
 * LOCAL_API_KEY and LOCAL_COMPANY_ID (fix the development key and company), LOCAL_RATE_LIMIT
 * and LOCAL_RATE_WINDOW_SECONDS (the per-key limit; default the dev stage's in cdk.json),
 * LOCAL_BUNDLES (run the bundles of a `cdk synth` output folder), LOCAL_EVENT_TARGET_URL (POST
 * change events there). A setting a person must fix ends the process with one line naming the
 * variable, and exit code 2.
 */
async function main(): Promise<void> {
  const settings = localStackSettings(process.env)
  await assertPortFree(settings.host, settings.port, 'PORT')
  if (!settings.dynamoDbEndpoint)
    await assertPortFree(settings.host, settings.dynamoDbPort, 'LOCAL_DYNAMODB_PORT')

  const stack = await startLocalStack({
    ...settings,
    // one line per request, so a developer sees the traffic (never a header, body or query)
    requestLog: (line) => process.stdout.write(`${line}\n`),
  })

  process.stdout.write(
    [
      'registry credentials: local stack ready',
      `  API base URL       ${stack.baseUrl}`,
      `  API key            ${stack.apiKey}`,
      `  company id         ${stack.companyId}`,
      `  DynamoDB endpoint  ${stack.dynamoDb.endpoint} (table ${stack.tableName})`,
      // DynamoDB Local has no option for the address it binds; say so where the port is shown
      ...(settings.dynamoDbEndpoint
        ? []
        : [
            `                     DynamoDB Local listens on every interface, without authentication: firewall port ${new URL(stack.dynamoDb.endpoint).port} on a shared network`,
          ]),
      `  secrets key ARN    ${stack.secretsKeyArn}`,
      `  KMS endpoint       ${stack.kms.endpoint}`,
      `  EventBridge        ${stack.events.eventBridge.endpoint} (change events ${settings.eventTargetUrl ? `POSTed to ${settings.eventTargetUrl}` : 'printed; set LOCAL_EVENT_TARGET_URL to receive them'})`,
      `  Lambda endpoint    ${stack.lambdaEndpoint} (Invoke API: the functions call it too; npm run health-check -- --local)`,
      `  table stream       ${stack.changeEvents.streamArn} (drives publish-credential-events)`,
      `  functions          ${stack.functions.names.join(' ')}`,
      `  running            ${stack.functions.origin}`,
      `  data               ${settings.dataDir ?? 'in memory (set LOCAL_DATA_DIR to keep it)'}`,
      `  rate limit         ${stack.rateLimit === false ? 'none' : `${stack.rateLimit.limit} requests per API key per ${stack.rateLimit.windowSeconds} s`}`,
      '',
      `  try: curl -s ${stack.baseUrl}/docker-registries -H "Authorization: Bearer ${stack.apiKey}"`,
      '',
    ].join('\n'),
  )

  const shutdown = async (signal: string) => {
    await stack.close()
    process.stdout.write(`registry credentials: local stack stopped (${signal})\n`)
    process.exit(0)
  }
  process.once('SIGINT', () => void shutdown('SIGINT'))
  process.once('SIGTERM', () => void shutdown('SIGTERM'))
}

// a server that lost the race for its port after the check above: name its variable all the same
function asSettingError(error: unknown): LocalSettingError | undefined {
  if (error instanceof LocalSettingError) return error
  const { code, port, address } = (error ?? {}) as { code?: string; port?: number; address?: string }
  if (typeof code !== 'string' || typeof port !== 'number' || !code.startsWith('E')) return undefined
  const settings = localStackSettings(process.env)
  const variable = port === settings.dynamoDbPort ? 'LOCAL_DYNAMODB_PORT' : 'PORT'
  return listenError(address ?? settings.host, port, variable, code)
}

main().catch((error: unknown) => {
  // no Java for DynamoDB Local: one line saying what to install
  if (error instanceof JavaNotFoundError) {
    process.stderr.write(`npm start: ${error.message}\n`)
    process.exit(1)
  }
  const settingError = asSettingError(error)
  if (settingError) {
    process.stderr.write(`npm start: ${settingError.message}\n`)
    process.exit(2)
  }
  process.stderr.write(
    `npm start failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  )
  process.exit(1)
})
