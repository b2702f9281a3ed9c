import { type ChildProcess, spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { inject } from 'vitest'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))

/** What `npm start` printed once ready. */
export interface StartedLocalStack {
  process: ChildProcess
  baseUrl: string
  apiKey: string
  companyId: string
  dynamoDbEndpoint: string
  kmsEndpoint: string
  /** The Lambda Invoke API's endpoint (the API's own port). */
  lambdaEndpoint: string
  eventBridgeEndpoint: string
  secretsKeyArn: string
  output(): string
  stop(): Promise<void>
}

const field = (output: string, label: string) => new RegExp(`${label}\\s+(\\S+)`).exec(output)?.[1] ?? ''

function spawnLocalMain(env: Record<string, string>): ChildProcess {
  // the run's one DynamoDB Local, with a table of this start's own (a JVM start costs seconds),
  // unless the test is about the engine itself: its port or its data directory
  const ownEngine = ['LOCAL_DATA_DIR', 'LOCAL_DYNAMODB_PORT', 'LOCAL_DYNAMODB_ENDPOINT'].some(
    (name) => name in env,
  )
  const engine = ownEngine
    ? { LOCAL_DYNAMODB_PORT: '0' }
    : { LOCAL_DYNAMODB_ENDPOINT: inject('dynamoDbEndpoint'), LOCAL_TABLE: `npm-start-${randomUUID()}` }
  return spawn(process.execPath, ['--import', 'tsx', 'local/main.ts'], {
    cwd: ROOT,
    env: {
      ...process.env,
      PORT: '0',
      ...engine,
      POWERTOOLS_LOG_LEVEL: 'WARN',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
}

/** How `npm start` ended when it could not start: its exit code and what it printed on each stream. */
export interface FailedStart {
  code: number | null
  stdout: string
  stderr: string
}

/** Runs the local stack's entry point with settings that should stop it, and waits for it to exit. */
export async function runNpmStartToExit(env: Record<string, string>): Promise<FailedStart> {
  const child = spawnLocalMain(env)
  let stdout = ''
  let stderr = ''
  child.stdout?.on('data', (chunk) => {
    stdout += chunk
  })
  child.stderr?.on('data', (chunk) => {
    stderr += chunk
  })
  const [code] = (await once(child, 'exit')) as [number | null]
  return { code, stdout, stderr }
}

/**
 * Runs the local stack's entry point (what `npm start` runs) as its own process, on free ports
 * unless `env` says otherwise, and waits for its ready banner.
 */
export async function runNpmStart(env: Record<string, string> = {}): Promise<StartedLocalStack> {
  const child = spawnLocalMain(env)
  let output = ''
  child.stdout?.on('data', (chunk) => {
    output += chunk
  })
  child.stderr?.on('data', (chunk) => {
    output += chunk
  })
  await new Promise<void>((resolve, reject) => {
    const check = () => {
      // the banner's last line
      if (output.includes('  try: ')) resolve()
    }
    child.stdout?.on('data', check)
    child.once('exit', (code) => reject(new Error(`local stack exited with ${code}:\n${output}`)))
  })
  return {
    process: child,
    baseUrl: field(output, 'API base URL'),
    apiKey: field(output, 'API key'),
    companyId: field(output, 'company id'),
    dynamoDbEndpoint: field(output, 'DynamoDB endpoint'),
    kmsEndpoint: field(output, 'KMS endpoint'),
    lambdaEndpoint: field(output, 'Lambda endpoint'),
    eventBridgeEndpoint: field(output, 'EventBridge'),
    secretsKeyArn: field(output, 'secrets key ARN'),
    output: () => output,
    async stop() {
      if (child.exitCode !== null) return
      child.kill('SIGTERM')
      await once(child, 'exit')
    },
  }
}
