import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda'

const USAGE = `Usage: npm run health-check -- (--local | --function <name>) [--run-id <id>]

Starts a health run now: every credential is verified again (at most 2 checks per registry host
per second) and its health recorded; the run's summary is printed when it ends or hands over.

Target (one of):
  --local               the local stack (npm start): its Lambda endpoint, the API's address,
                        http://127.0.0.1:3000 (HOST and PORT as npm start reads them, or
                        --endpoint)
  --function <name>     a deployed stage's HealthCheckFunctionName output, with the usual AWS
                        environment (AWS_PROFILE or keys, AWS_REGION)
  --endpoint <url>      Lambda endpoint override
  --run-id <id>         the run's id (default manual-<time>); the same id again skips what that
                        run already checked`

class UsageError extends Error {}

/** The invocation a command line asks for. */
export function healthCheckInvocation(argv: string[]): {
  endpoint?: string
  functionName: string
  local: boolean
  runId: string
} {
  const { values } = parseArgs({
    args: argv,
    options: {
      local: { type: 'boolean' },
      function: { type: 'string' },
      endpoint: { type: 'string' },
      'run-id': { type: 'string' },
      help: { type: 'boolean' },
    },
    strict: true,
  })
  if (values.help) throw new UsageError('')
  if (values.local && values.function !== undefined) {
    throw new UsageError('give --local or --function, not both')
  }
  const local = values.local ?? false
  const functionName = values.function ?? (local ? 'health-check' : undefined)
  if (!functionName) throw new UsageError('say which function: --local or --function <name>')
  const localEndpoint = `http://${process.env.HOST || '127.0.0.1'}:${process.env.PORT || 3000}`
  const endpoint = values.endpoint ?? (local ? localEndpoint : undefined)
  const runId = values['run-id'] ?? `manual-${new Date().toISOString()}`
  if (!/^[\x21-\x7e]{1,64}$/.test(runId))
    throw new UsageError('--run-id must be 1 to 64 visible ASCII characters')
  return { ...(endpoint ? { endpoint } : {}), functionName, local, runId }
}

/** Runs the command; answers the exit code. `print` gets the summary, `printError` the rest. */
export async function main(
  argv: string[],
  print: (text: string) => void = (text) => process.stdout.write(`${text}\n`),
  printError: (text: string) => void = (text) => process.stderr.write(`${text}\n`),
): Promise<number> {
  let invocation: ReturnType<typeof healthCheckInvocation>
  try {
    invocation = healthCheckInvocation(argv)
  } catch (error) {
    if (!(error instanceof UsageError) && !(error instanceof TypeError)) throw error
    printError(error.message ? `${error.message}\n\n${USAGE}` : USAGE)
    return 2
  }
  const lambda = new LambdaClient({
    ...(invocation.endpoint ? { endpoint: invocation.endpoint } : {}),
    // a health run takes minutes: no client timeout, one attempt (a retry would start it again)
    maxAttempts: 1,
    ...(invocation.local
      ? {
          region: process.env.AWS_REGION ?? 'us-east-1',
          credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
        }
      : {}),
  })
  try {
    const output = await lambda.send(
      new InvokeCommand({
        FunctionName: invocation.functionName,
        Payload: Buffer.from(JSON.stringify({ run_id: invocation.runId })),
      }),
    )
    const payload = Buffer.from(output.Payload ?? new Uint8Array()).toString('utf8')
    if (output.FunctionError) {
      printError(`the health run failed (${output.FunctionError}): ${payload}`)
      return 1
    }
    print(payload)
    return 0
  } finally {
    lambda.destroy()
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.exitCode = await main(process.argv.slice(2))
}
