/**
 * responsive: the API's latency for the page's first log page while heavy work runs in
 * the same `synclog serve`, as a user of the page notices it.
 *
 * A data directory gets night 1 of every district (through the CLI), then two copies of it
 * each get a real `synclog serve --sql-port 0` (the CLI from source, under tsx). READERS
 * clients ask for the first log page (`GET /api/v1/log?limit=100` over the data's nights),
 * each one request after the other, in three phases: alone (ALONE_SECONDS), while
 * `synclog import` of night 2 of every district runs in another process (forwarded into
 * the service), and while an analyst's SQL query scans for ANALYST_SECONDS (the
 * `sql.maxExecutionSeconds` limit ends it).
 *
 * figure   = the service as shipped: one chDB connection per lane (src/clickhouse/lanes.ts);
 * baseline = the same service with one chDB connection for everything (SYNCLOG_CHDB_CONNECTIONS=one),
 *            as before lanes: every query waits for the one before it.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { cp } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { bundleDir } from '../../../src/generate/generate.js'
import { readDataset } from '../dataset.js'
import { peakRssOf } from '../proc.js'
import { latencyMeasure } from '../stats.js'
import type { ChildResult, ChildSpec, Measure, RowPart } from '../types.js'

const CLI = resolve(import.meta.dirname, '../../../src/cli/main.ts')
/** Clients asking for the page at once (the measurement used 16). */
const READERS = 16
const ALONE_SECONDS = 10
const ANALYST_SECONDS = 10
/** An analyst's scan no machine finishes: every triple of log rows, until the time limit stops it. */
const ANALYST_SCAN =
  'SELECT count() FROM sync_log AS a CROSS JOIN sync_log AS b CROSS JOIN sync_log AS c ' +
  'WHERE cityHash64(a.sourcedId, b.sourcedId, c.sourcedId) % 7 = 0'

type Connections = 'lanes' | 'one'

interface Run {
  code: number | null
  stdout: string
  stderr: string
}

/** The CLI from source, as a user runs it. */
function synclog(args: readonly string[], env: Record<string, string> = {}): Promise<Run> {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], {
    env: { ...process.env, SYNCLOG_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
  return new Promise((done, fail) => {
    child.once('error', fail)
    child.once('exit', (code) => done({ code, stdout, stderr }))
  })
}

async function mustRun(args: readonly string[]): Promise<Run> {
  const run = await synclog(args)
  if (run.code !== 0) throw new Error(`synclog ${args.join(' ')} exited with ${run.code}: ${run.stderr.slice(0, 500)}`)
  return run
}

interface Service {
  readonly base: string
  readonly sqlBase: string
  readonly child: ChildProcess
  stop(): Promise<void>
}

async function startService(data: string, connections: Connections): Promise<Service> {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'serve', '--port', '0', '--sql-port', '0', '--data', data], {
    env: {
      ...process.env,
      SYNCLOG_LOG_LEVEL: 'warn',
      SYNCLOG_CHDB_CONNECTIONS: connections,
      SYNCLOG_SQL_MAX_EXECUTION_SECONDS: String(ANALYST_SECONDS),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const exited = new Promise<void>((done) => child.once('exit', () => done()))
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000)
    await exited
    clearTimeout(timer)
  }
  let out = ''
  let err = ''
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()))
  try {
    const [base, sqlBase] = await new Promise<[string, string]>((done, fail) => {
      const timer = setTimeout(() => fail(new Error(`synclog serve did not start within 120 s: ${out}${err}`)), 120_000)
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString()
        const api = /synclog API listening on (http:\/\/\S+) \(web page/.exec(out)?.[1]
        const sql = /synclog SQL .* listening on (http:\/\/\S+)/.exec(out)?.[1]
        if (api !== undefined && sql !== undefined) {
          clearTimeout(timer)
          done([api, sql])
        }
      })
      void exited.then(() => fail(new Error(`synclog serve exited before listening: ${err}`)))
    })
    return { base, sqlBase, child, stop }
  } catch (e) {
    await stop()
    throw e
  }
}

/** READERS clients asking for the page one request after another until `until` settles; each answer's latency in ms. */
async function readWhile(url: string, token: string, until: Promise<unknown>): Promise<{ latencies: number[]; seconds: number }> {
  let done = false
  void until.then(
    () => (done = true),
    () => (done = true),
  )
  const latencies: number[] = []
  const started = performance.now()
  const reader = async (): Promise<void> => {
    while (!done) {
      const t = performance.now()
      const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } })
      const body = await res.text()
      if (res.status !== 200) throw new Error(`GET ${url} answered ${res.status}: ${body.slice(0, 200)}`)
      latencies.push(performance.now() - t)
    }
  }
  await Promise.all(Array.from({ length: READERS }, reader))
  return { latencies, seconds: (performance.now() - started) / 1000 }
}

