import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'

const run = promisify(execFile)
const ROOT = fileURLToPath(new URL('../..', import.meta.url))
// the smallest file with tests that need the real registry
const REGISTRY_TEST_FILE = 'test/integration/registry-verifier.test.ts'

async function vitestWithoutRegistry(ci: string | undefined) {
  const env: NodeJS.ProcessEnv = { ...process.env, DOCKER_REGISTRY_BINARY: '/nonexistent/docker-registry' }
  delete env.CI
  if (ci !== undefined) env.CI = ci
  // vitest's own worker variables would make the child think it is a worker of this run
  for (const name of Object.keys(env)) if (name.startsWith('VITEST')) delete env[name]
  try {
    const { stdout, stderr } = await run(
      process.execPath,
      ['node_modules/vitest/vitest.mjs', 'run', REGISTRY_TEST_FILE, '--reporter=dot'],
      { cwd: ROOT, env, maxBuffer: 16 * 1024 * 1024 },
    )
    return { code: 0, output: `${stdout}${stderr}` }
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string }
    return { code: failed.code ?? -1, output: `${failed.stdout ?? ''}${failed.stderr ?? ''}` }
  }
}

describe('tests that need Debian’s docker-registry, when it is missing', () => {
  it('skip outside CI, and the run ends saying what is missing and how to install it', async () => {
    const { code, output } = await vitestWithoutRegistry(undefined)

    expect(code, output).toBe(0)
    expect(output).toMatch(/skipped/)
    expect(output).toContain(
      'skipped the tests that need a real registry: /nonexistent/docker-registry not found; install it with `apt-get install docker-registry`',
    )
  })

  it('fail with CI=true', async () => {
    const { code, output } = await vitestWithoutRegistry('true')

    expect(code, output).not.toBe(0)
    expect(output).toContain('/nonexistent/docker-registry not found')
    expect(output).not.toContain('skipped the tests that need a real registry')
  })
})
