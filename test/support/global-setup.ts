import { registrySkipNotice } from './docker-registry.ts'

/**
 * vitest's global setup: nothing to start. Its teardown ends the run with one line when tests
 * that need the real registry were skipped, so a green run on a machine without it says so.
 */
export default function setup(): () => void {
  return function teardown() {
    const notice = registrySkipNotice()
    if (notice) process.stdout.write(`\n${notice}\n`)
  }
}
