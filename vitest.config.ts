import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // integration files each start their own local stack on ephemeral ports
    fileParallelism: true,
    // the functions' logger: quiet in tests, raised by the tests that inspect log output
    // and their metrics off (test/integration/metrics.test.ts turns them on and reads them)
    env: { POWERTOOLS_LOG_LEVEL: 'WARN', POWERTOOLS_METRICS_DISABLED: 'true' },
    // `npm run bench`: each benchmark runs beside a baseline measured in the same run
    benchmark: { include: ['test/bench/**/*.bench.ts'] },
  },
})
