/**
 * Row by row: the store the stream wrote against the embedded ingest of the same events.
 * Rows are compared whole (every column `synclog log --format json` prints). A row of the
 * reference that the store lacks is lost; a row the store holds more often than the
 * reference is duplicated; a store row that matches no reference row is wrong, or, when the
 * reference has no row of the same identity (sync, entity, record, action, field) left to
 * pair it with, an extra row, counted as duplicated.
 */
export interface Comparison {
  readonly expected: number
  readonly actual: number
  readonly lost: number
  readonly duplicated: number
  readonly wrong: number
  /** The syncs with any difference. */
  readonly differingSyncs: string[]
  /** A few of the differences (the rows' identity only: no names in the report), for the report. */
  readonly examples: string[]
}

type Row = Record<string, unknown>

const identity = (r: Row): string => JSON.stringify([r.syncId, r.entity, r.sourcedId, r.action, r.field])
/** What the report shows of a row. */
const shown = (r: Row): string =>
  JSON.stringify(
    r.status === undefined
      ? { syncId: r.syncId, entity: r.entity, sourcedId: r.sourcedId, action: r.action, field: r.field, outcome: r.outcome }
      : { syncId: r.syncId, status: r.status, total: r.total, errors: r.errors },
  )

function counts(rows: readonly Row[]): Map<string, { row: Row; n: number }> {
  const m = new Map<string, { row: Row; n: number }>()
  for (const row of rows) {
    const key = JSON.stringify(row)
    const seen = m.get(key)
    if (seen === undefined) m.set(key, { row, n: 1 })
    else seen.n++
  }
  return m
}

export function compareRows(expected: readonly Row[], actual: readonly Row[]): Comparison {
  const want = counts(expected)
  const got = counts(actual)
  let duplicated = 0
  const missing: Row[] = []
  const unmatched: Row[] = []
  for (const [key, { row, n }] of want) {
    const have = got.get(key)?.n ?? 0
    for (let i = have; i < n; i++) missing.push(row)
    if (have > n) duplicated += have - n
  }
  for (const [key, { row, n }] of got) if (!want.has(key)) for (let i = 0; i < n; i++) unmatched.push(row)
  // A store row that takes the place of a missing one (same identity, other values) is wrong, not lost plus extra.
  const missingById = new Map<string, Row[]>()
  for (const r of missing) missingById.set(identity(r), [...(missingById.get(identity(r)) ?? []), r])
  let wrong = 0
  const examples: string[] = []
  const differing = new Set<string>()
  for (const r of unmatched) {
    differing.add(String(r.syncId))
    const pair = missingById.get(identity(r))?.pop()
    if (pair === undefined) {
      duplicated++
      if (examples.length < 5) examples.push(`extra: ${shown(r)}`)
      continue
    }
    wrong++
    if (examples.length < 5) examples.push(`wrong: ${shown(r)}, expected ${shown(pair)}`)
  }
  const lost = [...missingById.values()].reduce((n, rs) => n + rs.length, 0)
  for (const rs of missingById.values()) {
    for (const r of rs) {
      differing.add(String(r.syncId))
      if (examples.length < 5) examples.push(`lost: ${shown(r)}`)
    }
  }
  for (const [key, { row, n }] of got) if ((want.get(key)?.n ?? 0) < n && want.has(key)) differing.add(String(row.syncId))
  return { expected: expected.length, actual: actual.length, lost, duplicated, wrong, differingSyncs: [...differing].sort(), examples }
}
