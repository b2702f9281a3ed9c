import { readFile, writeFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { renderOpenApiDocument } from './openapi.ts'

/**
 * `npm run openapi` writes `shared/http/openapi.json` from the schemas; `npm run openapi:check`
 * (CI) exits 1 when the committed file differs from what the schemas give.
 */
const target = fileURLToPath(new URL('./openapi.json', import.meta.url))
const relativeTarget = 'shared/http/openapi.json'
const rendered = renderOpenApiDocument()

function firstDifference(committed: string, expected: string): string {
  const committedLines = committed.split('\n')
  const expectedLines = expected.split('\n')
  const line = expectedLines.findIndex((text, index) => committedLines[index] !== text)
  if (line === -1) return `the committed file has ${committedLines.length - expectedLines.length} extra lines`
  return [
    `first difference at line ${line + 1}:`,
    `  committed: ${committedLines[line] ?? '(end of file)'}`,
    `  expected:  ${expectedLines[line]}`,
  ].join('\n')
}

if (process.argv.includes('--check')) {
  const committed = await readFile(target, 'utf8').catch(() => undefined)
  if (committed === rendered) {
    process.stdout.write(`${relativeTarget} is up to date\n`)
  } else {
    process.stderr.write(
      [
        `${relativeTarget} does not match the schemas and route table it is generated from.`,
        committed === undefined ? 'The file is missing.' : firstDifference(committed, rendered),
        'Run `npm run openapi` and commit the result.',
        '',
      ].join('\n'),
    )
    process.exitCode = 1
  }
} else {
  await writeFile(target, rendered)
  process.stdout.write(`wrote ${relativeTarget}\n`)
}
