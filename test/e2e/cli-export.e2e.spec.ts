/**
 * `synclog export` as a nightly script runs it: the built CLI over a district's
 * OneRoster nights in embedded ClickHouse. What each file must hold is computed
 * here from `synclog log --sync <id> --format json` and `synclog syncs`, and
 * the files are read back with csv-parse and with Debian's openpyxl.
 */
import { execFile, spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { parse } from 'csv-parse/sync'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generateDemoNights, type OneRosterTables } from '../../src/demo/district.js'
import { currentSchoolYear } from '../../src/demo/school-year.js'
import { writeOneRosterBundle } from '../../src/demo/write-oneroster.js'
import { LOG_COLUMN_HEADERS, LOG_COLUMNS } from '../../src/events/sync-log-event.js'
import { jsonLines, synclog, tempDir, type CliRun } from '../support/cli.js'

/** Debian's python3-openpyxl lives in the system Python, which a pyenv shim may hide. */
const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3'
const openpyxl = spawnSync(PYTHON, ['-c', 'import openpyxl'], { stdio: 'ignore' }).status === 0

const TENANT = 'district-a'
const FINAL = ['Completed', 'Completed with Errors', 'Failed']
const HEADERS = LOG_COLUMNS.map((c) => LOG_COLUMN_HEADERS[c])

const { night1, night2 } = generateDemoNights({ seed: 23, schoolYear: currentSchoolYear(new Date()) })
/** Night 2 without a third of its student enrollments: a full sync deleting that many goes On Hold. */
const night3: OneRosterTables = { ...night2, enrollments: night2.enrollments.filter((e, i) => e.role !== 'student' || i % 3 !== 0) }

let dir = ''
let data = ''

type Row = Record<string, string>

async function cli(args: readonly string[], env?: Record<string, string>): Promise<CliRun> {
  return synclog([...args, '--data', data], { env })
}

async function importNight(night: string): Promise<{ code: number | null; syncId: string; status: string }> {
  const run = await cli(['import', join(dir, night), '--tenant', TENANT, '--format', 'json'])
  const summary = JSON.parse(run.stdout) as { syncId: string; status: string }
  return { code: run.code, syncId: summary.syncId, status: summary.status }
}

async function exportRun(name: string, out: string, ...args: string[]): Promise<CliRun> {
  return cli(['export', '--name', name, '--out', out, ...args])
}

/** Rows of final syncs never change, so each sync's rows are read once. */
const logCache = new Map<string, Row[]>()

/** The rows of one final sync as `synclog log` prints them: the path the export does not share. */
async function logRows(syncId: string): Promise<Row[]> {
  const cached = logCache.get(syncId)
  if (cached !== undefined) return cached
  const run = await cli(['log', '--sync', syncId, '--format', 'json', '--from', '2000-01-01'])
  expect(run.code, run.stderr).toBe(0)
  const rows = jsonLines(run.stdout)
  logCache.set(syncId, rows)
  return rows
}

/** Ids of the syncs whose status is final, as `synclog syncs` lists them. */
async function finalSyncs(): Promise<string[]> {
  const run = await cli(['syncs', '--format', 'json', '--limit', '1000'])
  return (JSON.parse(run.stdout) as { syncId: string; status: string }[]).filter((s) => FINAL.includes(s.status)).map((s) => s.syncId)
}

/** One CLI at a time: embedded ClickHouse allows one process per data directory. */
async function rowsOf(syncIds: readonly string[]): Promise<Row[]> {
  const rows: Row[] = []
  for (const id of syncIds) rows.push(...(await logRows(id)))
  return rows
}

/** What a spreadsheet cell holds for a log value: formula-like text gets a leading apostrophe (OWASP CSV injection). */
function asCell(value: string): string {
  return /^(?:[\t\r]|\s*[=+\-@])/.test(value) ? `'${value}` : value
}

