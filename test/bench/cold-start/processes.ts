import { spawn } from 'node:child_process'
import { performance } from 'node:perf_hooks'
import { fileURLToPath, pathToFileURL } from 'node:url'

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
export function importArgs(file: string): string[] {
  return ['--input-type=module', '-e', `await import(${JSON.stringify(pathToFileURL(file).href)})`]
}

/** What a child reports over IPC. */
export type ChildMessage = Record<string, unknown>

const CHILD_SCRIPT = fileURLToPath(new URL('invoke-child.mjs', import.meta.url))

/**
 * Runs the invoking child (`invoke-child.mjs`) on one bundle and returns its last report. `onWarm`
 * runs when the child says its first invocation is done; the child goes on once it returns.
 */
export function runChild(env: NodeJS.ProcessEnv, onWarm?: () => Promise<void> | void): Promise<ChildMessage> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD_SCRIPT], { env, stdio: ['ignore', 'ignore', 'pipe', 'ipc'] })
    let stderr = ''
    let result: ChildMessage | undefined
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000)
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8')
    })
    child.on('message', (message: ChildMessage) => {
      if (message.phase === 'warm') {
        Promise.resolve(onWarm?.()).then(
          () => child.send('go'),
          (error: unknown) => {
            child.kill('SIGKILL')
            reject(error)
          },
        )
        return
      }
      result = message
    })
    child.on('error', reject)
    child.on('exit', () => {
      clearTimeout(timer)
      if (result) resolve(result)
      else
        reject(
          new Error(`the bench child for ${env.BENCH_BUNDLE} reported nothing: ${stderr.slice(0, 2000)}`),
        )
    })
  })
}

/** A process that starts and does nothing, paired with each import to subtract Node's own start. */
export const BARE_NODE_ARGS = ['-e', '0']
