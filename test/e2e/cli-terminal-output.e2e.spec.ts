/**
 * Text from a SIS (ids, names, JSON keys) reaches the operator's terminal escaped: no control
 * sequence in an input can recolour, clear, retitle, hyperlink or write the clipboard of the
 * terminal, nor reorder what it shows. Machine formats keep the exact values.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SyncScript, smallDistrict, student } from '../support/sis.js'
import { jsonLines, synclog, tempDir, type CliRun } from '../support/cli.js'

/** Every raw character a terminal may act on or hide: C0 (but the line feed and synclog's own column tab), DEL, C1, separators, format characters. */
const RAW_CONTROL = /(?![\n\t])[\p{Cc}\p{Zl}\p{Zp}\p{Cf}]/u
const JOINERS = /[\u200c\u200d]/gu

function rawControls(text: string): string[] {
  return [...text.replace(JOINERS, '').matchAll(new RegExp(RAW_CONTROL, 'gu'))].map(
    (m) => `U+${m[0].codePointAt(0)!.toString(16).padStart(4, '0')}`,
  )
}

function expectTerminalSafe(run: CliRun): void {
  expect(rawControls(run.stdout), run.stdout.slice(0, 400)).toEqual([])
  expect(rawControls(run.stderr), run.stderr.slice(0, 400)).toEqual([])
  expect(run.stderr).not.toMatch(/unexpected error|\n\s+at /)
}

/** Hostile strings: every C0 and C1 control, DEL, ESC sequences a terminal obeys, bidi overrides, invisible format characters. */
function hostileCorpus(): string[] {
  const sequences = [
    '\x1b[31mred\x1b[0m',
    '\x1b[2J\x1b[H',
    '\x1b[1A\x1b[2K',
    '\x1b]0;pwned title\x07',
    '\x1b]2;title\x1b\\',
    '\x1b]8;;https://evil.example/\x1b\\click me\x1b]8;;\x1b\\',
    '\x1b]52;c;ZWNobyBwd25lZA==\x07',
    '\x1bP+q544e\x1b\\',
    '\x9b31m',
    '\x9d0;title\x9c',
    '\x1b[6n',
    '\x1b[?1049h',
    '\x1bc',
    '\x1b(0',
    '\x07\x07\x07',
    'over\rwrite',
    'back\b\b\bspace',
  ]
  const singles: string[] = []
  for (let c = 0; c <= 0x1f; c++) singles.push(String.fromCharCode(c))
  for (let c = 0x7f; c <= 0x9f; c++) singles.push(String.fromCharCode(c))
  singles.push(
    '\u202a',
    '\u202b',
    '\u202c',
    '\u202d',
    '\u202e',
    '\u2066',
    '\u2067',
    '\u2068',
    '\u2069',
    '\u200e',
    '\u200f',
    '\u061c',
    '\u200b',
    '\u2060',
    '\ufeff',
    '\u00ad',
    '\u2028',
    '\u2029',
    '\u{e0041}',
  )
  const corpus: string[] = []
  for (const [i, s] of [...singles, ...sequences].entries()) {
    corpus.push(`a${s}b`, `${s}start${i}`, `end${i}${s}`)
  }
  corpus.push('gpj.\u202eexe', 'admin\u202e\u2066nimda\u2069', `${'\x1b[31m'.repeat(20)}x`)
  return corpus
}

const CORPUS = hostileCorpus()

