/**
 * Bad --data and --out paths: every command refuses them at once, in one line naming the path
 * and the problem, exits 1, and leaves devices, FIFOs, sockets and links as they were.
 */
import { execFileSync } from 'node:child_process'
import { lstatSync, readlinkSync } from 'node:fs'
import { mkdir, rm, symlink, writeFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:net'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { synclog, tempDir, type CliRun } from '../support/cli.js'

/** Runs `work` over `items`, `limit` at a time (each run is a process). */
async function inParallel<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items]
  await Promise.all(
    Array.from({ length: limit }, async () => {
      for (let item = queue.shift(); item !== undefined; item = queue.shift()) await work(item)
    }),
  )
}

function expectClearRefusal(run: CliRun, path: string, what: string): void {
  expect(run.timedOut, `${what} hung`).toBeUndefined()
  expect(run.code, `${what}: ${run.stderr}`).toBe(1)
  const lines = run.stderr.trimEnd().split('\n')
  expect(lines, `${what}: ${run.stderr}`).toHaveLength(1)
  expect(lines[0]).toMatch(/^synclog: /)
  expect(lines[0]).toContain(path === '' ? 'is empty' : path)
  expect(run.stderr).not.toMatch(/unexpected error|\n\s+at /)
}

/** What a special file is, to check it is untouched afterwards. */
function kind(path: string): string {
  const s = lstatSync(path)
  if (s.isSymbolicLink()) return `link -> ${readlinkSync(path)}`
  return s.isFIFO()
    ? 'fifo'
    : s.isSocket()
      ? 'socket'
      : s.isCharacterDevice()
        ? 'char'
        : s.isDirectory()
          ? 'dir'
          : s.isFile()
            ? 'file'
            : 'other'
}

