import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'
import { createDynamoApiKeyStore } from '../../shared/adapters/api-key-store.ts'
import {
  generateApiKey,
  hashApiKey,
  isWellFormedApiKey,
  permissionsFor,
} from '../../shared/domain/api-key.ts'
import { UUID_PATTERN } from '../../shared/domain/docker-registry.ts'

const USAGE = `Usage: npm run api-key -- <command> [options]

Commands:
  create --company <uuid> [--name <text>] [--read-only] [--expires-in <30d|12h|90m>]
                        mint a key; the raw key is printed once and never stored
  list [--company <uuid>]
                        list keys (id = SHA-256 of the key, never the key)
  revoke <id>           disable a key at once (warm functions may trust it for up to 30 s)
  revoke -              the same, reading the key (or its id) from standard input, so the key
                        never appears on a command line (npm echoes those into logs)

Target (one of):
  --local               the local stack (npm start): DynamoDB at http://127.0.0.1:8000, or the
                        port in LOCAL_DYNAMODB_PORT; table registry-credentials-local
                        (override with --endpoint/--table)
  --table <name>        a deployed table, with the usual AWS environment
                        (AWS_PROFILE or keys, AWS_REGION); TABLE_NAME also works
  --endpoint <url>      DynamoDB endpoint override`

const DURATION = /^(\d{1,6})([dhm])$/
const UNIT_MS = { d: 86_400_000, h: 3_600_000, m: 60_000 } as const

/** Parses `30d`, `12h` or `90m` into milliseconds. */
export function parseDuration(text: string): number {
  const match = DURATION.exec(text)
  if (!match) throw new UsageError(`--expires-in must look like 30d, 12h or 90m, not "${text}"`)
  const amount = Number(match[1])
  if (amount === 0) throw new UsageError('--expires-in must be more than zero')
  return amount * UNIT_MS[match[2] as keyof typeof UNIT_MS]
}

class UsageError extends Error {}

/** DynamoDB could not be reached; the message says what to check. */
class UnreachableError extends Error {}

// the SDK's error, or the store's DependencyUnavailableError around it, for a refused connection
function isConnectionRefused(error: unknown): boolean {
  const seen = new Set<unknown>()
  const pending = [error]
  while (pending.length > 0) {
    const candidate = pending.pop() as { code?: unknown; cause?: unknown; errors?: unknown } | undefined
    if (!candidate || typeof candidate !== 'object' || seen.has(candidate)) continue
    seen.add(candidate)
    if (candidate.code === 'ECONNREFUSED') return true
    pending.push(candidate.cause, ...(Array.isArray(candidate.errors) ? candidate.errors : []))
  }
  return false
}

function companyOption(text: string | undefined, required: boolean): string | undefined {
  if (text === undefined) {
    if (required) throw new UsageError('create needs --company <uuid>')
    return undefined
  }
  if (!UUID_PATTERN.test(text)) {
    throw new UsageError(
      `--company is malformed: "${text}" is not a uuid (like 6f1c8c1e-2f43-4a4e-9d1a-6f2b1c0d9e11)`,
    )
  }
  // stored lower-case, as every company id is
  return text.toLowerCase()
}

/** What the command reads besides its arguments; tests pass their own. */
export interface CommandIo {
  env?: NodeJS.ProcessEnv
  /** All of standard input, for `revoke -`. */
  readStdin?: () => Promise<string>
}

async function readAllStdin(): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

function localEndpoint(env: NodeJS.ProcessEnv): string {
  const port = env.LOCAL_DYNAMODB_PORT || '8000'
  if (!/^\d{1,5}$/.test(port) || Number(port) === 0 || Number(port) > 65_535) {
    throw new UsageError('LOCAL_DYNAMODB_PORT must be the port npm start printed for DynamoDB (1 to 65535)')
  }
  return `http://127.0.0.1:${port}`
}

