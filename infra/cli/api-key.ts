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
  revoke <id|key>       disable a key at once (warm functions may trust it for up to 30 s)

Target (one of):
  --local               the local stack (npm start): DynamoDB at http://127.0.0.1:8000,
                        table registry-credentials-local (override with --endpoint/--table)
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

function target(values: { local?: boolean; table?: string; endpoint?: string }) {
  const endpoint = values.endpoint ?? (values.local ? 'http://127.0.0.1:8000' : undefined)
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
  }
}

/** Runs the command line; returns the exit code. */
export async function main(
  argv: string[],
  print: (line: string) => void = (line) => {
    process.stdout.write(`${line}\n`)
  },
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
  const { store, client, tableName } = target(values)
  try {
    switch (command) {
      case 'create': {
        const companyId = values.company
        if (!companyId || !UUID_PATTERN.test(companyId)) throw new UsageError('create needs --company <uuid>')
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
        const records = await store.list(values.company)
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
        if (!argument) throw new UsageError('revoke needs the key id (or the key itself)')
        const hash = isWellFormedApiKey(argument) ? hashApiKey(argument) : argument
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
      process.stderr.write(`api-key: ${(error as Error).name}: ${(error as Error).message}\n`)
      process.exit(1)
    },
  )
}
