/**
 * Adding an output format is one module registered in one place: a tiny
 * tab-separated format, written and registered here, is offered by the CLI's
 * `--format` (help and parsing), the scheduled export, the API's downloads and
 * their OpenAPI entries, and the page's download menu, with no other change.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Command } from 'commander'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { LogRecord, SyncRun } from '../../src/clickhouse/types.js'
import { registerExport } from '../../src/cli/commands/export.js'
import { registerReadCommands } from '../../src/cli/commands/read.js'
import { parseFormat } from '../../src/cli/output.js'
import { formatNamed, formatNames, registerFormat, type OutputFormat } from '../../src/export/formats/index.js'
import { runScheduledExport, type ExportSource } from '../../src/export/scheduled-export.js'
import { ApiTokens, TOKEN_FILE_NAME } from '../../src/http/api-tokens.js'
import type { ReadStore } from '../../src/http/read-store.js'
import { buildServer } from '../../src/http/server.js'
import { silentLogger } from '../support/silent-logger.js'

/** The whole of a new format: its name, label, file type and how it writes log rows. */
const tsv: OutputFormat = {
  name: 'tsv',
  label: 'TSV',
  file: { extension: 'tsv', contentType: 'text/tab-separated-values; charset=utf-8' },
  async log(out, rows) {
    let n = 0
    for await (const row of rows) {
      out.write(`${row.sourcedId}\t${row.action}\n`)
      n++
    }
    return n
  },
}

const NOW = Date.UTC(2025, 2, 1, 2, 15)

function logRecord(seq: number): LogRecord {
  return {
    tenant: 'emerson',
    syncId: 'sync-1',
    seq,
    date: '2025-02-28T02:00:00.000Z',
    action: 'Created Roster',
    studentNumber: 'S001',
    studentName: 'Smith, Student1',
    courseNumber: '0001',
    courseName: 'English',
    sectionNumber: '101',
    field: '',
    oldValue: '',
    newValue: '',
    servingDistrictId: 'D1',
    servingDistrict: 'Emerson Unified',
    servingSchoolId: 'sch1',
    servingSchool: 'Fremont High',
    homeDistrictId: 'D1',
    homeDistrict: 'Emerson Unified',
    homeSchoolId: 'sch1',
    homeSchool: 'Fremont High',
    app: 'sis-import',
    entity: 'enrollment',
    sourcedId: `e-${seq}`,
    outcome: 'New',
    message: '',
    recordSchoolId: 'sch1',
    cause: '',
  }
}

const ROWS = [logRecord(1), logRecord(2)]
const RUN: SyncRun = {
  syncId: 'sync-1',
  tenant: 'emerson',
  app: 'sis-import',
  status: 'Completed',
  startedAt: '2025-02-28T02:00:00.000Z',
  endedAt: '2025-02-28T02:01:00.000Z',
  message: '',
  modes: '',
  total: 2,
  errors: 0,
  reviewedBy: '',
  reviewedAt: '',
  reviewReason: '',
}

/** A store of one finished sync and its two rows, enough for an export run and a download. */
const notUsed = (): never => {
  throw new Error('not used by this test')
}
const store: ReadStore & ExportSource = {
  listSyncs: async () => [RUN],
  queryLog: async () => ({ rows: ROWS, nextCursor: null }),
  async *streamLog() {
    yield* ROWS
  },
  getSync: notUsed,
  summary: notUsed,
  drillDown: notUsed,
  recordHistory: notUsed,
  dailyRollups: notUsed,
  reportRows: notUsed,
  rosterAt: notUsed,
  countLog: notUsed,
  listSchools: notUsed,
  compareSyncs: notUsed,
  causeGroups: notUsed,
}

let dir: string

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'synclog-formats-'))
  registerFormat(tsv)
})

afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

function helpOf(name: string): string {
  const program = new Command('synclog')
  registerReadCommands(program)
  registerExport(program)
  return program.commands.find((c) => c.name() === name)!.helpInformation()
}

describe('a format registered in one place', () => {
  it('is a choice of the commands that write what it renders, and only of those', () => {
    expect(helpOf('log')).toContain('table | json | xlsx | csv | tsv')
    expect(helpOf('export')).toContain('xlsx | csv | tsv')
    expect(parseFormat('tsv', ['logPage', 'log'])).toBe(tsv)
    expect(formatNamed('tsv', 'log file')).toBe(tsv)
    // It renders no sync history, so `syncs` refuses it, naming the choices.
    expect(helpOf('syncs')).not.toContain('tsv')
    expect(() => parseFormat('tsv', 'syncs')).toThrow("--format must be one of table, json, csv (got 'tsv')")
  })

  it('is refused when its name is taken or unusable in a file name', () => {
    expect(() => registerFormat({ ...tsv })).toThrow("an output format named 'tsv' is already registered")
    expect(() => registerFormat({ ...tsv, name: 'Tab Separated' })).toThrow('lowercase letters and digits')
  })

  it('is written by a scheduled export, named with its extension', async () => {
    const outDir = join(dir, 'exports')
    const result = await runScheduledExport(
      store,
      {
        name: 'nightly',
        outDir,
        dataDir: join(dir, 'data'),
        format: formatNamed('tsv', 'log file'),
        perSchool: false,
        side: 'either',
        dryRun: false,
      },
      { logger: silentLogger(), now: () => NOW },
    )
    expect(result.outcome).toBe('written')
    expect(await readdir(outDir)).toEqual(['nightly-20250301T021500Z.tsv'])
    expect(await readFile(join(outDir, 'nightly-20250301T021500Z.tsv'), 'utf8')).toBe('e-1\tCreated Roster\ne-2\tCreated Roster\n')
  })

  it("is downloaded from the API, documented in OpenAPI and listed in the page's download menu", async () => {
    const path = join(dir, TOKEN_FILE_NAME)
    const { token } = await new ApiTokens(path).create('ops', {})
    const server = await buildServer({ store, tokens: new ApiTokens(path), logger: silentLogger(), version: 'test', now: () => NOW })
    try {
      const headers = { authorization: `Bearer ${token}` }
      const download = await server.app.inject({ method: 'GET', url: '/api/v1/log.tsv?from=2025-01-01', headers })
      expect(download.statusCode).toBe(200)
      expect(download.headers['content-type']).toBe('text/tab-separated-values; charset=utf-8')
      expect(download.headers['content-disposition']).toMatch(/^attachment; filename="sync-log-\d{8}-\d{6}\.tsv"$/)
      expect(download.body).toBe('e-1\tCreated Roster\ne-2\tCreated Roster\n')

      const doc = (await server.app.inject({ method: 'GET', url: '/openapi.json' })).json() as {
        paths: Record<string, { get?: { operationId: string } }>
      }
      expect(doc.paths['/api/v1/log.tsv']?.get?.operationId).toBe('downloadLogTsv')

      const menu = await server.app.inject({ method: 'GET', url: '/api/v1/log/downloads', headers })
      expect(menu.statusCode).toBe(200)
      expect(menu.json()).toEqual({
        downloads: [
          { format: 'xlsx', label: 'Excel', url: '/api/v1/log.xlsx' },
          { format: 'csv', label: 'CSV', url: '/api/v1/log.csv' },
          { format: 'tsv', label: 'TSV', url: '/api/v1/log.tsv' },
        ],
      })
      expect(formatNames('log file')).toEqual(['xlsx', 'csv', 'tsv'])
    } finally {
      await server.app.close()
    }
  })
})
