/**
 * Everyone at once on one running service, as a district leaves it running: three new
 * nights imported (from the CLI, uploaded over HTTP, dropped in the watched folder), a
 * reviewer paging the log through the API, a 100k-row Excel download, an analyst's SQL
 * through the official JDBC driver and through @clickhouse/client, a scheduled
 * `synclog export` from another process and `synclog approve` of a held sync, all started
 * together. The same work done one piece at a time on a copy of the same data directory
 * gives what each must equal: nothing lost, nothing duplicated, nothing mixed.
 *
 * The imports go to tenants of their own, so the reads of the other tenants must not see
 * them whatever the order; what a sync's rows are does not depend on when it ran (its id
 * and times aside).
 */
import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { cp, copyFile, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { promisify } from 'node:util'
import { createClient } from '@clickhouse/client'
import ExcelJS from 'exceljs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { LogRecord } from '../../src/clickhouse/types.js'
import { generateDemoNights, type OneRosterTables } from '../../src/demo/district.js'
import { currentSchoolYear } from '../../src/demo/school-year.js'
import { writeOneRosterBundle } from '../../src/demo/write-oneroster.js'
import { apiGet, createToken, startServe, walkPages, type RunningServe } from '../support/browser.js'
import { jsonLines, synclog, tempDir, type CliRun } from '../support/cli.js'
import { jdbcClient, type JdbcClient } from '../support/jdbc.js'
import { TENANT_NAMES } from '../support/scale/roster-pools.js'

const run = promisify(execFile)
const ROOT = resolve(import.meta.dirname, '../..')

/** Rows asked of the generated log (it makes about that many): enough for a 100k-row Excel download of every tenant. */
const SEEDED_ROWS = 106_000
/** The Excel download below must carry more rows than this. */
const EXCEL_ROWS = 100_000
const ALL_TIME = 'from=2000-01-01'
/** A tenant of the generated log whose rows the reader pages through. */
const READ_TENANT = TENANT_NAMES[2]
const TENANTS = { cli: 'district-cli', upload: 'district-upload', drop: 'district-drop', held: 'district-held' } as const

const { night1, night2 } = generateDemoNights({ seed: 41, schoolYear: currentSchoolYear(new Date()) })
/** Night 2 without a third of its student enrollments: the full sync that deletes them goes On Hold. */
const heldNight: OneRosterTables = { ...night2, enrollments: night2.enrollments.filter((e, i) => e.role !== 'student' || i % 3 !== 0) }

let root: string
let heldSyncId: string
const tokens = { operator: '', reviewer: '', importer: '' }
let jdbc: JdbcClient | { missing: string }

/** What one way of doing the work gave: every result the test compares. */
interface Outcome {
  readonly imports: { readonly cli: string; readonly upload: string; readonly drop: string }
  readonly paged: readonly LogRecord[]
  readonly xlsxRows: number
  readonly xlsxDigest: string
  readonly sqlClient: string
  readonly sqlJdbc: string
  readonly exported: string
  readonly approve: CliRun
  readonly heldAfter: string
}

function expectOk(r: CliRun, what: string): CliRun {
  expect(r.code, `${what}: ${r.stderr}`).toBe(0)
  return r
}

/** A sync as its summary and rows say, without what differs between two runs (its id and times). */
async function describeSync(data: string, syncId: string): Promise<string> {
  const summary = JSON.parse(
    expectOk(await synclog(['summary', syncId, '--by-school', '--format', 'json', '--data', data]), 'summary').stdout,
  ) as Record<string, unknown>
  const rows = jsonLines(expectOk(await synclog(['log', '--sync', syncId, '--format', 'json', '--data', data]), 'log').stdout)
  const { syncId: _id, startedAt: _s, endedAt: _e, ...rest } = summary
  const lines = rows.map(({ syncId: _r, date: _d, ...row }) => JSON.stringify(row)).sort()
  return JSON.stringify({ summary: rest, rows: lines })
}

/** The newest sync of a tenant (each import tenant gets one). */
async function onlySyncOf(data: string, tenant: string): Promise<string> {
  const syncs = JSON.parse(expectOk(await synclog(['syncs', '--tenant', tenant, '--format', 'json', '--data', data]), 'syncs').stdout) as {
    syncId: string
  }[]
  expect(syncs, `the syncs of ${tenant}`).toHaveLength(1)
  return syncs[0]!.syncId
}

async function zipOf(folder: string, zipPath: string): Promise<void> {
  await run('zip', ['-q', '-r', '-j', zipPath, folder])
}

/** POST the zip as an importer; resolves with the sync's id once the import is done. */
async function uploadImport(base: string, zipPath: string, tenant: string): Promise<string> {
  const res = await fetch(`${base}/api/v1/imports?tenant=${tenant}`, {
    method: 'POST',
    body: await readFile(zipPath),
    headers: { authorization: `Bearer ${tokens.importer}`, 'content-type': 'application/zip' },
  })
  const accepted = (await res.json()) as { importId: string; syncId: string }
  expect(res.status, JSON.stringify(accepted)).toBe(202)
  for (let i = 0; i < 600; i++) {
    const job = (await (await apiGet(base, res.headers.get('location')! + '?wait=5', tokens.importer)).json()) as {
      state: string
      syncId: string
      error?: string
    }
    if (job.state === 'done') {
      expect(job.syncId, 'the sync id answered at acceptance').toBe(accepted.syncId)
      return job.syncId
    }
    if (job.state === 'failed') throw new Error(`the upload failed: ${job.error}`)
  }
  throw new Error('the upload never finished')
}

/** Drops the zip into the watched folder the way an SFTP client does (written under a temporary name, then renamed); resolves once it is in done/. */
async function dropImport(watch: string, zipPath: string, tenant: string): Promise<void> {
  const folder = join(watch, tenant)
  await mkdir(folder, { recursive: true })
  await copyFile(zipPath, join(folder, 'nightly.zip.partial'))
  await rename(join(folder, 'nightly.zip.partial'), join(folder, 'nightly.zip'))
  for (let i = 0; i < 1200; i++) {
    const done = await readdir(join(folder, 'done')).catch(() => [] as string[])
    if (done.some((f) => f.startsWith('nightly'))) return
    const failed = await readdir(join(folder, 'failed')).catch(() => [] as string[])
    if (failed.length > 0) throw new Error(`the dropped zip failed: ${failed.join(', ')}`)
    await sleep(100)
  }
  throw new Error('the dropped zip was never imported')
}

/** Every row of the 100k-row download, read back by exceljs; the count and a digest of the cells. */
async function downloadXlsx(base: string, out: string): Promise<{ rows: number; digest: string }> {
  // The generated log's rows (all dated before this year's imports), every tenant.
  const res = await apiGet(base, `/api/v1/log.xlsx?${ALL_TIME}&to=2025-12-31`, tokens.operator)
  await writeFile(out, Buffer.from(await res.arrayBuffer()))
  const reader = new ExcelJS.stream.xlsx.WorkbookReader(out, { sharedStrings: 'cache', worksheets: 'emit' })
  let rows = 0
  const hash = createHash('sha256')
  for await (const sheet of reader) {
    for await (const row of sheet) {
      rows++
      hash.update(JSON.stringify(row.values))
    }
  }
  return { rows, digest: hash.digest('hex') }
}

const ANALYST_SQL =
  'SELECT tenant, entity, outcome, count() AS n, uniqExact(sourcedId) AS records FROM sync_log ' +
  `WHERE tenant IN (${TENANT_NAMES.map((t) => `'${t}'`).join(', ')}) GROUP BY tenant, entity, outcome ORDER BY tenant, entity, outcome`

async function sqlViaClient(sqlBase: string): Promise<string> {
  const client = createClient({ url: sqlBase, username: 'analyst', password: tokens.operator })
  try {
    const result = await client.query({ query: ANALYST_SQL, format: 'JSONEachRow' })
    return JSON.stringify(await result.json())
  } finally {
    await client.close()
  }
}

async function sqlViaJdbc(sqlBase: string): Promise<string> {
  if ('missing' in jdbc) return 'jdbc missing'
  const url = `jdbc:clickhouse:${sqlBase}`
  return JSON.stringify(await jdbc.query(url, 'analyst', tokens.operator, ANALYST_SQL))
}

/** The files a scheduled export of the generated tenants wrote, each as name and content. */
async function exportFiles(data: string, out: string): Promise<string> {
  expectOk(
    await synclog(
      ['export', '--name', 'nightly', '--out', out, '--format', 'csv', '--tenant', READ_TENANT, '--since', '2000-01-01', '--data', data],
      { timeoutMs: 300_000 },
    ),
    'export',
  )
  const names = (await readdir(out)).sort()
  const files = await Promise.all(
    names.map(async (n) => `${n.replace(/\d{8}T\d{6}Z/g, '<stamp>')}\n${await readFile(join(out, n), 'utf8')}`),
  )
  return files.join('\n--\n')
}

async function heldStatus(data: string): Promise<string> {
  const summary = JSON.parse(expectOk(await synclog(['summary', heldSyncId, '--format', 'json', '--data', data]), 'summary').stdout) as {
    status: string
    message: string
  }
  return `${summary.status}: ${summary.message}`
}

/** The three imported syncs as describeSync gives them: by the CLI (its JSON summary), the upload and the drop folder. */
async function importsOf(data: string, cli: CliRun, uploadId: string): Promise<Outcome['imports']> {
  return {
    cli: await describeSync(data, (JSON.parse(cli.stdout) as { syncId: string }).syncId),
    upload: await describeSync(data, uploadId),
    drop: await describeSync(data, await onlySyncOf(data, TENANTS.drop)),
  }
}

function sqlPortOf(serve: RunningServe): string {
  const match = /SQL .*listening on (http:\/\/\S+)/.exec(serve.stdout())
  if (match === null) throw new Error(`serve printed no SQL address: ${serve.stdout()}`)
  return match[1]!
}

beforeAll(async () => {
  root = await tempDir('everyone-at-once')
  const base = join(root, 'base')
  const { stdout } = await run(
    process.execPath,
    [
      join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'),
      join(ROOT, 'test', 'support', 'seed-generated-log.ts'),
      join(base, 'data'),
      String(SEEDED_ROWS),
      'everyone-at-once',
    ],
    { timeout: 300_000 },
  )
  expect(Number(stdout.trim())).toBeGreaterThan(EXCEL_ROWS)
  for (const [name, tables] of [
    ['night1', night1],
    ['held', heldNight],
  ] as const)
    await writeOneRosterBundle(join(root, name), tables)
  await zipOf(join(root, 'night1'), join(root, 'night1.zip'))
  const data = join(base, 'data')
  expectOk(await synclog(['import', join(root, 'night1'), '--tenant', TENANTS.held, '--data', data]), 'import night 1')
  const held = await synclog(['import', join(root, 'held'), '--tenant', TENANTS.held, '--format', 'json', '--data', data])
  expect(held.code, held.stderr).toBe(3)
  heldSyncId = (JSON.parse(held.stdout) as { syncId: string }).syncId
  tokens.operator = await createToken(data, 'operator')
  tokens.reviewer = await createToken(data, 'reviewer', '--tenant', READ_TENANT, '--role', 'reviewer')
  tokens.importer = await createToken(data, 'importer', '--tenant', TENANTS.upload, '--role', 'importer')
  for (const copy of ['alone', 'together']) await cp(base, join(root, copy), { recursive: true })
  jdbc = await jdbcClient()
}, 600_000)

afterAll(async () => {
  if (jdbc !== undefined && !('missing' in jdbc)) await jdbc.close()
  if (root !== undefined) await rm(root, { recursive: true, force: true })
})

/** The work one piece at a time: the CLI's parts with no service, the HTTP parts with a service doing nothing else. */
async function oneAtATime(dir: string): Promise<Outcome> {
  const data = join(dir, 'data')
  const watch = join(dir, 'drop')
  const cli = expectOk(
    await synclog(['import', join(root, 'night1'), '--tenant', TENANTS.cli, '--format', 'json', '--data', data]),
    'import',
  )
  const exported = await exportFiles(data, join(dir, 'exports'))
  const approve = await synclog(['approve', heldSyncId, '--by', 'the reviewer', '--reason', 'checked the deletions', '--data', data])
  await mkdir(watch, { recursive: true })
  const serve = await startServe(data, { args: ['--sql-port', '0', '--watch', watch] })
  try {
    const uploadId = await uploadImport(serve.base, join(root, 'night1.zip'), TENANTS.upload)
    await dropImport(watch, join(root, 'night1.zip'), TENANTS.drop)
    const paged = await walkPages(serve.base, `/api/v1/log?tenant=${READ_TENANT}&${ALL_TIME}`, tokens.reviewer)
    const xlsx = await downloadXlsx(serve.base, join(dir, 'log.xlsx'))
    const sqlBase = sqlPortOf(serve)
    const sqlClient = await sqlViaClient(sqlBase)
    const sqlJdbc = await sqlViaJdbc(sqlBase)
    return {
      imports: await importsOf(data, cli, uploadId),
      paged,
      xlsxRows: xlsx.rows,
      xlsxDigest: xlsx.digest,
      sqlClient,
      sqlJdbc,
      exported,
      approve,
      heldAfter: await heldStatus(data),
    }
  } finally {
    await serve.stop()
  }
}

/** The same work, every piece started at once against one running service. */
async function allAtOnce(dir: string): Promise<Outcome> {
  const data = join(dir, 'data')
  const watch = join(dir, 'drop')
  await mkdir(watch, { recursive: true })
  const serve = await startServe(data, { args: ['--sql-port', '0', '--watch', watch] })
  try {
    const sqlBase = sqlPortOf(serve)
    const [cli, uploadId, , paged, xlsx, sqlClient, sqlJdbc, exported, approve] = await Promise.all([
      synclog(['import', join(root, 'night1'), '--tenant', TENANTS.cli, '--format', 'json', '--data', data]),
      uploadImport(serve.base, join(root, 'night1.zip'), TENANTS.upload),
      dropImport(watch, join(root, 'night1.zip'), TENANTS.drop),
      walkPages(serve.base, `/api/v1/log?tenant=${READ_TENANT}&${ALL_TIME}`, tokens.reviewer),
      downloadXlsx(serve.base, join(dir, 'log.xlsx')),
      sqlViaClient(sqlBase),
      sqlViaJdbc(sqlBase),
      exportFiles(data, join(dir, 'exports')),
      synclog(['approve', heldSyncId, '--by', 'the reviewer', '--reason', 'checked the deletions', '--data', data]),
    ])
    expectOk(cli, 'import through the service')
    return {
      imports: await importsOf(data, cli, uploadId),
      paged,
      xlsxRows: xlsx.rows,
      xlsxDigest: xlsx.digest,
      sqlClient,
      sqlJdbc,
      exported,
      approve,
      heldAfter: await heldStatus(data),
    }
  } finally {
    await serve.stop()
  }
}

describe('one service, everyone at once', () => {
  let alone: Outcome
  let together: Outcome

  beforeAll(async () => {
    alone = await oneAtATime(join(root, 'alone'))
    together = await allAtOnce(join(root, 'together'))
  }, 900_000)

  it('imports the three new nights (CLI, HTTP upload, drop folder) with exactly the rows one import at a time gives', () => {
    for (const how of ['cli', 'upload', 'drop'] as const) {
      expect(together.imports[how], `the ${how} import`).toBe(alone.imports[how])
    }
    // The three imports of the same night for three tenants are alike, their tenant aside.
    const tenantless = (s: string, tenant: string): string => s.split(tenant).join('<tenant>')
    expect(tenantless(together.imports.upload, TENANTS.upload)).toBe(tenantless(together.imports.cli, TENANTS.cli))
  })

  it('pages the reviewer through every row of their tenant, none twice, while the imports write', () => {
    expect(together.paged.length).toBeGreaterThan(10_000)
    expect(new Set(together.paged.map((r) => JSON.stringify(r))).size).toBe(together.paged.length)
    expect(together.paged).toEqual(alone.paged)
  })

  it('streams the 100k-row Excel download whole, with the same cells', () => {
    expect(together.xlsxRows).toBeGreaterThan(EXCEL_ROWS)
    expect(together.xlsxRows).toBe(alone.xlsxRows)
    expect(together.xlsxDigest).toBe(alone.xlsxDigest)
  })

  it('answers the analyst the same through @clickhouse/client and through the JDBC driver', () => {
    expect(JSON.parse(together.sqlClient)).not.toHaveLength(0)
    expect(together.sqlClient).toBe(alone.sqlClient)
    expect(together.sqlJdbc).toBe(alone.sqlJdbc)
    if ('missing' in jdbc) console.warn(`JDBC part skipped: ${jdbc.missing}`)
  })

  it('writes the scheduled export from another process with the same files', () => {
    expect(together.exported).toContain('.csv')
    expect(together.exported).toBe(alone.exported)
  })

  it('approves the held sync from a shell while everything else runs', () => {
    expect(together.approve.code, together.approve.stderr).toBe(0)
    expect(together.approve.stdout).toBe(alone.approve.stdout)
    expect(together.heldAfter).toBe(alone.heldAfter)
    expect(together.heldAfter).toMatch(/^Completed/)
  })
})