/** A row as a comparable string, in the log's column order. */
function fingerprint(values: readonly (string | number)[]): string {
  return JSON.stringify(values)
}

function expectedPrints(rows: readonly Row[], date: (iso: string) => string | number = (d) => d): string[] {
  return rows.map((r) => fingerprint(LOG_COLUMNS.map((c) => (c === 'date' ? date(r.date!) : asCell(r[c] ?? ''))))).sort()
}

async function readCsv(path: string): Promise<{ header: string[]; prints: string[] }> {
  const table = parse(await readFile(path), { bom: true }) as string[][]
  const [header = [], ...rows] = table
  return { header, prints: rows.map((r) => fingerprint(r)).sort() }
}

/** The workbook as openpyxl reads it: header, data rows (date as epoch ms), and the Python type of every date cell. */
async function readXlsx(path: string): Promise<{ header: string[]; prints: string[]; dateTypes: string[] }> {
  const script = [
    'import json, sys, datetime, openpyxl',
    'wb = openpyxl.load_workbook(sys.argv[1], read_only=True)',
    'rows = [list(r) for ws in wb.worksheets for r in ws.iter_rows(values_only=True)]',
    '# read-only mode leaves trailing empty cells out of a row',
    'rows = [r + [None] * (len(rows[0]) - len(r)) for r in rows]',
    'epoch = datetime.datetime(1970, 1, 1)',
    'def cell(v):',
    '    if isinstance(v, datetime.datetime): return round((v - epoch).total_seconds() * 1000)',
    "    return '' if v is None else str(v)",
    'print(json.dumps({"header": rows[0], "types": sorted({type(r[0]).__name__ for r in rows[1:]}), "rows": [[cell(v) for v in r] for r in rows[1:]]}))',
  ].join('\n')
  const { stdout } = await promisify(execFile)(PYTHON, ['-c', script, path], { maxBuffer: 256 * 1024 * 1024 })
  const book = JSON.parse(stdout) as { header: string[]; types: string[]; rows: (string | number)[][] }
  return { header: book.header, prints: book.rows.map(fingerprint).sort(), dateTypes: book.types }
}

async function files(out: string): Promise<string[]> {
  return existsSync(out) ? (await readdir(out)).sort() : []
}

async function newFiles(out: string, before: readonly string[]): Promise<string[]> {
  return (await files(out)).filter((f) => !before.includes(f))
}

function checkpointOf(name: string): string {
  return join(data, 'exports', `${name}.checkpoint.json`)
}

const sync: Record<string, string> = {}

beforeAll(async () => {
  dir = await tempDir('export')
  data = join(dir, 'data')
  await writeOneRosterBundle(join(dir, 'night1'), night1)
  await writeOneRosterBundle(join(dir, 'night2'), night2)
  await writeOneRosterBundle(join(dir, 'night3'), night3)
  const first = await importNight('night1')
  expect(first).toMatchObject({ code: 0, status: 'Completed' })
  const second = await importNight('night2')
  expect(second).toMatchObject({ code: 0, status: 'Completed with Errors' })
  sync.night1 = first.syncId
  sync.night2 = second.syncId
}, 180_000)

afterAll(async () => {
  if (dir !== '') await rm(dir, { recursive: true, force: true })
})

