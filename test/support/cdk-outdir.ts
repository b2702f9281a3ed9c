import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/**
 * Where the tests' CDK apps synthesize. An `App` without an `outdir` makes a `cdk.out*` folder of
 * its own in the system temp directory and never removes it; every test app gets one here
 * instead, under one folder per test file that {@link removeCdkOutdirs} deletes after the file.
 */
let root: string | undefined

/** A fresh, empty folder for one app's cloud assembly. */
export function cdkOutdir(): string {
  root ??= mkdtempSync(join(tmpdir(), 'registry-credentials-cdk-'))
  return mkdtempSync(join(root, 'cdk.out-'))
}

/** Removes every folder {@link cdkOutdir} handed out (the setup file calls it after each test file). */
export function removeCdkOutdirs(): void {
  if (root) rmSync(root, { recursive: true, force: true })
  root = undefined
}
