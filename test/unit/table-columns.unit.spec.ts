/**
 * The store writes rows as JSON arrays in TABLE_COLUMNS' order, so a field missing from
 * the list would never be written and a column listed twice would shift the rest.
 */
import { describe, expect, it } from 'vitest'
import { TABLE_COLUMNS, toCountsTableRow, toLogTableRow, toRunsTableRow } from '../../src/clickhouse/rows.js'
import type { SyncCounts, SyncStatusChanged } from '../../src/events/sync-log-event.js'
import { logRow } from '../support/log-row.js'

const status: SyncStatusChanged = {
  kind: 'SyncStatusChanged',
  tenant: 'district-a',
  syncId: 's1',
  app: 'sis',
  status: 'Completed',
  version: 2,
  startedAt: '2024-10-01T02:00:00.000Z',
  endedAt: '2024-10-01T02:05:00.000Z',
  message: '',
  modes: 'full',
  reviewedBy: '',
  reviewedAt: '',
  reviewReason: '',
}

const counts: SyncCounts = {
  kind: 'SyncCounts',
  tenant: 'district-a',
  syncId: 's1',
  app: 'sis',
  entity: 'user',
  schoolId: 'sch1',
  schoolName: 'Fremont',
  startedAt: '2024-10-01T02:00:00.000Z',
  counts: { total: 3, new: 1, updated: 1, noChange: 1, deleted: 0, skipped: 0, invalid: 0, duplicates: 0, merged: 0, excluded: 0 },
}

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