describe('a nightly export', () => {
  const out = (): string => join(dir, 'nightly')

  it('writes, on its first run, one file with every row of every final sync', async () => {
    const run = await exportRun('nightly', out(), '--format', 'csv')

    expect(run.code, run.stderr).toBe(0)
    expect(run.stderr).toBe('')
    const written = await files(out())
    expect(written).toEqual([expect.stringMatching(/^nightly-\d{8}T\d{6}Z\.csv$/)])
    const expected = await rowsOf([sync.night1!, sync.night2!])
    const file = await readCsv(join(out(), written[0]!))
    expect(file.header).toEqual(HEADERS)
    expect(file.prints).toHaveLength(expected.length)
    expect(file.prints).toEqual(expectedPrints(expected))
    expect(run.stdout).toContain(`${join(out(), written[0]!)}\t${expected.length} rows`)
  })

  it('writes nothing on a second run with nothing new, says since when, and exits 0', async () => {
    const before = await files(out())
    const run = await exportRun('nightly', out(), '--format', 'csv')

    expect(run.code, run.stderr).toBe(0)
    expect(run.stdout).toMatch(/^nothing new since \d{4}-\d{2}-\d{2}T/)
    expect(await files(out())).toEqual(before)
  })

  it('writes only the new sync’s rows after a new import', async () => {
    const again = await importNight('night2')
    expect(again.code).toBe(0)
    const before = await files(out())

    const run = await exportRun('nightly', out(), '--format', 'csv')

    expect(run.code, run.stderr).toBe(0)
    const added = await newFiles(out(), before)
    expect(added).toHaveLength(1)
    const expected = await logRows(again.syncId)
    expect(expected.length).toBeGreaterThan(0)
    expect((await readCsv(join(out(), added[0]!))).prints).toEqual(expectedPrints(expected))
  })

  it('leaves a sync On Hold for a later run, and skips it for good once it is rejected', async () => {
    const held = await importNight('night3')
    expect(held).toMatchObject({ code: 3, status: 'On Hold' })
    const before = await files(out())

    const whileHeld = await exportRun('nightly', out(), '--format', 'csv')
    expect(whileHeld.code, whileHeld.stderr).toBe(0)
    expect(whileHeld.stdout).toMatch(/^nothing new since /)
    expect(whileHeld.stdout).toContain('1 sync still running or On Hold, left for a later run')

    expect((await cli(['reject', held.syncId, '--reason', 'night 3 lost its enrollments'])).code).toBe(0)
    const afterReject = await exportRun('nightly', out(), '--format', 'csv')
    expect(afterReject.code, afterReject.stderr).toBe(0)
    expect(afterReject.stdout).toContain('1 rejected sync skipped')
    expect(await files(out())).toEqual(before)
    const checkpoint = JSON.parse(await readFile(checkpointOf('nightly'), 'utf8')) as {
      syncs: { syncId: string; status: string; rows: number }[]
    }
    expect(checkpoint.syncs).toContainEqual(expect.objectContaining({ syncId: held.syncId, status: 'Rejected', rows: 0 }))
  })

  it('exports a sync On Hold only once it is approved', async () => {
    const held = await importNight('night3')
    expect(held).toMatchObject({ code: 3, status: 'On Hold' })
    const before = await files(out())

    const whileHeld = await exportRun('nightly', out(), '--format', 'csv')
    expect(whileHeld.stdout).toMatch(/^nothing new since /)
    expect(await files(out())).toEqual(before)

    expect((await cli(['approve', held.syncId, '--reason', 'the deletions are real'])).code).toBe(0)
    const approved = await exportRun('nightly', out(), '--format', 'csv')

    expect(approved.code, approved.stderr).toBe(0)
    const added = await newFiles(out(), before)
    expect(added).toHaveLength(1)
    const expected = await logRows(held.syncId)
    expect(expected.length).toBeGreaterThan(0)
    expect((await readCsv(join(out(), added[0]!))).prints).toEqual(expectedPrints(expected))
  })
})

describe('an Excel export', () => {
  it.skipIf(!openpyxl)(
    `opens in openpyxl with the header, every row and real date cells${openpyxl ? '' : ' (skipped: python3-openpyxl is not installed)'}`,
    async () => {
      const out = join(dir, 'excel')
      const run = await exportRun('excel', out)

      expect(run.code, run.stderr).toBe(0)
      const written = await files(out)
      expect(written).toEqual([expect.stringMatching(/^excel-\d{8}T\d{6}Z\.xlsx$/)])
      const expected = await rowsOf(await finalSyncs())
      const book = await readXlsx(join(out, written[0]!))
      expect(book.header).toEqual(HEADERS)
      expect(book.prints).toHaveLength(expected.length)
      expect(book.dateTypes).toEqual(['datetime'])
      expect(book.prints).toEqual(expectedPrints(expected, (iso) => Date.parse(iso)))
    },
  )
})

