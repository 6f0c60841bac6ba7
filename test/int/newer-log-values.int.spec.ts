/**
 * A newer synclog may log actions and outcomes this one does not know. The sync-log schema
 * declares `action` and `outcome` as strings, so such rows are decoded, stored and read back
 * as they are: an older projector keeps them instead of dropping them.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { avroTypeFor, decodeSyncLogEvent, syncLogEventSchema } from '../../src/events/avro.js'
import type { LogRow } from '../../src/events/sync-log-event.js'
import { silentLogger } from '../support/silent-logger.js'
import { migrate } from '../../src/clickhouse/migrations.js'
import { openClickHouse, type ClickHouse } from '../../src/clickhouse/open.js'
import { SyncLogStore, UNSCOPED } from '../../src/clickhouse/sync-log-store.js'

const logger = silentLogger()
let dataDir: string
let ch: ClickHouse
let store: SyncLogStore

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'synclog-newer-values-'))
  ch = await openClickHouse({ dataDir, logger })
  await migrate(ch.client, logger)
  store = new SyncLogStore(ch.client, logger)
})

afterAll(async () => {
  await ch?.close()
  if (dataDir) await rm(dataDir, { recursive: true, force: true })
})

/** A row of a sync-log event as a newer synclog writes it (the Avro value, without `kind`). */
function newerRow(
  seq: number,
  action: string,
  outcome: string,
): Omit<LogRow, 'kind' | 'action' | 'outcome'> & { action: string; outcome: string } {
  return {
    tenant: 'district-newer',
    syncId: 'n-1',
    seq,
    date: `2026-10-18T02:00:0${seq}.000Z`,
    action,
    studentNumber: 'S1',
    studentName: 'Ünal, Zoë',
    courseNumber: 'M101',
    courseName: 'Algebra I',
    sectionNumber: '101',
    field: '',
    oldValue: '',
    newValue: '',
    servingDistrictId: 'd1',
    servingDistrict: 'Emerson',
    servingSchoolId: 'sch-1',
    servingSchool: 'School 1',
    homeDistrictId: 'd1',
    homeDistrict: 'Emerson',
    homeSchoolId: 'sch-1',
    homeSchool: 'School 1',
    app: 'sis-nightly',
    entity: 'enrollment',
    sourcedId: `e${seq}`,
    outcome,
    message: 'from a newer synclog',
    recordSchoolId: 'sch-1',
    cause: '',
  }
}

describe('rows of actions and outcomes a newer synclog wrote', () => {
  it('are decoded with their action and outcome as written, and stored and read back whole', async () => {
    // The writer: the same schema a newer synclog registers (action and outcome are strings there).
    const writer = avroTypeFor(syncLogEventSchema)
    const written = [newerRow(1, 'Moved Roster', 'New'), newerRow(2, 'Created Roster', 'Quarantined')]
    const events = written.map((row) => decodeSyncLogEvent(writer.toBuffer({ payload: { 'synclog.v1.LogRow': row } })))
    expect(events.map((e) => e.kind === 'LogRow' && [e.action, e.outcome])).toEqual([
      ['Moved Roster', 'New'],
      ['Created Roster', 'Quarantined'],
    ])

    await store.write(events)
    const page = await store.queryLog(UNSCOPED, { tenant: 'district-newer' })
    expect(page.rows.map((r) => [r.seq, r.action, r.outcome, r.studentName]).sort()).toEqual([
      [1, 'Moved Roster', 'New', 'Ünal, Zoë'],
      [2, 'Created Roster', 'Quarantined', 'Ünal, Zoë'],
    ])
  })
})
