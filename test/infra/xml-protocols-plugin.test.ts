import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import { afterAll, describe, expect, it } from 'vitest'
import { LAMBDA_ESBUILD_OPTIONS } from '../../infra/bundling/function-bundle.ts'

// The query/XML-less protocol barrel must only go to importers known to need no AWS Query or XML
// export. Two importers in node_modules need them and are not @aws-sdk/client-sts: the SDK core's
// own root barrel (`@aws-sdk/core`, which re-exports every protocol) and the nested STS client
// (`@aws-sdk/nested-clients/sts`, AwsQueryProtocol) that the SDK's web-identity, ini and
// temporary-credentials providers use. Bundling either with the functions' options must work.
const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const outdirs: string[] = []

afterAll(() => {
  for (const dir of outdirs) rmSync(dir, { recursive: true, force: true })
})

async function bundle(contents: string): Promise<string[]> {
  const outdir = mkdtempSync(join(tmpdir(), 'xml-protocols-'))
  outdirs.push(outdir)
  try {
    await build({
      ...LAMBDA_ESBUILD_OPTIONS,
      stdin: { contents, resolveDir: ROOT, loader: 'ts', sourcefile: 'entry.ts' },
      outdir,
      logLevel: 'silent',
    })
    return []
  } catch (error) {
    return ((error as { errors?: { text: string }[] }).errors ?? [{ text: String(error) }]).map(
      (message) => message.text,
    )
  }
}

describe('the AWS Query and XML protocols stay with the clients that need them', () => {
  it('still bundles code that imports the @aws-sdk/core root barrel', async () => {
    const errors = await bundle(
      "import { setFeature } from '@aws-sdk/core'\nexport const handler = async () => typeof setFeature",
    )

    expect(errors).toEqual([])
  })

  it('still bundles the nested STS client (AWS Query) the SDK credential providers use', async () => {
    const errors = await bundle(
      "export const handler = async () => (await import('@aws-sdk/nested-clients/sts')).STSClient.name",
    )

    expect(errors).toEqual([])
  })
})
