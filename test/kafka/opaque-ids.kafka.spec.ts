/**
 * Identifiers are opaque in stream mode too: a tenant, sync id or sourcedId with
 * colons, slashes, spaces or non-ASCII letters (URNs, as many SIS use) reaches
 * every row whole through Kafka keys, the processor's changelog and the store,
 * and the log equals the embedded ingest of the same events.
 */
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { ChangeEvent } from '../../src/events/change-event.js'
import { CLI, jsonLines, synclog, tempDir } from '../support/cli.js'
import { serviceEndpoints } from '../support/services.js'
import { FULL, SyncScript, section, student, teacher } from '../support/sis.js'
import { freePort, ndjson, waitFor } from '../support/stream-events.js'

const TENANT = 'urn:district:Émerson Unified/01'
const APP = 'sis: nightly/ü'
const stops: (() => void)[] = []
afterEach(() => {
  for (const stop of stops.splice(0)) stop()
})

function night(syncId: string, at: string, students: number): ChangeEvent[] {
  const s = new SyncScript(TENANT, syncId, APP, at, FULL)
    .upsert('org', 'urn:org:d/1', { name: 'Émerson Unified', type: 'district' })
    .upsert('org', 'urn:org:sch 1:é', { name: 'Fremont High', type: 'school', parentSourcedId: 'urn:org:d/1' })
    .upsert('academicSession', 'term:2024/fall', {
      title: 'Fall 2024',
      type: 'semester',
      startDate: '2024-08-15',
      endDate: '2025-01-15',
      schoolYear: '2025',
    })
    .upsert('course', 'course:ENG/101 ü', { title: 'English', courseCode: 'ENG 101', orgSourcedId: 'urn:org:sch 1:é' })
    .upsert('user', 'user:tch/1 ñ', teacher('José', 'Núñez', 'urn:org:sch 1:é'))
    .upsert('class', 'class:ENG/101:1 ø', section('course:ENG/101 ü', 'urn:org:sch 1:é', '101', { termSourcedIds: ['term:2024/fall'] }))
    .upsert('enrollment', 'enr:tch/1 ñ', {
      classSourcedId: 'class:ENG/101:1 ø',
      schoolSourcedId: 'urn:org:sch 1:é',
      userSourcedId: 'user:tch/1 ñ',
      role: 'teacher',
      primary: 'true',
    })
  for (let i = 1; i <= students; i++) {
    s.upsert('user', `user:stu/${i} ç`, student(`Zoë${i}`, 'Ørsted', 'urn:org:sch 1:é', `S:${i}/x`))
    s.upsert('enrollment', `enr:stu/${i} ç`, {
      classSourcedId: 'class:ENG/101:1 ø',
      schoolSourcedId: 'urn:org:sch 1:é',
      userSourcedId: `user:stu/${i} ç`,
      role: 'student',
      beginDate: '2024-08-15',
      endDate: '2025-01-15',
    })
  }
  return s.end()
}

const logOf = async (data: string): Promise<Record<string, unknown>[]> =>
  jsonLines((await synclog(['log', '--format', 'json', '--include-rejected', '--from', '2000-01-01', '--data', data])).stdout)
const sorted = (rows: Record<string, unknown>[]): string[] => rows.map((r) => JSON.stringify(r)).sort()

describe('stream mode with identifiers as SIS write them', () => {
  it('keeps tenant, sync ids and sourcedIds with colons, slashes, spaces and accents whole in every row, as the embedded ingest does', async () => {
    const dir = await tempDir('opaque-ids')
    const { brokers, registryUrl } = serviceEndpoints()
    const prefix = `opaque-${process.pid}.`
    const env = {
      SYNCLOG_KAFKA_BROKERS: brokers.join(','),
      SYNCLOG_REGISTRY_URL: registryUrl,
      SYNCLOG_TOPIC_PREFIX: prefix,
      SYNCLOG_TOPIC_PARTITIONS: '3',
    }
    const events = [...night('night:1/ü x', '2024-10-01T02:00:00Z', 3), ...night('night:2/ü x', '2024-10-02T02:00:00Z', 4)]

    const data = join(dir, 'stream')
    const port = await freePort()
    const child = spawn(
      process.execPath,
      [CLI, 'run', 'all', '--http-port', String(port), '--group', `opaque-${process.pid}`, '--data', data],
      {
        env: { ...process.env, ...env },
        stdio: 'ignore',
      },
    )
    stops.push(() => child.exitCode === null && child.kill('SIGKILL'))
    await waitFor(
      async () => (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined))?.status === 200,
      90_000,
      () => 'run all never became ready',
    )
    expect((await synclog(['publish', await ndjson(join(dir, 'events.ndjson'), events)], { env })).code).toBe(0)
    const metric = async (name: string): Promise<number> => {
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()
      return Number(new RegExp(`^${name} (\\d+)`, 'm').exec(text)?.[1] ?? 0)
    }
    await waitFor(
      async () => (await metric('synclog_events_processed_total')) >= events.length,
      120_000,
      () => 'the processor did not take every event',
    )
    // Then the projector: done once what it wrote stops growing for 3 s.
    let last = -1
    await waitFor(
      async () => {
        await new Promise((r) => setTimeout(r, 3000))
        const now = await metric('synclog_rows_projected_total')
        const settled = now > 0 && now === last
        last = now
        return settled
      },
      120_000,
      () => 'the projector never settled',
    )
    child.kill('SIGTERM')
    await new Promise((r) => child.once('exit', r))

    const reference = join(dir, 'embedded')
    expect((await synclog(['ingest', join(dir, 'events.ndjson'), '--data', reference])).code).toBe(0)
    const streamed = await logOf(data)
    expect(sorted(streamed)).toEqual(sorted(await logOf(reference)))
    expect(new Set(streamed.map((r) => r.syncId))).toEqual(new Set(['night:1/ü x', 'night:2/ü x']))
    // The tenant came through whole: asking for it by name finds every row.
    expect(
      sorted(
        jsonLines(
          (await synclog(['log', '--format', 'json', '--include-rejected', '--from', '2000-01-01', '--tenant', TENANT, '--data', data]))
            .stdout,
        ),
      ),
    ).toEqual(sorted(streamed))
    expect(streamed.some((r) => r.action === 'Created Roster' && r.sourcedId === 'enr:stu/4 ç' && r.studentNumber === 'S:4/x')).toBe(true)
  })
})
