/**
 * Who takes the data directory's lock, and how: embedded, every process holds it while its
 * store is open; with a ClickHouse server only the changes to the directory's files are
 * serialised, and they wait their turn instead of failing. Real files, real processes.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { readFile, rm, writeFile } from 'node:fs/promises'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { acquireDataDirLock, lockDataDir, lockFor, type StoreUse } from '../../src/state/data-dir-lock.js'
import { tempDir } from '../support/cli.js'

const cleanup: (() => Promise<unknown>)[] = []
afterEach(async () => {
  for (const c of cleanup.splice(0)) await c()
})

async function dataDir(): Promise<string> {
  const dir = await tempDir('lock')
  cleanup.push(() => rm(dir, { recursive: true, force: true }))
  return dir
}

/** A live process of its own named as the lock's holder, as another synclog command would be. */
async function heldByAnother(dir: string, command: string): Promise<ChildProcess> {
  const holder = spawn('sleep', ['60'], { stdio: 'ignore' })
  cleanup.push(async () => {
    holder.kill('SIGKILL')
  })
  await writeFile(
    join(dir, 'synclog.lock'),
    JSON.stringify({ pid: holder.pid, command, since: '2026-10-18T02:00:00.000Z', host: hostname() }),
  )
  return holder
}

describe('which processes take the data directory lock', () => {
  const uses: StoreUse[] = ['read', 'state', 'project', 'serve']

  it('on the embedded store, every process holds it while its store is open, and a second one is refused at once', () => {
    for (const use of uses) expect(lockFor('embedded', use)).toBe('hold')
  })

  it('with a ClickHouse server, commands that change the state wait their turn, and readers, projectors and the service take it only around their own writes', () => {
    expect(Object.fromEntries(uses.map((use) => [use, lockFor('server', use)]))).toEqual({
      read: 'per-write',
      state: 'wait',
      project: 'per-write',
      serve: 'per-write',
    })
  })
})

describe('the data directory lock', () => {
  it('taken per write, is held only while the write runs', async () => {
    const dir = await dataDir()
    const lock = await lockDataDir(dir, 'per-write', 'serve', () => {})
    expect(existsSync(join(dir, 'synclog.lock'))).toBe(false)
    const during = await lock.writing(
      async () => JSON.parse(await readFile(join(dir, 'synclog.lock'), 'utf8')) as { pid: number; command: string },
    )
    expect(during).toMatchObject({ pid: process.pid, command: 'serve' })
    expect(existsSync(join(dir, 'synclog.lock'))).toBe(false)
    await lock.release()
  })

  it('held by another live process, is refused at once naming the holder', async () => {
    const dir = await dataDir()
    const holder = await heldByAnother(dir, 'import')
    await expect(lockDataDir(dir, 'hold', 'log', () => {})).rejects.toMatchObject({
      code: 'DATA_DIR_LOCKED',
      message: expect.stringContaining(`in use by another synclog process (pid ${holder.pid}, 'import'`),
    })
  })

  it('held by a service, tells a stream service to run inside it with serve --stream', async () => {
    const dir = await dataDir()
    await heldByAnother(dir, 'serve')
    await expect(lockDataDir(dir, 'hold', 'run projector', () => {})).rejects.toMatchObject({
      message: expect.stringContaining('synclog serve --stream'),
    })
  })

  it('waited for, says once who holds it and is taken as soon as the holder is gone', async () => {
    const dir = await dataDir()
    const holder = await heldByAnother(dir, 'import')
    const told: string[] = []
    const waiting = acquireDataDirLock(dir, 'ingest', { timeoutMs: 30_000, onWait: (m) => told.push(m) })
    await new Promise((r) => setTimeout(r, 1500))
    expect(told).toHaveLength(1)
    expect(told[0]).toContain(`(pid ${holder.pid}, 'import'`)
    expect(told[0]).toContain('waiting for it to finish (at most 30 s)')
    const gone = new Promise((r) => holder.once('exit', r))
    holder.kill('SIGKILL')
    await gone
    const lock = await waiting
    expect(JSON.parse(await readFile(join(dir, 'synclog.lock'), 'utf8'))).toMatchObject({ pid: process.pid, command: 'ingest' })
    await lock.release()
    expect(told).toHaveLength(1)
  })

  it('waited for, gives up after its bound naming the holder', async () => {
    const dir = await dataDir()
    const holder = await heldByAnother(dir, 'import')
    const started = Date.now()
    await expect(acquireDataDirLock(dir, 'ingest', { timeoutMs: 1000, onWait: () => {} })).rejects.toMatchObject({
      code: 'DATA_DIR_LOCKED',
      message: expect.stringMatching(new RegExp(`waited 1 s .* still in use by another synclog process \\(pid ${holder.pid}, 'import'`)),
    })
    expect(Date.now() - started).toBeLessThan(5000)
  })
})
