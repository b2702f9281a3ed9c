import { readdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { FUNCTION_NAME_METADATA_KEY } from '../../infra/function-metadata.ts'
import { functionTimeoutSeconds } from '../../infra/function-timeouts.ts'
import { sourceFunctions } from '../../local/local-functions.ts'
import { synthesizeTestApp } from './infra-app.ts'

// one table of timeouts: what the stacks deploy each function with is what `npm start` runs it with
const { api, internal } = synthesizeTestApp()
const deployed = new Map<string, number>()
for (const template of [api, internal]) {
  for (const resource of Object.values(template.findResources('AWS::Lambda::Function'))) {
    const name = resource.Metadata?.[FUNCTION_NAME_METADATA_KEY] as string | undefined
    if (name) deployed.set(name, resource.Properties.Timeout as number)
  }
}
const functionNames = readdirSync(fileURLToPath(new URL('../../functions/', import.meta.url)))

describe('function timeouts', () => {
  it('deploys every function folder', () => {
    expect([...deployed.keys()].sort()).toEqual([...functionNames].sort())
  })

  it.each(functionNames)('deploys %s with its timeout of infra/function-timeouts.ts', (name) => {
    expect(deployed.get(name)).toBe(functionTimeoutSeconds(name))
  })

  it.each([
    ['health-check', 600],
    ['resolve-docker-registry', 30],
    ['credential-verifier', 10],
    // the route that waits for the verifier
    ['verify-docker-registry', 15],
    ['get-docker-registry', 10],
    ['publish-credential-events', 10],
  ])('gives %s %i s', (name, seconds) => {
    expect(functionTimeoutSeconds(name)).toBe(seconds)
  })

  it.each(functionNames)('runs %s locally with its deployed timeout', (name) => {
    expect(sourceFunctions().timeoutMs(name)).toBe(functionTimeoutSeconds(name) * 1000)
  })
})
