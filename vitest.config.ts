import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // after each file: remove the cloud assemblies its CDK apps wrote
    setupFiles: ['test/support/setup-file.ts'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // one DynamoDB Local for the run (integration files each start their own local stack on
    // ephemeral ports, with a table of their own on it); the end-of-run notice when tests that
    // need the real registry were skipped
    globalSetup: ['test/support/global-setup.ts'],
    fileParallelism: true,
    // the functions' logger: quiet in tests, raised by the tests that inspect log output
    // and their metrics off (test/integration/metrics.test.ts turns them on and reads them)
    env: { POWERTOOLS_LOG_LEVEL: 'WARN', POWERTOOLS_METRICS_DISABLED: 'true' },
    // `npm run bench`: each benchmark runs beside a baseline measured in the same run
    benchmark: { include: ['test/bench/**/*.bench.ts'] },
  },
})
