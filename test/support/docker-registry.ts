import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import http from 'node:http'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

/**
 * A real CNCF distribution registry (Debian's `docker-registry` package) for integration tests,
 * on 127.0.0.1 and a free port, with its storage in a temporary directory.
 */

/** The registry binary of Debian's `docker-registry` package. */
export const DOCKER_REGISTRY_BINARY = process.env.DOCKER_REGISTRY_BINARY ?? '/usr/bin/docker-registry'

/** What a developer runs to get {@link DOCKER_REGISTRY_BINARY}. */
export const DOCKER_REGISTRY_INSTALL = 'apt-get install docker-registry'

/**
 * Whether the tests that need the real registry are skipped: only outside CI, and only when the
 * binary is missing. With `CI=true` they run and fail, so CI can never pass without testing them.
 */
export const SKIP_REGISTRY_TESTS = !existsSync(DOCKER_REGISTRY_BINARY) && !isCi(process.env)

/** `CI` set to anything but empty, `0` or `false` (what CI services set). */
export function isCi(env: NodeJS.ProcessEnv): boolean {
  const value = env.CI?.trim().toLowerCase()
  return value !== undefined && value !== '' && value !== '0' && value !== 'false'
}

/**
 * The line the end of a test run prints when registry tests were skipped, or undefined when they
 * were not (the binary exists, or this is CI).
 */
export function registrySkipNotice(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const binary = env.DOCKER_REGISTRY_BINARY ?? '/usr/bin/docker-registry'
  if (existsSync(binary) || isCi(env)) return undefined
  return `skipped the tests that need a real registry: ${binary} not found; install it with \`${DOCKER_REGISTRY_INSTALL}\` (or set DOCKER_REGISTRY_BINARY); with CI=true they fail instead`
}

/** The user of the committed htpasswd fixture. */
export const TEST_REGISTRY_USERNAME = 'verifier'
/** The password the committed htpasswd fixture's bcrypt hash was made from (test-only). */
export const TEST_REGISTRY_PASSWORD = 'correct-horse-battery-staple'

const HTPASSWD_FIXTURE = fileURLToPath(new URL('../fixtures/registry/htpasswd', import.meta.url))
const STARTUP_TIMEOUT_MS = 10_000

/** How the registry authenticates. */
export type DockerRegistryAuth =
  /** No authentication, like `docker run registry:2`. */
  | { kind: 'none' }
  | { kind: 'htpasswd' }
  | {
      kind: 'token'
      /** URL of the token service the registry's challenge points clients to. */
      realm: string
      service: string
      issuer: string
      /** PEM certificate(s) whose keys sign the tokens. */
      rootCertBundlePath: string
    }

/** A running registry. */
export interface RunningDockerRegistry {
  /** `127.0.0.1:<port>` */
  host: string
  stop(): Promise<void>
}

/** A port nobody listens on right now (the usual small race is acceptable in tests). */
export async function findFreePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  await new Promise<void>((resolve) => server.close(() => resolve()))
  if (address === null || typeof address === 'string') throw new Error('no port assigned')
  return address.port
}

function authConfig(auth: DockerRegistryAuth): string {
  if (auth.kind === 'none') return ''
  if (auth.kind === 'htpasswd') {
    return [
      'auth:',
      '  htpasswd:',
      '    realm: test-registry',
      `    path: ${JSON.stringify(HTPASSWD_FIXTURE)}`,
    ].join('\n')
  }
  return [
    'auth:',
    '  token:',
    `    realm: ${JSON.stringify(auth.realm)}`,
    `    service: ${JSON.stringify(auth.service)}`,
    `    issuer: ${JSON.stringify(auth.issuer)}`,
    `    rootcertbundle: ${JSON.stringify(auth.rootCertBundlePath)}`,
  ].join('\n')
}

/** the status of `GET /v2/`, or undefined while nothing answers. */
function probe(host: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    const request = http.get(`http://${host}/v2/`, { agent: false, timeout: 500 }, (response) => {
      response.resume()
      resolve(response.statusCode)
    })
    request.on('timeout', () => request.destroy())
    request.on('error', () => resolve(undefined))
  })
}

function waitForExit(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => child.once('exit', () => resolve()))
}

/**
 * Starts `docker-registry serve` and resolves once `/v2/` answers. Throws when the binary is
 * missing; the tests that need it skip themselves with {@link SKIP_REGISTRY_TESTS} (outside CI
 * only, and the run ends with {@link registrySkipNotice}).
 */
export async function startDockerRegistry(
  auth: DockerRegistryAuth = { kind: 'htpasswd' },
): Promise<RunningDockerRegistry> {
  if (!existsSync(DOCKER_REGISTRY_BINARY)) {
    throw new Error(
      `${DOCKER_REGISTRY_BINARY} not found: install the CNCF distribution registry with ` +
        `\`${DOCKER_REGISTRY_INSTALL}\` (or set DOCKER_REGISTRY_BINARY)`,
    )
  }
  const directory = await mkdtemp(join(tmpdir(), 'docker-registry-'))
  const port = await findFreePort()
  const host = `127.0.0.1:${port}`
  const configPath = join(directory, 'config.yml')
  await writeFile(
    configPath,
    [
      'version: 0.1',
      'log:',
      '  level: error',
      '  accesslog:',
      '    disabled: true',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${JSON.stringify(join(directory, 'data'))}`,
      'http:',
      `  addr: ${host}`,
      '  secret: integration-test-only',
      authConfig(auth),
      '',
    ].join('\n'),
  )

  const child = spawn(DOCKER_REGISTRY_BINARY, ['serve', configPath], { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = `${stderr}${chunk.toString('utf8')}`.slice(-4_000)
  })
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve))

  const stop = async () => {
    child.kill('SIGTERM')
    await waitForExit(child)
    await rm(directory, { recursive: true, force: true })
  }

  const deadline = Date.now() + STARTUP_TIMEOUT_MS
  while (Date.now() < deadline) {
    const status = await Promise.race([probe(host), spawnError])
    if (status instanceof Error) {
      await rm(directory, { recursive: true, force: true })
      throw new Error(`could not start ${DOCKER_REGISTRY_BINARY}: ${status.message}`)
    }
    if (status !== undefined) return { host, stop }
    if (child.exitCode !== null) {
      await rm(directory, { recursive: true, force: true })
      throw new Error(`docker-registry exited with ${child.exitCode}: ${stderr}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  await stop()
  throw new Error(`docker-registry did not answer on ${host} within ${STARTUP_TIMEOUT_MS} ms: ${stderr}`)
}
