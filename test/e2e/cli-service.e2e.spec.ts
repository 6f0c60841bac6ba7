/**
 * The CLI is the same whether or not `synclog serve` owns the data directory. One script of
 * commands, covering every command that reaches a running service (imports that complete,
 * hold and fail, every read command and format, streamed output, files written with
 * relative paths, usage errors, approvals, exports, ingest, tokens), runs in two
 * directories side by side: in one the CLI opens the store itself, in the other a running
 * service owns it. Exit codes, stdout, stderr and the files written must be the same, once
 * what differs between any two runs (the time in sync ids, dates, cursors, a new token) is
 * named.
 */
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import ExcelJS from 'exceljs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generateDemoNights, type OneRosterTables } from '../../src/demo/district.js'
import { currentSchoolYear } from '../../src/demo/school-year.js'
import { writeOneRosterBundle } from '../../src/demo/write-oneroster.js'
import { smallDistrict, sync } from '../support/sis.js'
import { startServe, type RunningServe } from '../support/browser.js'
import { CLI, synclog, tempDir, type CliRun } from '../support/cli.js'

const { night1, night2 } = generateDemoNights({ seed: 29, schoolYear: currentSchoolYear(new Date()) })
/** Night 2 without a third of its student enrollments: a full sync deleting that many goes On Hold. */
const night3: OneRosterTables = { ...night2, enrollments: night2.enrollments.filter((e, i) => e.role !== 'student' || i % 3 !== 0) }

/** A SIS's change events for a tenant of their own, as JSON lines, one of them unreadable. */
const EVENTS = (() => {
  const lines = smallDistrict(sync(), { students: 3 })
    .end()
    .map((e) => JSON.stringify({ ...e, tenant: 'district-s' }))
  lines.splice(2, 0, '{not json')
  return `${lines.join('\n')}\n`
})()

/** What differs between any two runs of the same commands: times (in sync ids, file names, dates), cursors, secrets, directories. */
function normalize(text: string, dir: string): string {
  return text
    .split(dir)
    .join('<dir>')
    .replace(/\d{8}T\d{6}Z/g, '<stamp>')
    .replace(/\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?Z?/g, '<time>')
    .replace(/--cursor \S+/g, '--cursor <cursor>')
    .replace(/slk_[A-Za-z0-9_-]{43}/g, '<token>')
    .replace(/"(time|pid|hostname)":("[^"]*"|\d+)/g, '"$1":"<$1>"')
}

interface Side {
  readonly dir: string
  readonly data: string
}

async function prepareSide(root: string, name: string): Promise<Side> {
  const dir = join(root, name)
  await writeOneRosterBundle(join(dir, 'night1'), night1)
  await writeOneRosterBundle(join(dir, 'night2'), night2)
  await writeOneRosterBundle(join(dir, 'night3'), night3)
  await writeFile(join(dir, 'events.ndjson'), EVENTS)
  return { dir, data: join(dir, 'data') }
}

/** Runs a command in the side's directory, with relative paths as a user types them. */
function run(side: Side, args: readonly string[]): Promise<CliRun> {
  return synclog([...args, '--data', 'data'], { cwd: side.dir, timeoutMs: 120_000 })
}

/** Runs the command like `… | head -1`: stdout closed after its first line. */
function runUntilFirstLine(side: Side, args: readonly string[]): Promise<{ code: number | null; stderr: string; firstLine: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args, '--data', 'data'], {
      cwd: side.dir,
      env: { ...process.env, SYNCLOG_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000)
    let firstLine = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => {
      if (firstLine.includes('\n')) return
      firstLine += d.toString()
      if (firstLine.includes('\n')) {
        firstLine = firstLine.slice(0, firstLine.indexOf('\n'))
        child.stdout.destroy()
      }
    })
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stderr, firstLine })
    })
  })
}

async function filesIn(dir: string): Promise<Record<string, string>> {
  if (!existsSync(dir)) return {}
  const names = (await readdir(dir)).filter((n) => !n.endsWith('.xlsx')).sort()
  return Object.fromEntries(
    await Promise.all(
      names.map(async (n) => [n.replace(/\d{8}T\d{6}Z/g, '<stamp>'), normalize(await readFile(join(dir, n), 'utf8'), dir)] as const),
    ),
  )
}

