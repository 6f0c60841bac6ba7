/**
 * `synclog … | head -1`: a reader that closes the pipe early ends the command quietly, exit 0,
 * and the data directory is free for the next command.
 */
import { spawn } from 'node:child_process'
import { rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CLI, synclog, tempDir } from '../support/cli.js'

interface ClosedRun {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stderr: string
  readonly firstLine: string
}

/** Runs synclog and closes its stdout (or stderr) after the first line, like `| head -1`. */
function readFirstLineThenClose(args: readonly string[], stream: 'stdout' | 'stderr' = 'stdout'): Promise<ClosedRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { ...process.env, SYNCLOG_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000)
    const closing = child[stream]
    const other = stream === 'stdout' ? child.stderr : child.stdout
    let firstLine = ''
    let stderr = ''
    closing.on('data', (d: Buffer) => {
      if (firstLine.includes('\n')) return
      firstLine += d.toString()
      if (firstLine.includes('\n')) {
        firstLine = firstLine.slice(0, firstLine.indexOf('\n'))
        closing.destroy()
      }
    })
    other.on('data', (d: Buffer) => {
      if (stream === 'stdout') stderr += d.toString()
    })
    child.on('error', reject)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal, stderr, firstLine })
    })
  })
}

describe('a reader that closes the output early', () => {
  let dir: string
  let data: string
  let syncId: string

  beforeAll(async () => {
    dir = await tempDir('closed-output')
    data = join(dir, 'demo')
    expect((await synclog(['demo', '--data', data])).code).toBe(0)
    syncId = (JSON.parse((await synclog(['syncs', '--format', 'json', '--data', data])).stdout) as { syncId: string }[])[0]!.syncId
  }, 300_000)

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  const printing = (): string[][] => [
    ['log', '--from', '2000-01-01', '--limit', '5000'],
    ['log', '--from', '2000-01-01', '--format', 'json'],
    ['log', '--from', '2000-01-01', '--format', 'csv'],
    ['log', '--from', '2000-01-01', '--format', 'json', '--limit', '3000'],
    ['log', '--from', '2000-01-01', '--format', 'csv', '--cursor', ''],
    ['syncs'],
    ['syncs', '--format', 'json'],
    ['syncs', '--format', 'csv'],
    ['summary', syncId, '--by-school'],
    ['summary', syncId, '--by-school', '--format', 'json'],
    ['summary', syncId, '--by-school', '--format', 'csv'],
    ['history', '--record', 'e-1'],
    ['daily', '--from', '2000-01-01'],
    ['daily', '--from', '2000-01-01', '--format', 'csv'],
    ['drilldown', syncId, '--entity', 'enrollment', '--outcome', 'New', '--limit', '1000'],
    ['drilldown', syncId, '--entity', 'enrollment', '--outcome', 'New', '--limit', '1000', '--format', 'csv'],
    ['token', 'list'],
    ['--help'],
    ['log', '--help'],
  ]

  it('ends every printing command quietly with exit 0 and frees the data directory', async () => {
    for (const args of printing()) {
      const run = await readFirstLineThenClose([...args, '--data', data])
      const what = args.join(' ')
      expect(run.signal, what).toBeNull()
      expect(run.code, `${what}: ${run.stderr}`).toBe(0)
      expect(run.stderr, what).not.toMatch(/EPIPE|unexpected error|\n\s+at /)
      expect(run.firstLine.length, what).toBeGreaterThan(0)
      const next = await synclog(['syncs', '--limit', '1', '--data', data])
      expect(next.code, `after ${what}: ${next.stderr}`).toBe(0)
    }
  }, 600_000)

  it('ends quietly when stderr is closed early too', async () => {
    const file = join(dir, 'bad.ndjson')
    await writeFile(file, Array.from({ length: 20_000 }, (_, i) => `{not json ${i}`).join('\n'))
    const run = await readFirstLineThenClose(['ingest', file, '--data', join(dir, 'ingest')], 'stderr')
    expect(run.signal).toBeNull()
    expect(run.code).toBe(0)
    expect((await synclog(['syncs', '--data', join(dir, 'ingest')])).code).toBe(0)
  }, 120_000)
})
