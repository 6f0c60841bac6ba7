/**
 * The store writes rows as JSON arrays in TABLE_COLUMNS' order, so a field missing from
 * the list would never be written and a column listed twice would shift the rest.
 */
import { describe, expect, it } from 'vitest'
import { TABLE_COLUMNS, toCountsTableRow, toLogTableRow, toRunsTableRow } from '../../src/clickhouse/rows.js'
import { logRow, statusChange as status, syncCounts as counts } from '../support/log-row.js'

describe('the columns the store writes', () => {
  const tables = [
    ['sync_log', toLogTableRow(logRow), TABLE_COLUMNS.sync_log],
    ['sync_runs', toRunsTableRow(status), TABLE_COLUMNS.sync_runs],
    ['sync_counts', toCountsTableRow(counts), TABLE_COLUMNS.sync_counts],
  ] as const
  for (const [table, row, columns] of tables) {
    it(`name every field of a ${table} row once, so each value lands in its own column`, () => {
      expect(new Set(columns).size).toBe(columns.length)
      expect([...columns].sort()).toEqual(Object.keys(row).sort())
    })
  }
})
