import { defineConfig } from 'vitest/config'

/**
 * `npm run test:bundles`: the end-to-end suite against `npm start` running the bundles of
 * `cdk.out` (run `npm run synth` first; `LOCAL_BUNDLES` names another folder). Apart from
 * `npm test` because it needs a synthesized assembly.
 */
export default defineConfig({
  test: {
    include: ['test/bundles/**/*.e2e.ts'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 120_000,
    env: { POWERTOOLS_LOG_LEVEL: 'WARN' },
  },
})
