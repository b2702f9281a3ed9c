import { spawn } from 'node:child_process'
import { performance } from 'node:perf_hooks'
import { pathToFileURL } from 'node:url'

/** Runs `node args…` to its end and returns its wall time in milliseconds. */
export function timeNode(args: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now()
    const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'ignore', 'pipe'] })
    let stderr = ''
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8')
    })
    child.on('error', reject)
    child.on('exit', (code) => {
      const elapsed = performance.now() - started
      if (code === 0) resolve(elapsed)
      else reject(new Error(`node ${args.join(' ')} exited with ${code}: ${stderr.slice(0, 2000)}`))
    })
  })
}

/** The arguments of a process that imports `file` and exits: what a cold start pays before the handler. */
export function importArgs(file: string, nodeOptions: readonly string[]): string[] {
  return [...nodeOptions, '--input-type=module', '-e', `await import(${JSON.stringify(pathToFileURL(file).href)})`]
}

/** A process that starts and does nothing, paired with each import to subtract Node's own start. */
export const BARE_NODE_ARGS = ['-e', '0']
