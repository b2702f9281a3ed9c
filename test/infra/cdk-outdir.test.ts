import { existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname } from 'node:path'
import { describe, expect, it } from 'vitest'
import { removeCdkOutdirs } from '../support/cdk-outdir.ts'
import { buildTestApp } from './infra-app.ts'

describe('the infra tests’ CDK apps', () => {
  it('synthesize into a folder the test run removes, not a cdk.out* of their own in the temp directory', () => {
    // Arrange
    const { app } = buildTestApp()
    app.synth()
    expect(existsSync(app.outdir)).toBe(true)

    // Act
    removeCdkOutdirs()

    // Assert
    expect(dirname(app.outdir)).not.toBe(tmpdir())
    expect(existsSync(app.outdir)).toBe(false)
  })
})
