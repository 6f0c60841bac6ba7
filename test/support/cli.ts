/** Runs the built `synclog` binary as a user would, and reads what it prints. */
import { spawn } from 'node:child_process'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

export const CLI = resolve(import.meta.dirname, '../../dist/cli/main.js')

export interface CliRun {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
  /** Set when the run was killed for outliving `timeoutMs`. */
  readonly timedOut?: boolean
}

export function synclog(
  args: readonly string[],
  opts: { env?: Record<string, string>; cwd?: string; timeoutMs?: number } = {},
): Promise<CliRun> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: opts.cwd ?? process.cwd(),
      env: { ...process.env, SYNCLOG_LOG_LEVEL: 'warn', ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d))
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
    let timedOut = false
    const timer =
      opts.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true
            child.kill('SIGKILL')
          }, opts.timeoutMs)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolvePromise({ code, stdout, stderr, ...(timedOut ? { timedOut } : {}) })
    })
  })
}

export async function tempDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `synclog-${prefix}-`))
}

/** Parses `log --format json` output: one object per line. */
export function jsonLines(text: string): Record<string, string>[] {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, string>)
}

/** Whether a process with this pid still runs. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}
