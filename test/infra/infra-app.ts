import { readFileSync } from 'node:fs'
import { App } from 'aws-cdk-lib'
import { Template } from 'aws-cdk-lib/assertions'
import {
  buildRegistryCredentialsApp,
  type RegistryCredentialsStacks,
} from '../../infra/registry-credentials-app.ts'
import { cdkOutdir } from '../support/cdk-outdir.ts'

/** The `cdk.json` context (stages and feature flags), as the CLI passes it to the app. */
export function cdkJsonContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8'))
  return cdkJson.context
}

/** Options of {@link buildTestApp}. */
export interface TestAppOptions {
  /** Context entries over the `cdk.json` ones, e.g. `{ stage: 'prod' }`. */
  context?: Record<string, unknown>
  /**
   * Whether the CDK's own CloudFormation checks run on synth, as they do in `cdk synth`; off by
   * default because they cost seconds and only the cdk-nag test needs them.
   */
  builtinValidation?: boolean
}

/** The app as `infra/app.ts` builds it, with asset bundling skipped so that synth stays fast. */
export function buildTestApp({ context = {}, builtinValidation = false }: TestAppOptions = {}): {
  app: App
  stacks: RegistryCredentialsStacks
} {
  const app = new App({
    outdir: cdkOutdir(),
    builtinCloudFormationValidation: builtinValidation,
    context: { ...cdkJsonContext(), 'aws:cdk:bundling-stacks': [], ...context },
  })
  return { app, stacks: buildRegistryCredentialsApp(app) }
}

/** One synthesized app: every stack's template. */
export interface SynthesizedApp {
  stacks: RegistryCredentialsStacks
  stateful: Template
  api: Template
  internal: Template
  monitoring: Template
}

/** Builds and synthesizes the app (cdk-nag included) once. */
export function synthesizeTestApp(options?: TestAppOptions): SynthesizedApp {
  const { stacks } = buildTestApp(options)
  return {
    stacks,
    stateful: Template.fromStack(stacks.stateful),
    api: Template.fromStack(stacks.api),
    internal: Template.fromStack(stacks.internal),
    monitoring: Template.fromStack(stacks.monitoring),
  }
}