describe('terminal output of ingested text', () => {
  let dir: string
  let data: string
  let file: string
  let ingest: CliRun
  const hostileSyncIds = CORPUS.filter((_, i) => i % 7 === 0)

  beforeAll(async () => {
    dir = await tempDir('terminal')
    data = join(dir, 'data')
    file = join(dir, 'events.ndjson')
    const lines: string[] = []
    // Field values: one student per hostile string, in a sync with a hostile id every few.
    const script = smallDistrict(new SyncScript('district-a', 'plain-sync', 'sis', '2024-10-01T02:00:00.000Z', { user: 'delta' }), {
      students: 1,
    })
    CORPUS.forEach((h, i) => script.upsert('user', `u${i}`, student(h, `Fam${h}`, 'sch1', `N${i}${h}`)))
    lines.push(...script.end().map((e) => JSON.stringify(e)))
    hostileSyncIds.forEach((id, i) => {
      const s = new SyncScript('district-a', id, `app${id}`, `2024-10-02T02:${String(i % 60).padStart(2, '0')}:00.000Z`, { user: 'delta' })
      s.upsert('user', `x${i}`, student('Ann', 'Lee', 'sch1', `X${i}`))
      lines.push(...s.end().map((e) => JSON.stringify(e)))
    })
    // Unknown JSON keys, and a bad value in a known one: each line is reported on stderr.
    const base = JSON.parse(lines[1]!) as Record<string, unknown>
    CORPUS.forEach((h, i) => lines.push(JSON.stringify({ ...base, eventId: `bad${i}`, [h]: 1 })))
    CORPUS.slice(0, 60).forEach((h, i) => lines.push(JSON.stringify({ ...base, eventId: `bad-op${i}`, op: h })))
    await writeFile(file, `${lines.join('\n')}\n`)
    ingest = await synclog(['ingest', file, '--data', data])
  }, 120_000)

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('prints sync ids, unknown keys and bad values of ingest escaped', () => {
    expect(ingest.code).toBe(0)
    expectTerminalSafe(ingest)
    expect(ingest.stderr.split('\n').filter((l) => l.startsWith(file)).length).toBeGreaterThanOrEqual(CORPUS.length)
    expect(ingest.stdout).toContain('\\x1b[31mred')
  })

  it('shows hostile values in the log, syncs, summary, history and drill-down tables escaped', async () => {
    // One at a time: a data directory serves one process.
    const runs: CliRun[] = []
    for (const args of [
      ['log', '--from', '2000-01-01', '--limit', '5000'],
      ['syncs', '--limit', '500'],
      ['summary', 'plain-sync', '--by-school'],
      ['summary', hostileSyncIds[3]!],
      ['history', '--record', 'u3'],
      ['drilldown', 'plain-sync', '--entity', 'user', '--outcome', 'New', '--school', 'sch1', '--limit', '1000'],
      ['daily', '--from', '2000-01-01'],
      ['approve', hostileSyncIds[5]!, '--reason', 'checked'],
      ['log', '--format', CORPUS[40]!],
      ['log', `--unknown-${CORPUS[41]!}`],
    ])
      runs.push(await synclog([...args, '--data', data]))
    for (const run of runs) expectTerminalSafe(run)
    expect(runs[0]!.code).toBe(0)
    expect(runs[0]!.stdout).toContain('\\u202e')
    expect(runs[1]!.stdout).toContain('a\\x07b')
    // header, rule, plain-sync, one line per hostile id, and the line naming the time zone
    expect(runs[1]!.stdout.trimEnd().split('\n')).toHaveLength(hostileSyncIds.length + 4)
    for (const run of runs.slice(7)) expect(run.code).toBe(1)
  })

  it('keeps the exact values in --format json, with what JSON leaves raw escaped', async () => {
    const run = await synclog(['log', '--from', '2000-01-01', '--entity', 'user', '--format', 'json', '--data', data])
    expect(run.code).toBe(0)
    expect(rawControls(run.stdout)).toEqual([])
    const rows = jsonLines(run.stdout)
    const numbers = new Set(rows.map((r) => r.studentNumber))
    for (const [i, h] of CORPUS.entries()) expect(numbers.has(`N${i}${h}`), JSON.stringify(h)).toBe(true)
    const syncs = JSON.parse((await synclog(['syncs', '--limit', '500', '--format', 'json', '--data', data])).stdout) as {
      syncId: string
    }[]
    expect(new Set(syncs.map((s) => s.syncId))).toEqual(new Set(['plain-sync', ...hostileSyncIds]))
  })
})

describe('terminal output of an import', () => {
  it('escapes hostile names and unreadable rows in the summary, the problems table and the warnings', async () => {
    const dir = await tempDir('terminal-import')
    try {
      const input = join(dir, 'in')
      await mkdir(input)
      const q = (v: string): string => `"${v.replace(/"/g, '""')}"`
      const header =
        'sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,userIds,givenName,familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,password'
      const users = CORPUS.map((h, i) => `s${i},,,true,sch1,student,${q(`u${h}`)},,${q(h)},${q(`F${h}`)},,${q(`N${h}`)},,,,,09,`)
      const broken = CORPUS.slice(0, 80).map((h, i) => `b${i},,,true,sch1,${q(h)}`)
      await writeFile(
        join(input, 'manifest.csv'),
        ['propertyName,value', 'manifest.version,1.0', 'oneroster.version,1.1', 'file.orgs,bulk', 'file.users,bulk'].join('\n'),
      )
      await writeFile(
        join(input, 'orgs.csv'),
        `sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId\nd1,,,${q(CORPUS[30]!)},district,,\nsch1,,,${q(`School${CORPUS[31]!}`)},school,,d1\n`,
      )
      await writeFile(join(input, 'users.csv'), [header, ...users, ...broken].join('\r\n'))
      for (const format of ['table', 'json']) {
        const run = await synclog(['import', input, '--tenant', 't', '--format', format, '--data', join(dir, `data-${format}`)], {
          env: { SYNCLOG_LOG_LEVEL: 'info' },
        })
        expect([0, 2], run.stderr.slice(-500)).toContain(run.code) // Completed with Errors, or Failed: never a crash
        expectTerminalSafe(run)
      }
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  }, 120_000)
})
