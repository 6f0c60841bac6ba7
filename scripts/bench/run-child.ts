/** The harness side of a child: start it, sample its RSS from outside, collect its answer. */
import { fork } from 'node:child_process'
import { createWriteStream } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { ChildMessage } from './child.js'
import { RssSampler } from './proc.js'
import type { ChildResult, ChildSpec } from './types.js'

const CHILD = join(dirname(fileURLToPath(import.meta.url)), 'child.ts')

export interface ChildRun {
  readonly result: ChildResult
  /** Peak RSS of the child: the higher of the harness's samples and the child's own ru_maxrss. */
  readonly peakRss: number
  readonly wallSeconds: number
}

export interface ChildRunOptions {
  /** Where the child's stdout and stderr go. */
  readonly logPath: string
  /** Write V8 CPU profiles of the child into this directory (one file per thread: the main thread's has thread id 0 in its name). */
  readonly cpuProfDir?: string
  /** Also copy the child's stderr to ours. */
  readonly echo?: boolean
  /** Run the child under valgrind's callgrind, writing its counts to this file. */
  readonly callgrindOut?: string
}

export function runChild(spec: ChildSpec | (ChildSpec & { idle: true }), opts: ChildRunOptions): Promise<ChildRun> {
  // --expose-gc: stages that measure the heap collect before reading it.
  const execArgv = ['--import', 'tsx', '--expose-gc']
  if (spec.heapMb !== undefined) execArgv.push(`--max-old-space-size=${spec.heapMb}`)
  if (opts.cpuProfDir !== undefined) execArgv.push('--cpu-prof', `--cpu-prof-dir=${opts.cpuProfDir}`)
  // Under callgrind, valgrind runs node in its own process (same pid, same IPC channel).
  const under =
    opts.callgrindOut === undefined
      ? { execArgv }
      : { execPath: 'valgrind', execArgv: ['--tool=callgrind', `--callgrind-out-file=${opts.callgrindOut}`, process.execPath, ...execArgv] }
  const started = performance.now()
  const child = fork(CHILD, [JSON.stringify(spec)], { ...under, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] })
  const sampler = new RssSampler(child.pid!)
  const log = createWriteStream(opts.logPath, { flags: 'a' })
  const lastLines: string[] = []
  const keep = (chunk: Buffer): void => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (line.trim() === '') continue
      lastLines.push(line)
      if (lastLines.length > 20) lastLines.shift()
    }
  }
  child.stdout?.on('data', (c: Buffer) => {
    log.write(c)
  })
  child.stderr?.on('data', (c: Buffer) => {
    log.write(c)
    keep(c)
    if (opts.echo) process.stderr.write(c)
  })
  let message: ChildMessage | null = null
  child.on('message', (m: ChildMessage) => {
    message = m
  })
  return new Promise((resolve, reject) => {
    child.on('exit', (code, signal) => {
      const peak = sampler.stop()
      log.end()
      const m = message as ChildMessage | null
      const wallSeconds = (performance.now() - started) / 1000
      if (m?.type === 'result') return resolve({ result: m.result, peakRss: Math.max(peak, m.peakRss), wallSeconds })
      const why = m?.type === 'error' ? m.message : `exited with ${signal ?? code} and no result`
      reject(
        new Error(
          `${spec.stage}${spec.part ? `/${spec.part}` : ''} ${spec.variant}: ${why}${lastLines.length > 0 ? `\n  last stderr lines:\n    ${lastLines.join('\n    ')}` : ''}\n  (full log: ${opts.logPath})`,
        ),
      )
    })
  })
}
