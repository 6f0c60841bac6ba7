/**
 * Times as people read them: a tenant configured in America/Chicago shows its log
 * dates in Chicago time in `log`'s table and `summary`, a tenant without a zone in the
 * system's (the CLI runs with TZ=Asia/Kolkata, a half-hour offset no other zone here
 * has), and the date search matches the text shown, on the command line and over HTTP.
 * An import's end is when its bundle had been read, and a resumed import keeps the end
 * the interrupted one noted. Expected texts come from Intl's own formatting, not from
 * synclog's formatter or SQL.
 */
import { rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig, timeZonesOf } from '../../src/config/config.js'
import { writeOneRosterBundle } from '../../src/demo/write-oneroster.js'
import { LOG_COLUMNS } from '../../src/events/sync-log-event.js'
import { ApiTokens } from '../../src/http/api-tokens.js'
import { buildServer, type SynclogServer } from '../../src/http/server.js'
import { inputFingerprint, syncIdFor } from '../../src/oneroster/sync-identity.js'
import { openStore, type OpenStore } from '../../src/pipeline/open-store.js'
import { jsonLines, synclog, tempDir } from '../support/cli.js'
import { demoNights } from '../support/demo-data-set.js'
import { silentLogger } from '../support/silent-logger.js'

const SYSTEM_TZ = 'Asia/Kolkata'
const CHICAGO = 'America/Chicago'
const env = { TZ: SYSTEM_TZ }

/** `YYYY-MM-DD HH:mm` of an instant in a zone, by Intl's Swedish locale (which writes ISO-like dates). */
const shownIn = (iso: string, zone: string): string =>
  new Date(iso).toLocaleString('sv-SE', { timeZone: zone, hour12: false }).replace(',', '').slice(0, 16)

let dir: string
let data: string
let night1: string
let opened: OpenStore | undefined
let server: SynclogServer | undefined
let token: string
let rows: Record<string, string>[] = []
let syncs: Record<string, string>[] = []
/** The tenant of a row `log --format json` printed (it names the sync, not the tenant). */
const tenantOf = (r: Readonly<Record<string, unknown>>): string => syncs.find((s) => s['syncId'] === r['syncId'])!['tenant']!
/** What the CLI printed, read before the server opened the data directory. */
const printed = { logTable: '', summaryA: '', searchA: [] as Record<string, string>[], searchB: [] as Record<string, string>[] }
let searchTextA = ''
let searchTextB = ''

const run = async (args: string[]) => {
  const r = await synclog([...args, '--data', data], { env })
  expect(r.code, r.stderr).toBe(0)
  return r
}

beforeAll(async () => {
  dir = await tempDir('local-times')
  data = join(dir, 'data')
  night1 = join(dir, 'night1')
  await writeOneRosterBundle(night1, demoNights().night1)
  await run(['syncs']) // creates the data directory
  await writeFile(join(data, 'synclog.config.json'), JSON.stringify({ timeZones: { 'district-a': CHICAGO } }))
  for (const tenant of ['district-a', 'district-b']) await run(['import', night1, '--tenant', tenant, '--format', 'json'])
  syncs = JSON.parse((await run(['syncs', '--format', 'json'])).stdout) as Record<string, string>[]
  rows = jsonLines((await run(['log', '--from', '2000-01-01', '--format', 'json'])).stdout)
  printed.logTable = (await run(['log', '--limit', '10000'])).stdout
  const syncA = syncs.find((s) => s['tenant'] === 'district-a')!
  printed.summaryA = (await run(['summary', syncA['syncId']!])).stdout

  // A search text as people read it: the date and hour of a row, as shown in its tenant's zone.
  searchTextA = `${shownIn(rows.find((r) => tenantOf(r) === 'district-a')!['date']!, CHICAGO).slice(0, 13)}:`
  searchTextB = `${shownIn(rows.find((r) => tenantOf(r) === 'district-b')!['date']!, SYSTEM_TZ).slice(0, 13)}:`
  printed.searchA = jsonLines((await run(['log', '--from', '2000-01-01', '--contains', `date=${searchTextA}`, '--format', 'json'])).stdout)
  printed.searchB = jsonLines((await run(['log', '--from', '2000-01-01', '--contains', `date=${searchTextB}`, '--format', 'json'])).stdout)

  token = (await ApiTokens.inDataDir(data).create('times', {})).token
  const config = loadConfig({ data }, env)
  opened = await openStore(config, silentLogger(), 'local-times-e2e')
  server = await buildServer({
    store: opened.store,
    tokens: ApiTokens.inDataDir(data),
    logger: silentLogger(),
    version: 'test',
    timeZones: timeZonesOf(config),
  })
}, 240_000)

afterAll(async () => {
  await server?.app.close()
  await opened?.close()
  await rm(dir, { recursive: true, force: true })
})

