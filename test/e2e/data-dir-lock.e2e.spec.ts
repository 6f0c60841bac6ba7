/**
 * The data directory's lock as the real CLI takes it. With a ClickHouse server
 * (`--clickhouse-url`) several processes work at once: readers never wait for the lock,
 * commands that change the directory's state wait their turn (and say so). (On the embedded
 * store, a stream projector writes through the `synclog serve` that owns the directory:
 * projectors-through-service.kafka.spec.ts.)
 *
 * No ClickHouse server runs here: the URL names a closed port, so a command that got past
 * the lock stops at "Cannot reach ClickHouse", which tells the two apart.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { rm, writeFile } from 'node:fs/promises'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { CLI, synclog, tempDir } from '../support/cli.js'
import { freePort } from '../support/stream-events.js'

const cleanup: (() => Promise<unknown>)[] = []
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c()
})

async function dataDir(): Promise<string> {
  const dir = await tempDir('lock-e2e')
  cleanup.push(() => rm(dir, { recursive: true, force: true }))
  return dir
}

/** A URL where no ClickHouse answers (a port just freed). */
async function closedUrl(): Promise<string> {
  return `http://127.0.0.1:${await freePort()}`
}

/** Another live process holding the directory's lock, as a long import would. */
async function heldByAnImport(dir: string): Promise<ChildProcess> {
  const holder = spawn('sleep', ['120'], { stdio: 'ignore' })
  cleanup.push(async () => {
    holder.kill('SIGKILL')
  })
  await writeFile(
    join(dir, 'synclog.lock'),
    JSON.stringify({ pid: holder.pid, command: 'import', since: new Date().toISOString(), host: hostname() }),
  )
  return holder
}

/** Starts the CLI and resolves once its stderr says `text`, with what it printed and its exit. */
function startCli(args: readonly string[]): {
  stderr: () => string
  exited: Promise<number | null>
  said: (text: string, timeoutMs: number) => Promise<void>
} {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { ...process.env, SYNCLOG_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  cleanup.push(async () => {
    child.kill('SIGKILL')
  })
  let err = ''
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d))
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  const said = async (text: string, timeoutMs: number): Promise<void> => {
    const until = Date.now() + timeoutMs
    while (!err.includes(text)) {
      if (Date.now() > until || child.exitCode !== null) throw new Error(`the command never said '${text}': ${err}`)
      await new Promise((r) => setTimeout(r, 100))
    }
  }
  return { stderr: () => err, exited, said }
}

describe('with a ClickHouse server', () => {
  it('reading commands do not wait for the data directory another process holds', async () => {
    const data = await dataDir()
    await heldByAnImport(data)
    const url = await closedUrl()
    for (const args of [['log'], ['syncs'], ['summary', 'night-1'], ['sql', 'SELECT 1']]) {
      const run = await synclog([...args, '--clickhouse-url', url, '--data', data], { timeoutMs: 30_000 })
      expect(run.code, args.join(' ')).toBe(1)
      expect(run.stderr, args.join(' ')).toContain('Cannot reach ClickHouse')
      expect(run.stderr).not.toContain('in use by another synclog process')
    }
  })

  it('commands that change the data directory wait their turn, say so, and go on once the holder is done', async () => {
    const data = await dataDir()
    const holder = await heldByAnImport(data)
    const url = await closedUrl()
    const events = join(data, 'events.ndjson')
    await writeFile(
      events,
      `${JSON.stringify({ type: 'SyncStarted', eventId: 's:start', tenant: 'd', syncId: 's', app: 'sis', occurredAt: '2026-10-18T02:00:00.000Z', modes: {} })}\n`,
    )
    const waiting = [
      ['ingest', events],
      ['approve', 'night-1', '--reason', 'checked'],
      ['export', '--name', 'nightly', '--out', join(data, 'out')],
    ].map((args) => ({ args, cli: startCli([...args, '--clickhouse-url', url, '--data', data]) }))
    for (const { cli } of waiting) await cli.said(`in use by another synclog process (pid ${holder.pid}, 'import'`, 30_000)
    for (const { args, cli } of waiting) expect(cli.stderr(), args[0]).toContain('waiting for it to finish')
    holder.kill('SIGKILL')
    for (const { args, cli } of waiting) {
      expect(await cli.exited, args[0]).toBe(1)
      expect(cli.stderr(), args[0]).toContain('Cannot reach ClickHouse')
    }
  })
})
