/**
 * Analysts' SQL on the embedded store: `synclog sql` on the CLI, and
 * `synclog serve --sql-port` spoken to by clients no one here wrote
 * (@clickhouse/client, the official JDBC driver) and by raw HTTP. Expected rows
 * come from `synclog log --format json`, never from the same SQL. A corpus of
 * hostile SQL is refused cleanly, the server stays up and the store unchanged.
 */
import { existsSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { createClient, type ClickHouseClient } from '@clickhouse/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createToken, startServe, type RunningServe } from '../support/browser.js'
import { jsonLines, synclog, tempDir } from '../support/cli.js'
import { importDemoDataSet } from '../support/demo-data-set.js'
import { BENIGN_SQL, hostileSql } from '../support/hostile-sql.js'
import { jdbcClient } from '../support/jdbc.js'

let dir: string
let data: string
let serve: RunningServe | undefined
let sqlBase: string
let client: ClickHouseClient
const token = { operator: '', tenant: '' }
/** district-a's log rows as `synclog log --format json` prints them, each as one key (see keyOf). */
let logKeys: string[]
const COUNTS =
  'SELECT (SELECT count() FROM sync_log) AS log, (SELECT count() FROM sync_runs) AS runs, (SELECT count() FROM sync_counts) AS counts, ' +
  '(SELECT count() FROM sync_outcomes) AS outcomes, (SELECT count() FROM sync_daily) AS daily FORMAT JSONEachRow'
let countsBefore: string

const KEY_COLUMNS = 'syncId, action, entity, sourcedId, field'

/** A log row as one string of the columns both the log's JSON and SQL give alike. */
function keyOf(r: Readonly<Record<string, string | number | null>>): string {
  return [r.syncId, r.action, r.entity, r.sourcedId, r.field].map(String).join('|')
}

interface Answer {
  status: number
  headers: Headers
  text: string
}

async function post(sql: string, opts: { password?: string; query?: Record<string, string> } = {}): Promise<Answer> {
  const search = new URLSearchParams(opts.query ?? {})
  const headers: Record<string, string> = { 'x-clickhouse-user': 'analyst' }
  if (opts.password !== undefined) headers['x-clickhouse-key'] = opts.password
  const res = await fetch(`${sqlBase}/?${search}`, { method: 'POST', body: sql, headers })
  return { status: res.status, headers: res.headers, text: await res.text() }
}

/** ClickHouse's exception text, as clients parse it: `Code: N. DB::Exception: message. (NAME)`. */
const EXCEPTION = /^Code: (\d+)\. DB::Exception: ([^\n]+)\. \(([A-Z0-9_]+)\)\n$/

function expectRefused(answer: Answer, sql: string): string {
  const label = `${JSON.stringify(sql.slice(0, 200))} answered ${answer.status}: ${answer.text.slice(0, 300)}`
  expect(answer.status, label).toBeGreaterThanOrEqual(400)
  expect(answer.status, label).toBeLessThan(500)
  expect(answer.text, label).toMatch(EXCEPTION)
  expect(answer.text, label).not.toMatch(/\n\s+at |\.ts:\d+|\.js:\d+|node_modules/)
  expect(answer.headers.get('x-clickhouse-exception-code'), label).toBe(EXCEPTION.exec(answer.text)![1])
  return EXCEPTION.exec(answer.text)![3]!
}

beforeAll(async () => {
  dir = await tempDir('sql')
  ;({ data } = await importDemoDataSet(dir))
  token.operator = await createToken(data, 'analyst')
  token.tenant = await createToken(data, 'district-a-analyst', '--tenant', 'district-a')
  const log = await synclog([
    'log',
    '--tenant',
    'district-a',
    '--from',
    '2000-01-01',
    '--to',
    '2100-12-31',
    '--format',
    'json',
    '--data',
    data,
  ])
  expect(log.code, log.stderr).toBe(0)
  logKeys = jsonLines(log.stdout).map(keyOf).sort()
  const counts = await synclog(['sql', COUNTS, '--data', data])
  expect(counts.code, counts.stderr).toBe(0)
  countsBefore = counts.stdout
}, 300_000)

afterAll(async () => {
  await client?.close()
  await serve?.stop()
  if (dir !== undefined) await rm(dir, { recursive: true, force: true })
})

describe('synclog sql', () => {
  it("prints a query's result as tab-separated values with a header when the output is not a terminal", async () => {
    const run = await synclog([
      'sql',
      'SELECT tenant, count() AS syncs FROM sync_runs FINAL GROUP BY tenant ORDER BY tenant',
      '--data',
      data,
    ])
    expect(run.code, run.stderr).toBe(0)
    expect(run.stdout.split('\n')[0]).toBe('tenant\tsyncs')
    expect(
      run.stdout
        .split('\n')
        .slice(1)
        .filter(Boolean)
        .map((l) => l.split('\t')[0]),
    ).toEqual(['district-a', 'district-b'])
  })

  it('binds --param_name values and honours a FORMAT clause, giving the rows synclog log gives', async () => {
    const run = await synclog([
      'sql',
      `SELECT ${KEY_COLUMNS} FROM sync_log FINAL WHERE tenant = {tenant:String} FORMAT JSONEachRow`,
      '--param_tenant',
      'district-a',
      '--data',
      data,
    ])
    expect(run.code, run.stderr).toBe(0)
    expect(jsonLines(run.stdout).map(keyOf).sort()).toEqual(logKeys)
  })

  it('refuses a write with one line naming the rule, and exit 1', async () => {
    const run = await synclog(['sql', 'DROP TABLE sync_log', '--data', data])
    expect(run.code, run.stderr).toBe(1)
    expect(run.stderr).toMatch(/^synclog: only SELECT, WITH, EXPLAIN, DESCRIBE, SHOW TABLES and EXISTS are allowed here .*\(READONLY\)\n$/)
    expect(run.stdout).toBe('')
  })

  it('stops a result larger than sql.maxResultRows with a clear error', async () => {
    expect(logKeys.length).toBeGreaterThan(1000)
    const run = await synclog(['sql', 'SELECT * FROM sync_log', '--data', data], { env: { SYNCLOG_SQL_MAX_RESULT_ROWS: '1000' } })
    expect(run.code, run.stderr).toBe(1)
    expect(run.stderr).toMatch(/Limit for result exceeded, max rows: 1\.00 thousand.*\(TOO_MANY_ROWS_OR_BYTES\)/)
    expect(run.stderr).toMatch(
      /raise it with sql\.maxResultRows in synclog\.config\.json or the environment variable SYNCLOG_SQL_MAX_RESULT_ROWS/,
    )
  })
})

describe('synclog serve --sql-port', () => {
  beforeAll(async () => {
    serve = await startServe(data, { args: ['--sql-port', '0'], env: { SYNCLOG_SQL_MAX_EXECUTION_SECONDS: '2' } })
    const match = /synclog SQL \(ClickHouse HTTP interface[^)]*\) listening on (http:\/\/\S+)/.exec(serve.stdout())
    if (match === null) throw new Error(`serve printed no SQL address: ${serve.stdout()}`)
    sqlBase = match[1]!
    client = createClient({ url: sqlBase, username: 'analyst', password: token.operator, database: 'synclog' })
  }, 120_000)

  it('answers /ping with Ok. as ClickHouse does', async () => {
    const res = await fetch(`${sqlBase}/ping`)
    expect(res.status).toBe(200)
    expect(await res.text()).toBe('Ok.\n')
    expect((await client.ping()).success).toBe(true)
  })

  it('gives @clickhouse/client the rows synclog log gives, with query parameters', async () => {
    const result = await client.query({
      query: `SELECT ${KEY_COLUMNS} FROM sync_log FINAL WHERE tenant = {tenant:String}`,
      format: 'JSONEachRow',
      query_params: { tenant: 'district-a' },
    })
    expect((await result.json<Record<string, string>>()).map(keyOf).sort()).toEqual(logKeys)
  })

  it('sends the headers ClickHouse clients read, and 64-bit integers quoted in JSON as ClickHouse does', async () => {
    const answer = await post('SELECT count() AS n FROM sync_log FINAL FORMAT JSON', {
      password: token.operator,
      query: { query_id: 'q-1' },
    })
    expect(answer.status, answer.text).toBe(200)
    expect(answer.headers.get('x-clickhouse-format')).toBe('JSON')
    expect(answer.headers.get('x-clickhouse-query-id')).toBe('q-1')
    expect(answer.headers.get('x-clickhouse-server-display-name')).toBe('synclog')
    expect(answer.headers.get('x-clickhouse-timezone')).toBe('UTC')
    expect(JSON.parse(answer.headers.get('x-clickhouse-summary') ?? 'null')).toHaveProperty('read_rows')
    expect(answer.headers.get('content-type')).toMatch(/^application\/json/)
    const body = JSON.parse(answer.text) as { data: { n: string }[] }
    expect(body.data[0]!.n).toBe(String(logKeys.length + (await countOf('district-b'))))
  })

  it('takes the query in the URL, default_format, basic auth and ?user=&password=', async () => {
    const search = new URLSearchParams({
      query: 'SELECT count() FROM sync_runs FINAL WHERE tenant = {t:String}',
      param_t: 'district-a',
      default_format: 'CSV',
    })
    const basic = await fetch(`${sqlBase}/?${search}`, {
      headers: { authorization: `Basic ${Buffer.from(`analyst:${token.operator}`).toString('base64')}` },
    })
    expect(basic.status).toBe(200)
    expect(basic.headers.get('x-clickhouse-format')).toBe('CSV')
    const count = Number((await basic.text()).trim())
    expect(count).toBeGreaterThan(0)
    search.set('user', 'analyst')
    search.set('password', token.operator)
    const inUrl = await fetch(`${sqlBase}/?${search}`)
    expect(Number((await inUrl.text()).trim())).toBe(count)
  })

  it('gives the official JDBC driver the rows synclog log gives, with a prepared-statement parameter', async () => {
    const jdbc = await jdbcClient()
    if ('missing' in jdbc) {
      if (process.env.CI === 'true') throw new Error(jdbc.missing)
      console.warn(`skipping the JDBC check: ${jdbc.missing}`)
      return
    }
    try {
      const url = `jdbc:clickhouse:${sqlBase}/synclog`
      const rows = await jdbc.query(url, 'analyst', token.operator, `SELECT ${KEY_COLUMNS} FROM sync_log FINAL WHERE tenant = ?`, [
        'district-a',
      ])
      expect(rows.map(keyOf).sort()).toEqual(logKeys)
      await expect(jdbc.query(url, 'analyst', token.operator, 'DROP TABLE sync_log')).rejects.toThrow(/read-only/)
      await expect(jdbc.query(url, 'analyst', token.tenant, 'SELECT 1')).rejects.toThrow(/operator tokens only/)
    } finally {
      await jdbc.close()
    }
  }, 600_000)

  it("refuses a tenant token, a wrong password and none with ClickHouse's errors", async () => {
    expect(expectRefused(await post('SELECT 1', { password: token.tenant }), 'tenant')).toBe('ACCESS_DENIED')
    expect((await post('SELECT 1', { password: token.tenant })).text).toMatch(/SQL is for operator tokens only/)
    expect(expectRefused(await post('SELECT 1', { password: 'slk_' + 'x'.repeat(43) }), 'wrong')).toBe('AUTHENTICATION_FAILED')
    expect(expectRefused(await post('SELECT 1'), 'none')).toBe('AUTHENTICATION_FAILED')
    const scoped = createClient({ url: sqlBase, username: 'a', password: token.tenant })
    try {
      await expect(scoped.query({ query: 'SELECT 1', format: 'JSONEachRow' })).rejects.toMatchObject({ type: 'ACCESS_DENIED' })
    } finally {
      await scoped.close()
    }
  })

  it('refuses settings in the URL that would lift the read-only mode or the limits', async () => {
    for (const [name, value] of [
      ['readonly', '0'],
      ['max_execution_time', '0'],
      ['max_result_rows', '0'],
      ['allow_ddl', '1'],
      ['max_memory_usage', '0'],
    ] as const) {
      const answer = await post('SELECT 1', { password: token.operator, query: { [name]: value } })
      expect(['READONLY', 'UNKNOWN_SETTING']).toContain(expectRefused(answer, `${name}=${value}`))
    }
  })

  it('refuses every statement of the hostile corpus cleanly, for operator and tenant tokens, and stays up with the store unchanged', async () => {
    const corpus = hostileSql(dir)
    expect(corpus.length).toBeGreaterThan(300)
    const names = new Map<string, number>()
    for (const sql of corpus) {
      const name = expectRefused(await post(sql, { password: token.operator, query: { param_t: 'system.one' } }), sql)
      names.set(name, (names.get(name) ?? 0) + 1)
      expect(expectRefused(await post(sql, { password: token.tenant }), sql)).toBe('ACCESS_DENIED')
    }
    // Through the real client too: every refusal arrives as a ClickHouseError with a name.
    for (const sql of corpus.filter((_, i) => i % 5 === 0)) {
      await expect(client.query({ query: sql, format: 'JSONEachRow' }), sql).rejects.toHaveProperty('type')
    }
    for (const sql of BENIGN_SQL) {
      const answer = await post(sql, { password: token.operator })
      expect(answer.status, `${sql}: ${answer.text}`).toBe(200)
    }
    expect((await post(COUNTS, { password: token.operator })).text).toBe(countsBefore)
    expect(['out.tsv', 'out2.tsv', 'out3.tsv', 'out4.tsv', 'backup'].filter((f) => existsSync(join(dir, f)))).toEqual([])
    expect(await (await fetch(`${sqlBase}/ping`)).text()).toBe('Ok.\n')
    expect(serve!.stderr()).not.toMatch(/\n\s+at /)
    expect(names.size).toBeGreaterThan(3)
  }, 300_000)

  it('stops a query over the time limit with a clear error, and answers the next one', async () => {
    const started = Date.now()
    await expect(
      client.query({
        query: 'SELECT count() FROM sync_log AS a, sync_log AS b, sync_log AS c, sync_log AS d',
        format: 'JSONEachRow',
      }),
    ).rejects.toMatchObject({
      type: 'TIMEOUT_EXCEEDED',
      message: expect.stringMatching(/Timeout exceeded: elapsed .* maximum: 2000 ms.*sql\.maxExecutionSeconds/) as unknown,
    })
    expect(Date.now() - started).toBeLessThan(15_000)
    expect(await (await client.query({ query: 'SELECT 1 AS one', format: 'JSONEachRow' })).json()).toEqual([{ one: 1 }])
  }, 60_000)

  it('stops on SIGTERM with the API, closing the SQL port too', async () => {
    expect(await serve!.stop()).toBe(0)
    await expect(fetch(`${sqlBase}/ping`)).rejects.toThrow()
  }, 60_000)
})

async function countOf(tenant: string): Promise<number> {
  const rows = await (
    await client.query({
      query: 'SELECT count() AS n FROM sync_log FINAL WHERE tenant = {t:String}',
      format: 'JSONEachRow',
      query_params: { t: tenant },
    })
  ).json<{ n: string }>()
  return Number(rows[0]!.n)
}
