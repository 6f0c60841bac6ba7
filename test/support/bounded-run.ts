/**
 * Runs the built `synclog` binary with a deadline, and measures its peak
 * resident memory (VmHWM from /proc, polled; Linux only, 0 elsewhere).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { CLI } from './cli.js'

export interface BoundedRun {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  readonly stderr: string
  readonly ms: number
  /** Peak resident set size in MiB. */
  readonly peakMiB: number
  /** Killed at the deadline. */
  readonly timedOut: boolean
}

function peakKiB(pid: number): number {
  try {
    return Number(/VmHWM:\s*(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0)
  } catch {
    return 0
  }
}

export function startSynclog(args: readonly string[], env: Record<string, string> = {}): ChildProcess {
  return spawn(process.execPath, [CLI, ...args], {
    env: { ...process.env, SYNCLOG_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
}

export function runBounded(args: readonly string[], opts: { env?: Record<string, string>; deadlineMs: number }): Promise<BoundedRun> {
  const started = Date.now()
  const child = startSynclog(args, opts.env)
  let stdout = ''
  let stderr = ''
  let peak = 0
  let timedOut = false
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()))
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()))
  const poll = setInterval(() => {
    if (child.pid !== undefined) peak = Math.max(peak, peakKiB(child.pid))
  }, 50)
  const deadline = setTimeout(() => {
    timedOut = true
    child.kill('SIGKILL')
  }, opts.deadlineMs)
  return new Promise((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (code, signal) => {
      clearInterval(poll)
      clearTimeout(deadline)
      resolve({ code, signal, stdout, stderr, ms: Date.now() - started, peakMiB: Math.round(peak / 1024), timedOut })
    })
  })
}
