/**
 * How a comparison of two syncs is counted and printed: B − A per data type (a type only one
 * sync has counts against zeros), and the table, CSV and JSON a person or a script reads.
 */
import { PassThrough } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { zeroCounts } from '../../src/clickhouse/rows.js'
import { compareCounts, type SyncComparison } from '../../src/clickhouse/sync-compare.js'
import type { OutcomeCountsJson, SyncSummary } from '../../src/clickhouse/types.js'
import { formatNamed } from '../../src/export/formats/index.js'
import { TimeZones } from '../../src/export/local-time.js'

const counts = (o: Partial<OutcomeCountsJson>): OutcomeCountsJson => ({ ...zeroCounts(), ...o })

const summary = (syncId: string, byEntity: Record<string, OutcomeCountsJson>): SyncSummary =>
  ({
    syncId,
    tenant: 'district-a',
    app: 'oneroster-csv',
    status: 'Completed',
    startedAt: '2025-03-02T02:30:00.000Z',
    endedAt: '2025-03-02T02:31:00.000Z',
    message: '',
    reviewedBy: '',
    reviewedAt: '',
    reviewReason: '',
    counts: byEntity,
  }) as SyncSummary

const COMPARISON: SyncComparison = {
  a: {
    syncId: 'sync-a',
    tenant: 'district-a',
    app: 'oneroster-csv',
    status: 'Completed',
    startedAt: '2025-03-01T02:30:00.000Z',
    endedAt: '',
  },
  b: {
    syncId: 'sync-b',
    tenant: 'district-a',
    app: 'oneroster-csv',
    status: 'Completed with Errors',
    startedAt: '2025-03-02T02:30:00.000Z',
    endedAt: '2025-03-02T02:31:00.000Z',
  },
  counts: [
    {
      entity: 'user',
      a: counts({ total: 10, new: 3, noChange: 7 }),
      b: counts({ total: 11, noChange: 10, skipped: 1 }),
      difference: counts({ total: 1, new: -3, noChange: 3, skipped: 1 }),
    },
  ],
  differing: 3,
  records: [
    {
      entity: 'user',
      sourcedId: 'u1',
      studentNumber: 'S1',
      studentName: 'Smith, Jo',
      courseNumber: '',
      sectionNumber: '',
      outcomeA: 'New',
      outcomeB: null,
      messageA: '',
      messageB: '',
    },
    {
      entity: 'user',
      sourcedId: 'u\u001b[31mred',
      studentNumber: '',
      studentName: '',
      courseNumber: '',
      sectionNumber: '',
      outcomeA: null,
      outcomeB: 'Skipped',
      messageA: '',
      messageB: '=HYPERLINK("http://x","click")',
    },
  ],
}

async function render(format: string, cmp: SyncComparison, note?: string): Promise<string> {
  const out = new PassThrough()
  let text = ''
  out.setEncoding('utf8').on('data', (d: string) => (text += d))
  await formatNamed(format, 'compare').compare(out, cmp, note, new TimeZones('UTC'))
  out.end()
  return text
}

describe('the counts of a comparison', () => {
  it('subtracts A from B field by field, a data type only one sync has counting as zeros in the other', () => {
    const a = summary('a', { user: counts({ total: 4, new: 4 }) })
    const b = summary('b', { user: counts({ total: 5, new: 1, noChange: 4 }), class: counts({ total: 2, new: 2 }) })
    const cmp = compareCounts(a, b)
    expect(cmp.map((c) => c.entity)).toEqual(['user', 'class'])
    expect(cmp[0]!.difference).toEqual(counts({ total: 1, new: -3, noChange: 4 }))
    expect(cmp[1]!.a).toEqual(counts({}))
    expect(cmp[1]!.difference).toEqual(counts({ total: 2, new: 2 }))
  })

  it('keeps only the data types asked for', () => {
    const a = summary('a', { user: counts({ total: 1 }), class: counts({ total: 1 }) })
    expect(compareCounts(a, a, ['class']).map((c) => c.entity)).toEqual(['class'])
  })
})

describe('a comparison as a table', () => {
  it('shows both syncs, three count lines per data type and the differing records', async () => {
    const text = await render('table', COMPARISON, '(more with --limit 3)')
    expect(text).toContain('A: sync sync-a · oneroster-csv · Completed · started 2025-03-01 02:30')
    expect(text).toContain('B: sync sync-b · oneroster-csv · Completed with Errors · started 2025-03-02 02:30 · completed 2025-03-02 02:31')
    expect(text).toMatch(/user\s+A\s+10\s+7\s+3/)
    expect(text).toMatch(/\n\s+B − A\s+1\s+3\s+-3/)
    expect(text).toContain('3 records with a different outcome (the first 2):')
    expect(text).toMatch(/u1\s+S1\s+Smith, Jo\s+New\s+not logged/)
    expect(text).toContain('(more with --limit 3)')
  })

  it('never sends a control character of the data to the terminal', async () => {
    const text = await render('table', COMPARISON)
    expect(text).not.toContain('\u001b')
  })

  it('says so when no record differs', async () => {
    expect(await render('table', { ...COMPARISON, differing: 0, records: [] })).toContain(
      'No record has a different outcome in the two syncs.',
    )
  })
})

describe('a comparison for scripts', () => {
  it('writes the differing records as CSV, "not logged" spelled out and formulas neutralized', async () => {
    const text = await render('csv', COMPARISON)
    const lines = text.replace(/^\uFEFF/, '').split('\r\n')
    expect(lines[0]).toBe(
      'Data type,Sourced ID,Student Number,Student Name,Course Number,Section Number,Outcome in A,Outcome in B,Message in A,Message in B',
    )
    expect(lines[1]).toBe('user,u1,S1,"Smith, Jo",,,New,not logged,,')
    expect(lines[2]).toContain(`"'=HYPERLINK(""http://x"",""click"")"`)
  })

  it('prints the whole comparison as JSON, null for not logged', async () => {
    expect(JSON.parse(await render('json', COMPARISON))).toEqual(JSON.parse(JSON.stringify(COMPARISON)))
  })
})