function target(values: { local?: boolean; table?: string; endpoint?: string }, env: NodeJS.ProcessEnv) {
  const endpoint = values.endpoint ?? (values.local ? localEndpoint(env) : undefined)
  const tableName =
    values.table ?? process.env.TABLE_NAME ?? (values.local ? 'registry-credentials-local' : undefined)
  if (!tableName) throw new UsageError('say which table: --local, --table <name> or TABLE_NAME')
  const client = new DynamoDBClient({
    ...(endpoint ? { endpoint } : {}),
    // the local stack accepts any credentials; a deployed table uses the usual AWS chain.
    ...(values.local
      ? {
          region: process.env.AWS_REGION ?? 'us-east-1',
          credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
        }
      : {}),
  })
  return {
    store: createDynamoApiKeyStore({ client: DynamoDBDocumentClient.from(client), tableName }),
    client,
    tableName,
    endpoint,
  }
}

/** Runs the command line; returns the exit code. */
export async function main(
  argv: string[],
  print: (line: string) => void = (line) => {
    process.stdout.write(`${line}\n`)
  },
  { env = process.env, readStdin = readAllStdin }: CommandIo = {},
): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      company: { type: 'string' },
      name: { type: 'string' },
      'read-only': { type: 'boolean' },
      'expires-in': { type: 'string' },
      local: { type: 'boolean' },
      table: { type: 'string' },
      endpoint: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  })
  const [command, argument] = positionals
  if (values.help || !command) {
    print(USAGE)
    return command || values.help ? 0 : 2
  }
  const { store, client, tableName, endpoint } = target(values, env)
  try {
    switch (command) {
      case 'create': {
        const companyId = companyOption(values.company, true) as string
        const now = new Date()
        const expiresAt = values['expires-in']
          ? new Date(now.getTime() + parseDuration(values['expires-in'])).toISOString()
          : undefined
        const { key, hash } = generateApiKey()
        const permissions = permissionsFor({ readOnly: values['read-only'] ?? false })
        await store.create({
          hash,
          companyId,
          name: values.name ?? 'api key',
          permissions,
          enabled: true,
          ...(expiresAt ? { expiresAt } : {}),
          createdAt: now.toISOString(),
        })
        print(`created API key ${hash} in ${tableName}`)
        print(`  company      ${companyId}`)
        print(`  permissions  ${permissions.join(', ')}`)
        print(`  expires      ${expiresAt ?? 'never'}`)
        print('')
        print('The key, shown this once (store it now; only its hash is kept):')
        print(key)
        return 0
      }
      case 'list': {
        const records = await store.list(companyOption(values.company, false))
        if (records.length === 0) print('no API keys')
        for (const record of records) {
          const state = !record.enabled
            ? 'revoked'
            : record.expiresAt && Date.parse(record.expiresAt) <= Date.now()
              ? 'expired'
              : 'active'
          print(
            [
              record.hash,
              record.companyId,
              state,
              record.permissions.join(','),
              record.expiresAt ?? 'never',
              JSON.stringify(record.name),
            ].join('  '),
          )
        }
        return 0
      }
      case 'revoke': {
        if (!argument)
          throw new UsageError('revoke needs the key id, or - to read the key from standard input')
        const given = argument === '-' ? (await readStdin()).trim() : argument
        const hash = isWellFormedApiKey(given) ? hashApiKey(given) : given
        if (argument !== '-' && isWellFormedApiKey(argument)) {
          print(
            'note: a key on the command line lands in shell history and npm logs; pass its id, or - and the key on standard input',
          )
        }
        if (!/^[0-9a-f]{64}$/.test(hash)) throw new UsageError('a key id is 64 hex characters')
        if (!(await store.revoke(hash))) {
          print(`no API key ${hash} in ${tableName}`)
          return 1
        }
        print(`revoked API key ${hash}`)
        return 0
      }
      default:
        throw new UsageError(`unknown command "${command}"`)
    }
  } catch (error) {
    if (!isConnectionRefused(error)) throw error
    throw new UnreachableError(
      values.local
        ? `nothing answers at ${endpoint}: is \`npm start\` running? (set LOCAL_DYNAMODB_PORT to the DynamoDB port it printed)`
        : `nothing answers at ${endpoint ?? 'the DynamoDB endpoint'}: check --endpoint`,
    )
  } finally {
    client.destroy()
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
        process.stderr.write(`${(error as Error).message}\n\n${USAGE}\n`)
        process.exit(2)
      }
      if (error instanceof UnreachableError) {
        process.stderr.write(`api-key: ${error.message}\n`)
        process.exit(1)
      }
      process.stderr.write(`api-key: ${(error as Error).name}: ${(error as Error).message}\n`)
      process.exit(1)
    },
  )
}