/** A row by the columns `log --format json` prints (the log's columns). */
const keys = (found: readonly Readonly<Record<string, unknown>>[]): string[] =>
  found.map((r) => JSON.stringify(LOG_COLUMNS.map((c) => r[c]))).sort()

/** The rows whose date, as shown in their tenant's zone or as ISO text, contains `text`: computed here, not by synclog. */
const expectedMatches = (text: string): string[] =>
  keys(
    rows.filter((r) => shownIn(r['date']!, tenantOf(r) === 'district-a' ? CHICAGO : SYSTEM_TZ).includes(text) || r['date']!.includes(text)),
  )

describe('times in the table output', () => {
  it("show each tenant's rows in its local time: the configured zone, else the system's", () => {
    const lines = printed.logTable.split('\n')
    for (const tenant of ['district-a', 'district-b']) {
      const row = rows.find((r) => tenantOf(r) === tenant)!
      const shown = shownIn(row['date']!, tenant === 'district-a' ? CHICAGO : SYSTEM_TZ)
      expect(
        lines.some((l) => l.startsWith(`${shown}  `)),
        `${tenant}: ${shown}`,
      ).toBe(true)
    }
    expect(printed.logTable).toContain(`Times in each tenant's zone: district-a in ${CHICAGO}; district-b in ${SYSTEM_TZ}.`)
    expect(printed.logTable).not.toMatch(/\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}/)
  })

  it("show a sync's start and completion in its tenant's zone, and name the zone", () => {
    const syncA = syncs.find((s) => s['tenant'] === 'district-a')!
    expect(printed.summaryA).toContain(
      `Started ${shownIn(syncA['startedAt']!, CHICAGO)} · completed ${shownIn(syncA['endedAt']!, CHICAGO)} (${CHICAGO})`,
    )
  })
})

describe('the date search', () => {
  it('matches the date as shown in the local time of each tenant on the command line', () => {
    expect(keys(printed.searchA)).toEqual(expectedMatches(searchTextA))
    expect(printed.searchA.some((r) => tenantOf(r) === 'district-a')).toBe(true)
    expect(keys(printed.searchB)).toEqual(expectedMatches(searchTextB))
    expect(printed.searchB.some((r) => tenantOf(r) === 'district-b')).toBe(true)
  })

  it('matches the same rows over HTTP, and still the ISO text of older links', async () => {
    const get = async (query: string) => {
      const answer = await server!.app.inject({
        method: 'GET',
        url: `/api/v1/log?from=2000-01-01&limit=10000&${query}`,
        headers: { authorization: `Bearer ${token}` },
      })
      expect(answer.statusCode, answer.body).toBe(200)
      return (answer.json() as { rows: Record<string, unknown>[] }).rows
    }
    expect(keys(await get(`contains.date=${encodeURIComponent(searchTextA)}`))).toEqual(expectedMatches(searchTextA))
    const iso = rows[0]!['date']!.slice(0, 16)
    const byIso = await get(`contains.date=${encodeURIComponent(iso)}`)
    expect(byIso.length).toBeGreaterThan(0)
    expect(keys(byIso)).toEqual(expectedMatches(iso))
  })

  it("tells the page each tenant's zone", async () => {
    const me = await server!.app.inject({ method: 'GET', url: '/api/v1/me', headers: { authorization: `Bearer ${token}` } })
    expect(me.json()).toMatchObject({ timeZones: { default: SYSTEM_TZ, tenants: { 'district-a': CHICAGO } } })
  })
})

describe("an import's completion", () => {
  it('is when its bundle had been read, after its start', () => {
    expect(syncs).toHaveLength(2)
    for (const s of syncs) expect(Date.parse(s['endedAt']!)).toBeGreaterThan(Date.parse(s['startedAt']!))
  })

  it('is the one the interrupted import noted when the import resumes', async () => {
    await server?.app.close()
    await opened?.close()
    server = undefined
    opened = undefined
    const accepted = new Date('2024-09-03T11:00:00.000Z')
    const fingerprint = await inputFingerprint(night1, accepted)
    const intent = {
      tenant: 'district-c',
      app: 'oneroster-csv',
      fingerprint,
      syncId: syncIdFor('district-c', fingerprint, accepted),
      occurredAt: accepted.toISOString(),
      endedAt: '2024-09-03T11:04:30.000Z',
    }
    await writeFile(join(data, 'import-in-progress.json'), JSON.stringify(intent))
    const imported = JSON.parse((await run(['import', night1, '--tenant', 'district-c', '--format', 'json'])).stdout) as Record<
      string,
      string
    >
    expect(imported).toMatchObject({ syncId: intent.syncId, startedAt: intent.occurredAt, endedAt: intent.endedAt })
  })
})