function measureOf(read: { latencies: number[]; seconds: number }, extra: Record<string, string | number>): Measure {
  return latencyMeasure(read.latencies, {
    'requests/s': Math.round(read.latencies.length / read.seconds),
    seconds: Number(read.seconds.toFixed(1)),
    ...extra,
  })
}

interface Phases {
  alone: Measure
  import: Measure
  analyst: Measure
  peakRss: number
}

async function measure(
  data: string,
  connections: Connections,
  token: string,
  nights: { tenant: string; dir: string }[],
  pageUrl: string,
): Promise<Phases> {
  const service = await startService(data, connections)
  try {
    const url = `${service.base}${pageUrl}`
    // Warm up: the first reads load the tables' marks and the page's code paths.
    await readWhile(url, token, new Promise((r) => setTimeout(r, 2_000)))

    const alone = await readWhile(url, token, new Promise((r) => setTimeout(r, ALONE_SECONDS * 1000)))

    const importStarted = performance.now()
    const importing = (async () => {
      for (const n of nights) await mustRun(['import', n.dir, '--tenant', n.tenant, '--format', 'json', '--data', data])
    })()
    const duringImport = await readWhile(url, token, importing)
    await importing
    const importSeconds = (performance.now() - importStarted) / 1000

    const analystStarted = performance.now()
    const analyst = fetch(`${service.sqlBase}/`, {
      method: 'POST',
      body: ANALYST_SCAN,
      headers: { 'x-clickhouse-user': 'analyst', 'x-clickhouse-key': token },
    }).then(async (res) => ({ status: res.status, text: await res.text() }))
    const duringAnalyst = await readWhile(url, token, analyst)
    const answer = await analyst
    const analystSeconds = (performance.now() - analystStarted) / 1000
    if (!/TIMEOUT_EXCEEDED/.test(answer.text))
      throw new Error(`the analyst's scan ended without reaching its time limit (${answer.status}): ${answer.text.slice(0, 300)}`)

    return {
      alone: measureOf(alone, {}),
      import: measureOf(duringImport, { 'import wall s': Number(importSeconds.toFixed(1)) }),
      analyst: measureOf(duringAnalyst, { 'analyst query wall s': Number(analystSeconds.toFixed(1)) }),
      peakRss: peakRssOf(service.child.pid!) ?? 0,
    }
  } finally {
    await service.stop()
  }
}

export async function runResponsive(spec: ChildSpec): Promise<ChildResult> {
  const dataset = await readDataset(spec.datasetDir)
  const [first, second, last] = [dataset.perNight[0], dataset.perNight[1], dataset.perNight.at(-1)]
  if (first === undefined || second === undefined || last === undefined)
    throw new Error('responsive needs a dataset of at least two nights')
  const prepared = join(spec.workDir, 'prepared')
  for (const tenant of dataset.tenants)
    await mustRun(['import', bundleDir(spec.datasetDir, tenant, 1), '--tenant', tenant, '--format', 'json', '--data', prepared])
  const token = (await mustRun(['token', 'create', '--name', 'bench', '--data', prepared])).stdout.trim()
  const rows = Number((await mustRun(['sql', 'SELECT count() FROM sync_log FINAL', '--format', 'TSV', '--data', prepared])).stdout.trim())
  const nights = dataset.tenants.map((tenant) => ({ tenant, dir: bundleDir(spec.datasetDir, tenant, 2) }))
  const pageUrl = `/api/v1/log?limit=100&from=${first.occurredAt.slice(0, 10)}&to=${last.occurredAt.slice(0, 10)}`

  const results = new Map<Connections, Phases>()
  for (const connections of ['one', 'lanes'] as const) {
    const data = join(spec.workDir, connections)
    await cp(prepared, data, { recursive: true })
    results.set(connections, await measure(data, connections, token, nights, pageUrl))
  }
  const lanes = results.get('lanes')!
  const one = results.get('one')!
  const row = (key: keyof Omit<Phases, 'peakRss'>, label: string): RowPart => ({
    key: `responsive-${key}`,
    label: `API first log page, ${READERS} readers: ${label}`,
    kind: 'latency',
    unit: 'ms',
    ratioOn: 'p95',
    figure: lanes[key],
    baseline: one[key],
    figureRss: lanes.peakRss,
    baselineRss: one.peakRss,
  })
  return {
    rows: [
      row('alone', 'alone'),
      row('import', `during \`synclog import\` of night 2 (${dataset.tenants.length} districts)`),
      row('analyst', `during a ${ANALYST_SECONDS}-s analyst SQL query`),
    ],
    facts: {
      responsive: `${rows} log rows after night 1; ${READERS} readers of GET ${pageUrl.replace(/&/g, ' & ')}; peak RSS is the service's`,
    },
    notes: [
      "responsive: figure = a chDB connection per lane (write, read, analyst, the analyst's on half the cores); baseline = one connection for everything (SYNCLOG_CHDB_CONNECTIONS=one). " +
        'Both services run the same commands on copies of the same data directory, one after the other.',
    ],
  }
}
