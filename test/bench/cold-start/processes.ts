import { spawn } from 'node:child_process'
import { performance } from 'node:perf_hooks'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { runNodeScript } from '../../support/node-script.ts'

/** What one process cost: its wall time, and the CPU time (user + system, all threads) it used. */
export interface ProcessCost {
  wallMs: number
  cpuMs: number
}

// appended to every measured script: the process's own CPU time, written to stdout as it ends
const PRINT_CPU =
  'const __cpu = process.cpuUsage(); process.stdout.write(String((__cpu.user + __cpu.system) / 1000))'

/** Runs `node --input-type=module -e <script>` to its end and returns what it cost. */
export async function measureNode(script: string, env: NodeJS.ProcessEnv): Promise<ProcessCost> {
  const started = performance.now()
  const { code, stdout, stderr } = await runNodeScript(`${script};\n${PRINT_CPU}`, env)
  const wallMs = performance.now() - started
  const cpuMs = Number(stdout.trim().split('\n').at(-1))
  if (code !== 0 || !Number.isFinite(cpuMs)) {
    throw new Error(`node -e ${script} exited with ${code}: ${stderr.slice(0, 2000)}`)
  }
  return { wallMs, cpuMs }
}

/** A script that imports `file`: what a cold start pays before the handler runs. */
export function importScript(file: string): string {
  return `await import(${JSON.stringify(pathToFileURL(file).href)})`
}

/** A script that does nothing, paired with each import to subtract Node's own start. */
export const BARE_SCRIPT = '0'

/** What a bench child reports. */
export type ChildMessage = Record<string, unknown>

const CHILD_SCRIPT = fileURLToPath(new URL('invoke-child.mjs', import.meta.url))

/**
 * Runs the invoking child (`invoke-child.mjs`) on one bundle and returns its last report. `onWarm`
 * runs when the child says its first invocation is done; the child goes on once it returns.
 */
export function runChild(env: NodeJS.ProcessEnv, onWarm?: () => Promise<void> | void): Promise<ChildMessage> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD_SCRIPT], { env, stdio: ['pipe', 'ignore', 'pipe', 'pipe'] })
    const reports = child.stdio[3] as NodeJS.ReadableStream
    let stderr = ''
    let pending = ''
    let result: ChildMessage | undefined
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000)
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8')
    })
    reports.on('data', (chunk: Buffer) => {
      pending += chunk.toString('utf8')
      for (let end = pending.indexOf('\n'); end >= 0; end = pending.indexOf('\n')) {
        const message = JSON.parse(pending.slice(0, end)) as ChildMessage
        pending = pending.slice(end + 1)
        if (message.phase !== 'warm') {
          result = message
          continue
        }
        Promise.resolve(onWarm?.()).then(
          () => child.stdin?.write('g'),
          (error: unknown) => {
            child.kill('SIGKILL')
            reject(error)
          },
        )
      }
    })
    child.on('error', reject)
    child.on('close', () => {
      clearTimeout(timer)
      if (result) resolve(result)
      else
        reject(
          new Error(`the bench child for ${env.BENCH_BUNDLE} reported nothing: ${stderr.slice(0, 2000)}`),
        )
    })
  })
}
