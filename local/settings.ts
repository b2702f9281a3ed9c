import { existsSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { isWellFormedApiKey } from '../shared/domain/api-key.ts'
import { UUID_PATTERN } from '../shared/domain/docker-registry.ts'
import type { LocalStackOptions } from './local-stack.ts'
import { devStageRateLimit } from './rate-limit-settings.ts'

/**
 * A setting of the local stack a person has to fix: the message says what is wrong and names the
 * environment variable that fixes it. `npm start` prints it as one line and exits non-zero.
 */
export class LocalSettingError extends Error {
  override readonly name = 'LocalSettingError'
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(message)
  }
}

function portSetting(env: NodeJS.ProcessEnv, variable: string, fallback: number): number {
  const text = env[variable]
  if (text === undefined || text === '') return fallback
  if (!/^\d{1,5}$/.test(text) || Number(text) > 65_535) {
    throw new LocalSettingError(
      variable,
      `${variable} must be a port number from 0 to 65535 (0 picks a free one)`,
    )
  }
  return Number(text)
}

function positiveIntegerSetting(env: NodeJS.ProcessEnv, variable: string, fallback: () => number): number {
  const text = env[variable]
  if (text === undefined || text === '') return fallback()
  if (!/^\d{1,9}$/.test(text) || Number(text) < 1) {
    throw new LocalSettingError(variable, `${variable} must be a whole number of at least 1`)
  }
  return Number(text)
}

// a DynamoDB already running on this machine: loopback only, so the local stack never sends its
// development data (or a key) anywhere else
function dynamoDbEndpointSetting(env: NodeJS.ProcessEnv): string | undefined {
  const text = env.LOCAL_DYNAMODB_ENDPOINT
  if (!text) return undefined
  let url: URL | undefined
  try {
    url = new URL(text)
  } catch {
    url = undefined
  }
  const loopback = url && /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|localhost|\[::1\])$/.test(url.hostname)
  if (!url || !['http:', 'https:'].includes(url.protocol) || !loopback || url.pathname !== '/') {
    throw new LocalSettingError(
      'LOCAL_DYNAMODB_ENDPOINT',
      'LOCAL_DYNAMODB_ENDPOINT must be the http://127.0.0.1:<port> URL of a DynamoDB Local already running on this machine',
    )
  }
  return url.origin
}