async function xlsxRows(path: string): Promise<unknown[][]> {
  const book = new ExcelJS.Workbook()
  await book.xlsx.readFile(path)
  const rows: unknown[][] = []
  book.worksheets[0]!.eachRow((row) => rows.push((row.values as unknown[]).slice(1).map((v) => (v instanceof Date ? '<date>' : v))))
  return rows.map((r) => r.map((v) => (typeof v === 'string' ? v.replace(/\d{8}T\d{6}Z/g, '<stamp>') : v)))
}

let root = ''
let local: Side
let served: Side
let service: RunningServe | undefined

beforeAll(async () => {
  root = await tempDir('service')
  local = await prepareSide(root, 'local')
  served = await prepareSide(root, 'served')
  service = await startServe(served.data)
}, 120_000)

afterAll(async () => {
  await service?.stop()
  await rm(root, { recursive: true, force: true })
})

describe('the CLI with and without a running service', () => {
  /** Sync ids by the step that made them, the same on both sides once normalised. */
  const ids: Record<string, { local: string; served: string }> = {}
  /** Each step: arguments (sync ids by name as `{name}`), the exit code, and where to find a new sync id. */
  const steps: readonly { args: readonly string[]; code: number; syncId?: string }[] = [
    { args: ['import', 'night1', '--tenant', 'district-a', '--format', 'json'], code: 0, syncId: 'first' },
    { args: ['import', 'night2', '--tenant', 'district-a'], code: 0, syncId: 'second' },
    { args: ['import', 'night3', '--tenant', 'district-a', '--format', 'json'], code: 3, syncId: 'held' },
    { args: ['import', 'night2', '--tenant', 'district-a', '--format', 'json'], code: 2 },
    { args: ['import', 'night1', '--tenant', 'bad tenant'], code: 1 },
    { args: ['syncs'], code: 0 },
    { args: ['syncs', '--format', 'json'], code: 0 },
    { args: ['syncs', '--format', 'csv'], code: 0 },
    { args: ['summary', '{second}', '--by-school'], code: 0 },
    { args: ['summary', '{second}', '--format', 'csv'], code: 0 },
    { args: ['summary', 'no-such-sync'], code: 1 },
    { args: ['log'], code: 0 },
    { args: ['log', '--format', 'json', '--limit', '5'], code: 0 },
    { args: ['log', '--format', 'json', '--from', '2000-01-01'], code: 0 },
    { args: ['log', '--format', 'csv', '--action', 'Deleted Roster'], code: 0 },
    { args: ['log', '--format', 'csv', '--out', 'out/log.csv'], code: 0 },
    { args: ['log', '--format', 'xlsx', '--out', 'out/log.xlsx'], code: 0 },
    { args: ['log', '--format', 'xlsx'], code: 1 },
    { args: ['log', '--contains', 'nosuchcolumn=x'], code: 1 },
    { args: ['log', '--bogus-option'], code: 1 },
    { args: ['drilldown', '{second}', '--entity', 'enrollment', '--outcome', 'Deleted', '--format', 'json'], code: 0 },
    { args: ['drilldown', '{second}', '--entity', 'user', '--outcome', 'New'], code: 0 },
    { args: ['history', '--student', night1.users.find((u) => u.role === 'student')!.identifier!, '--format', 'json'], code: 0 },
    { args: ['history'], code: 1 },
    { args: ['daily', '--format', 'json'], code: 0 },
    { args: ['daily'], code: 0 },
    { args: ['report', '{second}', '--out', 'reports'], code: 0 },
    { args: ['export', '--name', 'nightly', '--out', 'exports', '--format', 'csv'], code: 0 },
    { args: ['export', '--name', 'nightly', '--out', 'exports', '--format', 'csv'], code: 0 },
    { args: ['export', '--name', 'bad name!', '--out', 'exports'], code: 1 },
    { args: ['reject', '{first}', '--reason', 'not wanted'], code: 1 },
    { args: ['approve', 'no-such-sync', '--reason', 'checked'], code: 1 },
    { args: ['approve', '{held}', '--by', 'registrar', '--reason', 'checked the deletions'], code: 0 },
    { args: ['export', '--name', 'nightly', '--out', 'exports', '--format', 'csv', '--per-school'], code: 0 },
    { args: ['ingest', 'events.ndjson'], code: 0 },
    { args: ['ingest', 'no-such-file.ndjson'], code: 1 },
    { args: ['token', 'create', '--name', 'registrar', '--tenant', 'district-a'], code: 0 },
    { args: ['token', 'list', '--format', 'json'], code: 0 },
    { args: ['token', 'revoke', 'registrar'], code: 0 },
    { args: ['token', 'revoke', 'registrar'], code: 1 },
  ]

  it('prints the same output with the same exit code for every command, through the service or not', async () => {
    for (const step of steps) {
      const argsOf = (side: 'local' | 'served'): string[] =>
        step.args.map((a) => a.replace(/^\{(\w+)\}$/, (_, name: string) => ids[name]![side]))
      const [a, b] = await Promise.all([run(local, argsOf('local')), run(served, argsOf('served'))])
      const what = step.args.join(' ')
      expect(a.code, `${what} without a service: ${a.stderr}`).toBe(step.code)
      expect(b.code, `${what} through the service: ${b.stderr}`).toBe(a.code)
      expect(normalize(b.stdout, served.dir), what).toBe(normalize(a.stdout, local.dir))
      expect(normalize(b.stderr, served.dir), what).toBe(normalize(a.stderr, local.dir))
      if (step.syncId !== undefined) {
        const idOf = (out: string): string => /(district-a\.\d{8}T\d{6}Z\.[0-9a-f]{8})/.exec(out)![1]!
        ids[step.syncId] = { local: idOf(a.stdout), served: idOf(b.stdout) }
      }
    }
    expect(await filesIn(join(served.dir, 'out'))).toEqual(await filesIn(join(local.dir, 'out')))
    expect(await filesIn(join(served.dir, 'reports'))).toEqual(await filesIn(join(local.dir, 'reports')))
    expect(await filesIn(join(served.dir, 'exports'))).toEqual(await filesIn(join(local.dir, 'exports')))
    expect(Object.keys(await filesIn(join(served.dir, 'exports'))).length).toBeGreaterThan(2)
    const [localXlsx, servedXlsx] = await Promise.all([
      xlsxRows(join(local.dir, 'out', 'log.xlsx')),
      xlsxRows(join(served.dir, 'out', 'log.xlsx')),
    ])
    expect(servedXlsx.length).toBeGreaterThan(100)
    expect(servedXlsx).toEqual(localXlsx)
  }, 600_000)

  it('ends a streamed output quietly when its reader goes away (| head -1), and the service goes on', async () => {
    const [a, b] = await Promise.all([
      runUntilFirstLine(local, ['log', '--format', 'csv', '--from', '2000-01-01']),
      runUntilFirstLine(served, ['log', '--format', 'csv', '--from', '2000-01-01']),
    ])
    expect(b).toEqual(a)
    expect(b).toMatchObject({ code: 0, stderr: '' })
    const [before, after] = await Promise.all([run(local, ['syncs', '--format', 'json']), run(served, ['syncs', '--format', 'json'])])
    expect(after.code, after.stderr).toBe(0)
    expect(normalize(after.stdout, served.dir)).toBe(normalize(before.stdout, local.dir))
  }, 120_000)

  it('streams a large output to a slow reader without holding it all (the reader sets the pace)', async () => {
    const rows = await new Promise<number>((resolve, reject) => {
      const child = spawn(process.execPath, [CLI, 'log', '--format', 'json', '--from', '2000-01-01', '--data', 'data'], {
        cwd: served.dir,
        stdio: ['ignore', 'pipe', 'pipe'],
      })
      let lines = 0
      let paused = 0
      child.stdout.on('data', (d: Buffer) => {
        lines += d.toString().split('\n').length - 1
        // Read in bursts: a reader slower than the service.
        if (paused++ < 20) {
          child.stdout.pause()
          setTimeout(() => child.stdout.resume(), 20)
        }
      })
      child.on('error', reject)
      child.on('close', (code) => (code === 0 ? resolve(lines) : reject(new Error(`exit ${code}`))))
    })
    const all = await run(local, ['log', '--format', 'json', '--from', '2000-01-01'])
    expect(rows).toBe(all.stdout.split('\n').length - 1)
  }, 120_000)
})
