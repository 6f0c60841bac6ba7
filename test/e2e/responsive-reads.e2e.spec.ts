/**
 * Reads stay responsive while heavy work runs in the service: the page's first log
 * page keeps answering while an analyst's SQL query scans until its time limit, and
 * while an import sent by `synclog import` from another process is written. No
 * millisecond thresholds: the page's answers are counted while the heavy work is
 * still in flight, and the heavy work itself ends as it would alone. Analysts' parameters
 * live on their connection's session, so one not given is refused, never taken from before.
 */
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { apiJson, createToken, startServe, type RunningServe } from '../support/browser.js'
import { synclog, tempDir, type CliRun } from '../support/cli.js'
import { importDemoDataSet } from '../support/demo-data-set.js'
import type { LogRecord } from '../../src/clickhouse/types.js'

/** What the page asks for first on its log view. */
const FIRST_LOG_PAGE = '/api/v1/log?limit=100'
/** The analysts' time limit in this service: the scan below runs until it. */
const ANALYST_SECONDS = 8
/**
 * Work no machine finishes within the limit: every triple of log rows. Only synclog's
 * tables and allowed functions, so the endpoint's checks pass and it really runs; with a
 * query parameter, as analysts write them.
 */
const ENDLESS_SCAN =
  'SELECT count() FROM sync_log AS a CROSS JOIN sync_log AS b CROSS JOIN sync_log AS c ' +
  'WHERE cityHash64(a.sourcedId, b.sourcedId, c.sourcedId) % {k:UInt64} = 0'

let dir: string
let data: string
let serve: RunningServe | undefined
let sqlBase: string
let token: string

/**
 * Asks for the page's first log page, one request after the other, until `work` settles;
 * how many answers (each 200 with rows) arrived while it was still in flight.
 */
async function pagesWhile(work: Promise<unknown>): Promise<number> {
  let settled = false
  const done = work.then(
    () => {
      settled = true
    },
    () => {
      settled = true
    },
  )
  let answered = 0
  while (!settled) {
    const page = await apiJson<{ rows: LogRecord[] }>(serve!.base, FIRST_LOG_PAGE, token)
    expect(page.rows.length).toBe(100)
    if (!settled) answered++
  }
  await done
  return answered
}

beforeAll(async () => {
  dir = await tempDir('responsive')
  ;({ data } = await importDemoDataSet(dir))
  token = await createToken(data, 'operator')
  serve = await startServe(data, { args: ['--sql-port', '0'], env: { SYNCLOG_SQL_MAX_EXECUTION_SECONDS: String(ANALYST_SECONDS) } })
  const url = /synclog SQL .* listening on (http:\/\/\S+)/.exec(serve.stdout())?.[1]
  if (url === undefined) throw new Error(`no SQL endpoint line in: ${serve.stdout()}`)
  sqlBase = url
}, 300_000)

afterAll(async () => {
  await serve?.stop()
  if (dir !== undefined) await rm(dir, { recursive: true, force: true })
})

describe('reads while heavy work runs', () => {
  it("the page's first log page keeps answering while an analyst's query with a parameter scans until its time limit", async () => {
    const analyst = fetch(`${sqlBase}/?param_k=7`, {
      method: 'POST',
      body: ENDLESS_SCAN,
      headers: { 'x-clickhouse-user': 'analyst', 'x-clickhouse-key': token },
    }).then(async (res) => ({ status: res.status, text: await res.text() }))
    const answered = await pagesWhile(analyst)
    const { status, text } = await analyst
    // The scan ran to the limit: it was in flight the whole time the pages were answered.
    expect(text).toMatch(/TIMEOUT_EXCEEDED/)
    expect(status).toBeGreaterThanOrEqual(400)
    // One query at a time would have answered none of them until the scan gave up (at most the first, before it started).
    expect(answered).toBeGreaterThanOrEqual(10)
  }, 120_000)

  it("refuses an analyst's query naming a parameter it was not given, also right after one that gave it", async () => {
    const ask = async (search: string): Promise<{ status: number; text: string }> => {
      const res = await fetch(`${sqlBase}/?${search}`, {
        method: 'POST',
        body: 'SELECT {k:UInt64} + 1',
        headers: { 'x-clickhouse-user': 'analyst', 'x-clickhouse-key': token },
      })
      return { status: res.status, text: await res.text() }
    }
    expect(await ask('param_k=41')).toEqual({ status: 200, text: '42\n' })
    const without = await ask('')
    expect(without.status).toBe(400)
    expect(without.text).toMatch(
      /^Code: 456\. DB::Exception: Substitution `k` is not set: give its value as param_k\. \(UNKNOWN_QUERY_PARAMETER\)\n$/,
    )
  })

  it("the page's first log page keeps answering while an import sent by another process is written", async () => {
    const before = await apiJson<{ syncs: unknown[] }>(serve!.base, '/api/v1/syncs?tenant=district-c', token)
    expect(before.syncs).toEqual([])
    const night = join(dir, 'night1')
    const imported: Promise<CliRun> = synclog(['import', night, '--tenant', 'district-c', '--format', 'json', '--data', data], {
      timeoutMs: 120_000,
    })
    const answered = await pagesWhile(imported)
    const run = await imported
    expect(run.code, run.stderr).toBe(0)
    expect(answered).toBeGreaterThanOrEqual(3)
    const after = await apiJson<{ syncs: { status: string }[] }>(serve!.base, '/api/v1/syncs?tenant=district-c', token)
    expect(after.syncs.map((s) => s.status)).toEqual(['Completed'])
  }, 180_000)
})