describe('a per-school export', () => {
  /** The school files a row belongs to on the side, as file-name prefixes; rows with no school go to the district-level file. */
  function schoolsOf(row: Row, side: string): string[] {
    const ids =
      side === 'home' ? [row.homeSchoolId!] : side === 'serving' ? [row.servingSchoolId!] : [row.homeSchoolId!, row.servingSchoolId!]
    const schools = [...new Set(ids.filter((id) => id !== ''))]
    return schools.length > 0 ? schools : ['district-level']
  }

  it.each(['home', 'serving', 'either'])('writes with --side %s one file per school holding exactly that school’s rows', async (side) => {
    const out = join(dir, `schools-${side}`)
    const run = await exportRun(`schools-${side}`, out, '--per-school', '--side', side, '--format', 'csv', '--tenant', TENANT)
    expect(run.code, run.stderr).toBe(0)

    const bySchool = new Map<string, Row[]>()
    for (const row of await rowsOf(await finalSyncs())) {
      for (const school of schoolsOf(row, side)) bySchool.set(school, [...(bySchool.get(school) ?? []), row])
    }
    const written = await files(out)
    expect(written).toHaveLength(bySchool.size)
    expect(bySchool.size).toBeGreaterThan(2)
    for (const [school, rows] of bySchool) {
      const file = written.filter((f) => f.startsWith(`schools-${side}-${school}-`))
      expect(file, school).toHaveLength(1)
      expect((await readCsv(join(out, file[0]!))).prints, school).toEqual(expectedPrints(rows))
      expect(run.stdout).toContain(`${join(out, file[0]!)}\t${rows.length} row`)
    }
  })

  it('logs one line per file with the file, its rows and its school, and no student names', async () => {
    const out = join(dir, 'logged')
    const run = await cli(['export', '--name', 'logged', '--out', out, '--per-school', '--format', 'csv'], { SYNCLOG_LOG_LEVEL: 'info' })
    expect(run.code, run.stderr).toBe(0)

    const lines = run.stderr
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>)
    const perFile = lines.filter((l) => l.msg === 'export file written')
    const listed = run.stdout
      .split('\n')
      .filter((l) => l.includes('\t'))
      .map((l) => l.split('\t'))
      .map(([file, rows]) => [file, Number.parseInt(rows!, 10)])
    expect(perFile.map((l) => [l.file, l.rows])).toEqual(listed)
    for (const l of perFile) expect(typeof l.schoolId).toBe('string')
    const names = new Set((await rowsOf(await finalSyncs())).map((r) => r.studentName!).filter((n) => n !== ''))
    expect(names.size).toBeGreaterThan(10)
    for (const name of names) expect(run.stderr).not.toContain(name)
  })

  it('names each school file after the school’s id and name', async () => {
    const written = await files(join(dir, 'schools-home'))
    const school = night1.orgs.find((o) => o.type === 'school')!
    expect(written).toContainEqual(
      expect.stringMatching(new RegExp(`^schools-home-${school.sourcedId}-${school.name!.replace(/ /g, '-')}-\\d{8}T\\d{6}Z\\.csv$`)),
    )
  })
})

