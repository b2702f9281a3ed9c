import { spawn } from 'node:child_process'

/** How a Node process ended: its exit code and what it wrote on each stream. */
export interface NodeScriptResult {
  code: number | null
  stdout: string
  stderr: string
}

/**
 * Runs `node --input-type=module -e <source>` in the environment given (nothing inherited) and
 * answers how it ended; it rejects only when Node cannot be started.
 */
export function runNodeScript(source: string, env: NodeJS.ProcessEnv): Promise<NodeScriptResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', source], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8')
    })
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8')
    })
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr }))
  })
}
