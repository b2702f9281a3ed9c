import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Annotations, Match } from 'aws-cdk-lib/assertions'
import { Key } from 'aws-cdk-lib/aws-kms'
import { describe, expect, it } from 'vitest'
import { buildTestApp } from './infra-app.ts'

interface ValidationReport {
  pluginReports: { pluginName?: string; violations?: unknown[]; conclusion?: string }[]
}

describe('cdk-nag (AWS Solutions)', () => {
  it('synthesizes the app with no unacknowledged finding and no CDK warning', () => {
    // Arrange: the app as `cdk synth` builds it (the CDK's own template checks, slow and not
    // cdk-nag, are left to `npm run synth`)
    const { app, stacks } = buildTestApp()

    // Act: a rule violation of severity error throws here
    const assembly = app.synth()

    // Assert: warnings do not throw, so the report must be empty too
    const report: ValidationReport = JSON.parse(
      readFileSync(join(assembly.directory, 'validation-report.json'), 'utf8'),
    )
    expect(report.pluginReports.flatMap((plugin) => plugin.violations ?? [])).toEqual([])
    for (const stack of [stacks.stateful, stacks.api, stacks.internal, stacks.monitoring]) {
      expect(Annotations.fromStack(stack).findError('*', Match.anyValue())).toEqual([])
      expect(Annotations.fromStack(stack).findWarning('*', Match.anyValue())).toEqual([])
    }
  })

  it('fails the synth on a finding nobody acknowledged', () => {
    // Arrange: a key without rotation breaks AwsSolutions-KMS5
    const { app, stacks } = buildTestApp()
    new Key(stacks.stateful, 'UnrotatedKey')

    // Act and Assert
    expect(() => app.synth()).toThrow(/AwsSolutions-KMS5/)
  })

  it('needs the web ACL on the API stage: without its association AwsSolutions-APIG3 fails the synth', () => {
    // Arrange: nothing acknowledges APIG3 any more
    const { app, stacks } = buildTestApp()
    stacks.api.webAcl.node.tryRemoveChild('StageAssociation')

    // Act and Assert
    expect(() => app.synth()).toThrow(/AwsSolutions-APIG3/)
  })
})