describe('bad --data and --out paths', () => {
  let dir: string
  let server: Server
  const specials: string[] = []
  let before: Map<string, string>

  const p = (name: string): string => join(dir, name)

  beforeAll(async () => {
    dir = await tempDir('paths')
    execFileSync('mkfifo', [p('fifo')])
    server = createServer()
    await new Promise<void>((resolve) => server.listen(p('socket'), resolve))
    await writeFile(p('file'), 'not a directory\n')
    await mkdir(p('dir'))
    await symlink(p('loop-b'), p('loop-a'))
    await symlink(p('loop-a'), p('loop-b'))
    await symlink(p('self-loop'), p('self-loop'))
    await symlink(p('missing-target'), p('dangling'))
    await symlink(p('file'), p('link-to-file'))
    await symlink(p('dir'), p('link-to-dir'))
    await symlink('/proc/self', p('link-to-proc'))
    await symlink('/dev/null', p('link-to-null'))
    specials.push(
      '/dev/null',
      '/dev/zero',
      ...[
        'fifo',
        'socket',
        'loop-a',
        'loop-b',
        'self-loop',
        'dangling',
        'link-to-file',
        'link-to-dir',
        'link-to-proc',
        'link-to-null',
        'file',
        'dir',
      ].map(p),
    )
    before = new Map(specials.map((s) => [s, kind(s)]))
  })

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()))
    await rm(dir, { recursive: true, force: true })
  })

  /** Not directories and not creatable, or on a pseudo-filesystem. */
  const badDataDirs = (): string[] => {
    const base = [
      '',
      '/dev/null',
      '/dev/zero',
      p('fifo'),
      p('socket'),
      p('file'),
      p('loop-a'),
      p('self-loop'),
      p('dangling'),
      p('link-to-file'),
      p('link-to-proc'),
      p('link-to-null'),
      '/proc/self/synclog',
      '/proc/self',
      '/proc/1/fd',
      '/sys/kernel/synclog',
      '/sys',
      '/dev/shm/synclog',
      '/dev',
    ]
    const nested = [p('file'), p('fifo'), p('loop-a'), p('dangling'), '/dev/null', p('link-to-file')].map((b) => join(b, 'sub', 'data'))
    return [...base, ...nested]
  }

  const COMMANDS: readonly (readonly string[])[] = [
    ['syncs'],
    ['log'],
    ['summary', 's1'],
    ['history', '--student', '1'],
    ['daily'],
    ['drilldown', 's1', '--entity', 'user', '--outcome', 'New'],
    ['import', 'in', '--tenant', 't'],
    ['ingest', 'events.ndjson'],
    ['approve', 's1', '--reason', 'checked'],
    ['reject', 's1', '--reason', 'checked'],
    ['report', 's1', '--out', 'reports'],
    ['export', '--name', 'nightly', '--out', 'exports'],
    ['token', 'list'],
    ['token', 'create', '--name', 'n', '--tenant', 't'],
    ['token', 'revoke', 'n'],
    ['demo'],
    ['serve', '--port', '0'],
  ]

  it('refuses every bad --data in every command at once, in one line, with exit 1', async () => {
    const bad = badDataDirs()
    // Every command meets a sixth of the corpus, and every value several commands; `syncs` meets all of it.
    const runs = COMMANDS.flatMap((args, i) => bad.filter((_, j) => i === 0 || (i + j) % 6 === 0).map((data) => ({ args, data })))
    expect(runs.length).toBeGreaterThan(80)
    await inParallel(runs, 4, async ({ args, data }) => {
      const run = await synclog([...args, '--data', data], { cwd: dir, timeoutMs: 30_000 })
      expectClearRefusal(run, data, `${args.join(' ')} --data '${data}'`)
    })
    for (const s of specials) expect(kind(s), s).toBe(before.get(s))
  }, 600_000)

  it('refuses an empty SYNCLOG_DATA rather than using the current directory', async () => {
    const run = await synclog(['syncs'], { cwd: dir, env: { SYNCLOG_DATA: '' }, timeoutMs: 30_000 })
    expect(run.code).toBe(1)
    expect(run.stderr).toMatch(/^synclog: SYNCLOG_DATA is set but empty/)
  })

  it('refuses a --out file that is a directory, a special file, a link or on a pseudo-filesystem, and leaves it as it was', async () => {
    const bad = [
      '',
      '/dev/null',
      '/dev/zero',
      '/dev/stdout',
      p('fifo'),
      p('socket'),
      p('dir'),
      p('loop-a'),
      p('self-loop'),
      p('dangling'),
      p('link-to-file'),
      p('link-to-dir'),
      p('link-to-null'),
      '/proc/self/log.csv',
      join(p('link-to-proc'), 'log.csv'),
      '/sys/log.csv',
      join(p('file'), 'log.csv'),
      join(p('fifo'), 'sub', 'log.csv'),
      '/dev/shm/log.csv',
      '/',
    ]
    const formats = ['table', 'json', 'csv', 'xlsx']
    // Each value with two formats, in turn: every format meets half the corpus.
    const runs = bad.flatMap((out, j) => [formats[j % 4]!, formats[(j + 1) % 4]!].map((format) => ({ format, out })))
    await inParallel(runs, 4, async ({ format, out }) => {
      const run = await synclog(['log', '--format', format, '--out', out, '--data', p(`data-${format}`)], { cwd: dir, timeoutMs: 30_000 })
      expectClearRefusal(run, out, `log --format ${format} --out '${out}'`)
    })
    for (const s of specials) expect(kind(s), s).toBe(before.get(s))
  }, 600_000)

  it('refuses a --out directory of export and report that is not a directory', async () => {
    const bad = [
      '',
      '/dev/null',
      p('fifo'),
      p('socket'),
      p('file'),
      p('loop-a'),
      p('dangling'),
      p('link-to-file'),
      p('link-to-null'),
      '/proc/self/reports',
      join(p('link-to-proc'), 'reports'),
      '/sys/reports',
      join(p('file'), 'reports'),
      '/dev/shm/reports',
    ]
    const runs = [
      ['report', 's1'],
      ['export', '--name', 'nightly'],
    ].flatMap((args) => bad.map((out) => ({ args, out })))
    await inParallel(runs, 4, async ({ args, out }) => {
      const run = await synclog([...args, '--out', out, '--data', p('data-out')], { cwd: dir, timeoutMs: 30_000 })
      expectClearRefusal(run, out, `${args.join(' ')} --out '${out}'`)
    })
    for (const s of specials) expect(kind(s), s).toBe(before.get(s))
  }, 600_000)
})
