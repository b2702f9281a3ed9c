import { readFile as readFileWithCallback } from 'node:fs'

/**
 * What the Lambda bundles give the SDK's shared config file loader (`~/.aws/config` and
 * `~/.aws/credentials`, read for every client setting the environment does not give) in place
 * of `node:fs/promises`' `readFile`: the same read through `node:fs`, which Node has loaded
 * before any user code. `node:fs/promises` itself would load about ten more internal modules
 * (its readline and REPL history support among them) on a container's first request, only to
 * find that a Lambda container has no such files. Same contract: the file's text, or a rejection
 * with the error (`ENOENT` for a missing file). Bundles only (infra/bundling/function-bundle.ts).
 */
export function readFile(path: string, encoding: 'utf8'): Promise<string> {
  return new Promise((resolve, reject) => {
    readFileWithCallback(path, encoding, (error, text) => (error ? reject(error) : resolve(text)))
  })
}