/** What `npm start` reads from the environment (README, "Local stack"). */
export function localStackSettings(
  env: NodeJS.ProcessEnv,
): LocalStackOptions & { host: string; port: number; dynamoDbPort: number } {
  const host = env.HOST || '127.0.0.1'
  const port = portSetting(env, 'PORT', 3000)
  const dynamoDbPort = portSetting(env, 'LOCAL_DYNAMODB_PORT', 8000)
  if (port !== 0 && port === dynamoDbPort) {
    throw new LocalSettingError(
      'LOCAL_DYNAMODB_PORT',
      `PORT and LOCAL_DYNAMODB_PORT are both ${port}; give them different ports`,
    )
  }
  // the internal functions had an Invoke port of their own; a script still setting it would aim
  // `npm run health-check -- --endpoint` at nothing, so say where the Invoke API went
  if (env.LOCAL_LAMBDA_PORT) {
    throw new LocalSettingError(
      'LOCAL_LAMBDA_PORT',
      'LOCAL_LAMBDA_PORT is no longer used: the Lambda Invoke API is on the API port (PORT); unset it',
    )
  }
  const apiKey = env.LOCAL_API_KEY || undefined
  if (apiKey !== undefined && !isWellFormedApiKey(apiKey)) {
    // never quote it: it is a key
    throw new LocalSettingError(
      'LOCAL_API_KEY',
      'LOCAL_API_KEY must be rcs_ followed by 43 base64url characters (or unset it for a new key)',
    )
  }
  const companyId = env.LOCAL_COMPANY_ID || undefined
  if (companyId !== undefined && !UUID_PATTERN.test(companyId)) {
    throw new LocalSettingError(
      'LOCAL_COMPANY_ID',
      'LOCAL_COMPANY_ID must be a UUID, e.g. 0195f1f6-8f5e-7000-8000-000000000001',
    )
  }
  const bundlesDir = env.LOCAL_BUNDLES || undefined
  if (bundlesDir !== undefined && !existsSync(join(bundlesDir, 'manifest.json'))) {
    throw new LocalSettingError(
      'LOCAL_BUNDLES',
      `LOCAL_BUNDLES must be a cdk synth output folder, and ${bundlesDir} has no manifest.json; run npm run synth`,
    )
  }
  const eventTargetUrl = env.LOCAL_EVENT_TARGET_URL || undefined
  if (eventTargetUrl !== undefined && !/^https?:\/\/[^\s/]+/.test(eventTargetUrl)) {
    throw new LocalSettingError(
      'LOCAL_EVENT_TARGET_URL',
      'LOCAL_EVENT_TARGET_URL must be an http:// or https:// URL to POST change events to',
    )
  }
  // the dev stage's per-key limit from cdk.json unless overridden
  const rateLimit = {
    limit: positiveIntegerSetting(env, 'LOCAL_RATE_LIMIT', () => devStageRateLimit().limit),
    windowSeconds: positiveIntegerSetting(
      env,
      'LOCAL_RATE_WINDOW_SECONDS',
      () => devStageRateLimit().windowSeconds,
    ),
  }
  const dynamoDbEndpoint = dynamoDbEndpointSetting(env)
  const tableName = env.LOCAL_TABLE || undefined
  if (tableName !== undefined && !/^[A-Za-z0-9_.-]{3,255}$/.test(tableName)) {
    throw new LocalSettingError('LOCAL_TABLE', 'LOCAL_TABLE must be 3 to 255 of A-Z, a-z, 0-9, _, - and .')
  }
  return {
    host,
    port,
    dynamoDbPort,
    rateLimit,
    ...(dynamoDbEndpoint ? { dynamoDbEndpoint } : {}),
    ...(tableName ? { tableName } : {}),
    ...(env.LOCAL_DATA_DIR ? { dataDir: env.LOCAL_DATA_DIR } : {}),
    ...(apiKey ? { apiKey } : {}),
    ...(companyId ? { companyId } : {}),
    ...(bundlesDir ? { bundlesDir } : {}),
    ...(eventTargetUrl ? { eventTargetUrl } : {}),
  }
}

/**
 * Refuses a port something else already listens on, naming the variable that moves it. Checked
 * before any server starts, so the message is the same whatever engine serves the port.
 */
export async function assertPortFree(host: string, port: number, variable: string): Promise<void> {
  if (port === 0) return
  const server = createServer()
  const problem = await new Promise<string | undefined>((resolve) => {
    server.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message))
    server.listen(port, host, () => resolve(undefined))
  })
  if (problem === undefined) {
    await new Promise<void>((resolve) => server.close(() => resolve()))
    return
  }
  throw listenError(host, port, variable, problem)
}

/** The setting error for a port `code` (EADDRINUSE, EACCES, ...) kept a server from listening on. */
export function listenError(host: string, port: number, variable: string, code: string): LocalSettingError {
  if (code === 'EADDRINUSE') {
    return new LocalSettingError(
      variable,
      `${host}:${port} is already in use; stop what listens there or set ${variable} to another port`,
    )
  }
  if (code === 'EACCES') {
    return new LocalSettingError(
      variable,
      `${host}:${port} needs privileges to listen on; set ${variable} to a port above 1023`,
    )
  }
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') {
    return new LocalSettingError(
      'HOST',
      `cannot listen on ${host}: no such local address; set HOST (default 127.0.0.1)`,
    )
  }
  return new LocalSettingError(
    variable,
    `cannot listen on ${host}:${port} (${code}); set ${variable} to another port`,
  )
}
