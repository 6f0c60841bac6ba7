/**
 * The log's filters from the command line and over HTTP: one model, so the same
 * values select the same rows, the same bad value is refused in the same words,
 * and the OpenAPI document describes each filter as `synclog log --help` does.
 * The CLI is the built binary; the API is the real server over the same data
 * directory, opened once the CLI has read it (the directory has one user at a time).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { rm } from 'node:fs/promises'
import { LOG_FILTERS, COMMAND_LINE } from '../../src/clickhouse/log-filter.js'
import type { LogRecord } from '../../src/clickhouse/types.js'
import { LOG_COLUMNS } from '../../src/events/sync-log-event.js'
import { loadConfig } from '../../src/config/config.js'
import { ApiTokens } from '../../src/http/api-tokens.js'
import { buildServer, type SynclogServer } from '../../src/http/server.js'
import { silentLogger } from '../support/silent-logger.js'
import { openStore, type OpenStore } from '../../src/pipeline/open-store.js'
import { jsonLines, synclog, tempDir } from '../support/cli.js'
import { importDemoDataSet } from '../support/demo-data-set.js'

let dir: string
let data: string
let opened: OpenStore | undefined
let server: SynclogServer | undefined
let token: string
/** What the CLI printed, read before the server opened the data directory. */
const cli = { all: [] as Record<string, string>[], since: [] as Record<string, string>[], from: '' }

/** An instant written with a +02:00 offset: the same moment as `iso` (a UTC instant). */
const atPlusTwo = (iso: string): string => new Date(Date.parse(iso) + 2 * 3_600_000).toISOString().replace('Z', '+02:00')

/** A row by the columns `log --format json` prints (the log's columns). */
const key = (r: Readonly<Record<string, unknown>>): string => JSON.stringify(LOG_COLUMNS.map((c) => r[c]))

async function get(url: string): Promise<{ status: number; body: unknown }> {
  const answer = await server!.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } })
  return { status: answer.statusCode, body: answer.json() }
}

async function walk(query: string): Promise<LogRecord[]> {
  const rows: LogRecord[] = []
  let cursor: string | null = null
  do {
    const page = (await get(`/api/v1/log?${query}&limit=10000${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`)).body as {
      rows: LogRecord[]
      nextCursor: string | null
    }
    rows.push(...page.rows)
    cursor = page.nextCursor
  } while (cursor !== null)
  return rows
}

beforeAll(async () => {
  dir = await tempDir('filters')
  data = (await importDemoDataSet(dir)).data
  const all = await synclog(['log', '--from', '2000-01-01', '--format', 'json', '--data', data])
  expect(all.code, all.stderr).toBe(0)
  cli.all = jsonLines(all.stdout)
  const dates = [...new Set(cli.all.map((r) => r['date']!))].sort()
  cli.from = atPlusTwo(dates[Math.floor(dates.length / 2)]!)
  const since = await synclog(['log', '--from', cli.from, '--format', 'json', '--data', data])
  expect(since.code, since.stderr).toBe(0)
  cli.since = jsonLines(since.stdout)

  token = (await ApiTokens.inDataDir(data).create('filters', {})).token
  opened = await openStore(loadConfig({ data }, {}), silentLogger(), 'log-filters-e2e')
  server = await buildServer({ store: opened.store, tokens: ApiTokens.inDataDir(data), logger: silentLogger(), version: 'test' })
}, 180_000)

afterAll(async () => {
  await server?.app.close()
  await opened?.close()
  await rm(dir, { recursive: true, force: true })
})

describe('the log filters on the command line and over HTTP', () => {
  it('take an instant with a +02:00 offset on both, and select the same rows with it', async () => {
    expect(cli.since.length).toBeGreaterThan(0)
    expect(cli.since.length).toBeLessThan(cli.all.length)
    const expected = cli.all
      .filter((r) => Date.parse(r['date']!) >= Date.parse(cli.from))
      .map(key)
      .sort()
    expect(cli.since.map(key).sort()).toEqual(expected)
    expect((await walk(`from=${encodeURIComponent(cli.from)}`)).map(key).sort()).toEqual(expected)
  })

  it('refuse the same bad value in the same words, naming the filter as each surface spells it', async () => {
    const cases: [string, string, Record<string, string>][] = [
      ['from', 'yesterday', {}],
      ['to', '2024-02-30', {}],
      ['entity', 'person', {}],
      ['side', 'left', { school: 'sch-1' }],
      ['includeRejected', 'maybe', {}],
      ['tenant', '', {}],
    ]
    for (const [name, value, extra] of cases) {
      const flag = COMMAND_LINE.spell(name)
      const args = LOG_FILTERS[name as keyof typeof LOG_FILTERS].arg === null ? [`${flag}=${value}`] : [flag, value]
      const run = await synclog(['log', ...args, ...Object.entries(extra).flatMap(([k, v]) => [`--${k}`, v]), '--data', data])
      const http = await get(`/api/v1/log?${new URLSearchParams({ [name]: value, ...extra }).toString()}`)
      if (LOG_FILTERS[name as keyof typeof LOG_FILTERS].arg === null) {
        // A flag takes no value on the command line: commander refuses it before the filter sees it.
        expect(run.code, name).not.toBe(0)
        expect(http.status, name).toBe(400)
        continue
      }
      expect(run.code, name).toBe(1)
      const fromCli = run.stderr.trim().replace(/^synclog: /, '')
      const fromHttp = (http.body as { error: { message: string } }).error.message
      expect(fromCli.startsWith(`${flag} must `), fromCli).toBe(true)
      expect(fromHttp.startsWith(`query parameter ${name} must `), fromHttp).toBe(true)
      expect(fromCli.slice(flag.length)).toBe(fromHttp.slice(`query parameter ${name}`.length))
    }
  })

  it('are documented in the OpenAPI document with the descriptions the CLI help shows', async () => {
    const doc = (await get('/openapi.json')).body as {
      paths: Record<string, { get?: { parameters?: { name: string; in: string; description?: string }[] } }>
    }
    for (const path of ['/api/v1/log', '/api/v1/log/count', '/api/v1/log.csv']) {
      const parameters = doc.paths[path]?.get?.parameters ?? []
      for (const [name, f] of Object.entries(LOG_FILTERS)) {
        const parameter = parameters.find((p) => p.in === 'query' && p.name === name)
        expect(parameter?.description, `${path} ${name}`).toBe(f.description)
      }
      expect(
        parameters.some((p) => p.name === 'contains.studentName'),
        path,
      ).toBe(true)
    }
    const help = await synclog(['log', '--help'])
    for (const f of Object.values(LOG_FILTERS)) expect(help.stdout.replace(/\s+/g, ' ')).toContain(f.description)
  })
})