describe('a failed run', () => {
  it('exits 1 when the output directory is a file, and the next run still exports the rows', async () => {
    const notADir = join(dir, 'not-a-dir')
    await writeFile(notADir, 'a file, not a directory\n')

    const failed = await exportRun('retry', notADir, '--format', 'csv')
    expect(failed.code).toBe(1)
    expect(failed.stderr).toContain(notADir)
    expect(existsSync(checkpointOf('retry'))).toBe(false)

    const out = join(dir, 'retry')
    const next = await exportRun('retry', out, '--format', 'csv')
    expect(next.code, next.stderr).toBe(0)
    const written = await files(out)
    expect(written).toHaveLength(1)
    expect((await readCsv(join(out, written[0]!))).prints).toEqual(expectedPrints(await rowsOf(await finalSyncs())))
  })

  it('removes the files it wrote and leaves the checkpoint as it was when the checkpoint cannot be saved', async () => {
    const out = join(dir, 'unsaved')
    // A dangling symbolic link where the checkpoint goes: read as no checkpoint, never replaced.
    await mkdir(join(data, 'exports'), { recursive: true })
    await symlink(join(dir, 'nowhere'), checkpointOf('unsaved'))

    const failed = await exportRun('unsaved', out, '--per-school', '--format', 'csv')
    expect(failed.code).toBe(1)
    expect(failed.stderr).toContain(checkpointOf('unsaved'))
    expect(failed.stderr).toContain('the next run exports these rows')
    expect(await files(out)).toEqual([])
    expect(existsSync(checkpointOf('unsaved'))).toBe(false)

    await rm(checkpointOf('unsaved'))
    const next = await exportRun('unsaved', out, '--per-school', '--format', 'csv')
    expect(next.code, next.stderr).toBe(0)
    expect((await files(out)).length).toBeGreaterThan(2)
  })
})

describe('a damaged checkpoint', () => {
  it('stops the run with exit 1 and a message naming the file', async () => {
    await mkdir(join(data, 'exports'), { recursive: true })
    await writeFile(checkpointOf('damaged'), '{"format": 1, "syncs": [')

    const run = await exportRun('damaged', join(dir, 'damaged'))

    expect(run.code).toBe(1)
    expect(run.stderr).toContain(`export checkpoint ${checkpointOf('damaged')} is damaged`)
    expect(await files(join(dir, 'damaged'))).toEqual([])
  })
})

describe('a dry run', () => {
  it('lists the files it would write without writing them or advancing the checkpoint', async () => {
    const out = join(dir, 'dry')
    const dry = await exportRun('dry', out, '--per-school', '--format', 'csv', '--dry-run')

    expect(dry.code, dry.stderr).toBe(0)
    const planned = dry.stdout.split('\n').filter((l) => l.startsWith('would write '))
    expect(planned.length).toBeGreaterThan(2)
    expect(dry.stdout).toContain('dry run: nothing written, checkpoint unchanged')
    expect(existsSync(out)).toBe(false)
    expect(existsSync(checkpointOf('dry'))).toBe(false)

    const real = await exportRun('dry', out, '--per-school', '--format', 'csv')
    expect(real.code, real.stderr).toBe(0)
    const rowsOfLines = (lines: readonly string[]): string[] => lines.map((l) => l.split('\t')[1]!)
    expect(rowsOfLines(real.stdout.split('\n').filter((l) => l.includes('\t')))).toEqual(rowsOfLines(planned))
  })
})

describe('--since', () => {
  it('bounds the first run, and later runs keep the bound', async () => {
    const out = join(dir, 'later')
    const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10)

    const first = await exportRun('later', out, '--since', tomorrow)
    expect(first.code, first.stderr).toBe(0)
    expect(first.stdout).toBe(`nothing new since ${tomorrow}T00:00:00.000Z\n`)

    const second = await exportRun('later', out)
    expect(second.code, second.stderr).toBe(0)
    expect(second.stdout).toMatch(/^nothing new since /)
    expect(await files(out)).toEqual([])
  })

  it('refuses a value that is not a date, naming the option', async () => {
    const run = await exportRun('bad-since', join(dir, 'bad-since'), '--since', 'last tuesday')
    expect(run.code).toBe(1)
    expect(run.stderr).toContain('--since')
  })
})
