/**
 * `synclog serve --stream` against the real broker and registry: the service runs the
 * stream processor and projector over its own embedded store, so `synclog log` (a CLI
 * process, sent to the service) and the API read the log while events still arrive; and
 * what it ends with equals the embedded `synclog ingest` of the very same events.
 */
import { rm } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { ChangeEvent } from '../../src/events/change-event.js'
import type { LogRecord } from '../../src/clickhouse/types.js'
import { generateDemoNights } from '../../src/demo/district.js'
import { writeOneRosterBundle } from '../../src/demo/write-oneroster.js'
import { currentSchoolYear } from '../../src/demo/school-year.js'
import { jsonLines, synclog, tempDir } from '../support/cli.js'
import { createToken, startServe, walkPages, type RunningServe } from '../support/browser.js'
import { serviceEndpoints } from '../support/services.js'
import { freePort, ndjson, nightEvents, waitFor } from '../support/stream-events.js'

const { brokers, registryUrl } = serviceEndpoints()
const cleanup: (() => Promise<unknown>)[] = []
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c()
})

/** `synclog log` of everything, one JSON text per row, sorted; `filter` narrows it (`--sync`, `--tenant`). */
async function logOf(data: string, ...filter: string[]): Promise<string[]> {
  const run = await synclog(['log', '--format', 'json', '--include-rejected', '--from', '2000-01-01', ...filter, '--data', data])
  expect(run.code, run.stderr).toBe(0)
  return jsonLines(run.stdout)
    .map((r) => JSON.stringify(r))
    .sort()
}

/** The log `synclog ingest` of these events gives, in a data directory of its own. */
async function ingested(dir: string, name: string, events: readonly ChangeEvent[], ...filter: string[]): Promise<string[]> {
  const data = join(dir, `reference-${name}`)
  const run = await synclog(['ingest', await ndjson(join(dir, `${name}.ndjson`), events), '--data', data])
  expect(run.code, run.stderr).toBe(0)
  return logOf(data, ...filter)
}

describe('synclog serve --stream', () => {
  it('shows the rows of the syncs already streamed, through the CLI and the API, while later events still arrive, and ends with the rows of a plain ingest', async () => {
    const dir = await tempDir('serve-stream')
    cleanup.push(() => rm(dir, { recursive: true, force: true }))
    const prefix = `e2e-serve-${process.pid}-${Date.now()}.`
    const env = {
      SYNCLOG_KAFKA_BROKERS: brokers.join(','),
      SYNCLOG_REGISTRY_URL: registryUrl,
      SYNCLOG_TOPIC_PREFIX: prefix,
      SYNCLOG_TOPIC_PARTITIONS: '3',
    }
    const { night1, night2 } = generateDemoNights({ seed: 21, schoolYear: currentSchoolYear(new Date()) })
    await writeOneRosterBundle(join(dir, 'night1'), night1)
    await writeOneRosterBundle(join(dir, 'night2'), night2)
    const first = await nightEvents(dir, 1, 'night-1')
    const second = await nightEvents(dir, 1, 'night-1b', 'district-b')
    const third = await nightEvents(dir, 2, 'night-2')
    // district-b's sync stays open (no SyncEnded yet) while the log is read: its events are still arriving.
    const secondOpen = second.slice(0, -1)
    expect(second.at(-1)?.type).toBe('SyncEnded')
    const all = [...first, ...second, ...third]

    const data = join(dir, 'served')
    const token = await createToken(data, 'ops')
    const metricsPort = await freePort()
    const serve: RunningServe = await startServe(data, {
      env,
      args: ['--stream', '--group', `e2e-serve-${process.pid}`, '--metrics-port', String(metricsPort)],
      timeoutMs: 120_000,
    })
    let stopped = false
    cleanup.push(async () => {
      if (!stopped) await serve.stop()
    })
    await waitFor(
      async () => (await fetch(`http://127.0.0.1:${metricsPort}/readyz`).catch(() => undefined))?.status === 200,
      90_000,
      () => `the stream services never became ready:\n${serve.stderr()}`,
    )

    const publish = async (name: string, events: readonly ChangeEvent[]): Promise<void> => {
      const run = await synclog(['publish', await ndjson(join(dir, `${name}.ndjson`), events)], { env })
      expect(run.code, run.stderr).toBe(0)
    }
    const firstRows = await ingested(dir, 'first', first)
    expect(firstRows.length).toBeGreaterThan(100)

    // Batch 1: a whole sync. Its rows show up in the log while the service keeps running.
    await publish('first', first)
    const ofFirst = ['--tenant', 'district-a', '--sync', 'night-1']
    await waitFor(
      async () => (await logOf(data, ...ofFirst)).length === firstRows.length,
      90_000,
      () => `the first sync's rows never showed:\n${serve.stderr()}`,
    )

    // Batch 2 (an open sync), published while the CLI and the API read the first one's rows.
    const publishing = publish('second-open', secondOpen)
    const [cliRows, apiRows] = await Promise.all([
      logOf(data, ...ofFirst),
      walkPages(serve.base, '/api/v1/log?tenant=district-a&sync=night-1&from=2000-01-01&includeRejected=true', token),
    ])
    await publishing
    expect(cliRows).toEqual(firstRows)
    expect(apiRows.length).toBe(firstRows.length)
    expect(new Set(apiRows.map((r: LogRecord) => `${r.syncId}:${r.seq}`)).size).toBe(firstRows.length)
    // With district-b's sync still open, the first sync is readable and nothing of the open one is final yet.
    expect(await logOf(data, ...ofFirst)).toEqual(firstRows)
    // The open sync is listed as Running as soon as its start is projected.
    const openSyncRunning = async (): Promise<boolean> => {
      const run = await synclog(['syncs', '--format', 'json', '--from', '2000-01-01', '--data', data])
      return (
        run.code === 0 &&
        (JSON.parse(run.stdout) as { syncId: string; status: string }[]).some((s) => s.syncId === 'night-1b' && s.status === 'Running')
      )
    }
    await waitFor(openSyncRunning, 60_000, () => `the open sync never showed as Running:\n${serve.stderr()}`)

    // The rest: the end of district-b's sync, then another night of district-a.
    await publish('rest', [second.at(-1)!, ...third])
    const expected = await ingested(dir, 'all', all)
    await waitFor(
      async () => (await logOf(data)).length === expected.length,
      120_000,
      () => `the stream never caught up:\n${serve.stderr()}`,
    )
    expect(await logOf(data)).toEqual(expected)
    const apiAll = await walkPages(serve.base, '/api/v1/log?from=2000-01-01&includeRejected=true', token)
    expect(apiAll.length).toBe(expected.length)

    // SIGTERM drains the stream services, then closes the store and gives the directory back.
    stopped = true
    expect(await serve.stop(60_000)).toBe(0)
    expect(existsSync(join(data, 'synclog.lock'))).toBe(false)
    expect(await logOf(data)).toEqual(expected)
  })

  it('decides a sync held in the stream from a shell and from the API, as a SIS publishing the decision would', async () => {
    const dir = await tempDir('serve-stream-hold')
    cleanup.push(() => rm(dir, { recursive: true, force: true }))
    const prefix = `e2e-hold-${process.pid}-${Date.now()}.`
    const env = {
      SYNCLOG_KAFKA_BROKERS: brokers.join(','),
      SYNCLOG_REGISTRY_URL: registryUrl,
      SYNCLOG_TOPIC_PREFIX: prefix,
      SYNCLOG_TOPIC_PARTITIONS: '3',
    }
    const { night1, night2 } = generateDemoNights({ seed: 23, schoolYear: currentSchoolYear(new Date()) })
    await writeOneRosterBundle(join(dir, 'night1'), night1)
    // Night 2 without a third of its student enrollments: a full sync deleting that many goes On Hold.
    await writeOneRosterBundle(join(dir, 'night3'), {
      ...night2,
      enrollments: night2.enrollments.filter((e, i) => e.role !== 'student' || i % 3 !== 0),
    })
    const data = join(dir, 'served')
    const reviewer = await createToken(data, 'reviewer', '--tenant', 'district-h', '--role', 'reviewer')
    const metricsPort = await freePort()
    const serve: RunningServe = await startServe(data, {
      env,
      args: ['--stream', '--group', `e2e-hold-${process.pid}`, '--metrics-port', String(metricsPort)],
      timeoutMs: 120_000,
    })
    cleanup.push(() => serve.stop())
    await waitFor(
      async () => (await fetch(`http://127.0.0.1:${metricsPort}/readyz`).catch(() => undefined))?.status === 200,
      90_000,
      () => `the stream services never became ready:\n${serve.stderr()}`,
    )
    const publish = async (name: string, events: readonly ChangeEvent[]): Promise<void> => {
      const run = await synclog(['publish', await ndjson(join(dir, `${name}.ndjson`), events)], { env })
      expect(run.code, run.stderr).toBe(0)
    }
    const statusOf = async (syncId: string): Promise<string | undefined> => {
      const run = await synclog(['syncs', '--format', 'json', '--from', '2000-01-01', '--data', data])
      return (JSON.parse(run.stdout) as { syncId: string; status: string }[]).find((s) => s.syncId === syncId)?.status
    }
    const held = async (syncId: string): Promise<void> => {
      await publish(syncId, await nightEvents(dir, 3, syncId, 'district-h'))
      await waitFor(
        async () => (await statusOf(syncId)) === 'On Hold',
        90_000,
        () => `${syncId} never showed On Hold:\n${serve.stderr()}`,
      )
    }
    await publish('h-1', await nightEvents(dir, 1, 'h-1', 'district-h'))
    await held('h-2')

    // From a shell: the CLI is sent to the service, which publishes the decision and waits for it to be projected.
    const rejected = await synclog(['reject', 'h-2', '--by', 'the registrar', '--reason', 'wrong term', '--data', data])
    expect(rejected.code, rejected.stderr).toBe(0)
    expect(rejected.stdout).toBe('Sync h-2 is now Rejected.\n')
    const again = await synclog(['approve', 'h-2', '--reason', 'changed my mind', '--data', data])
    expect(again.code).not.toBe(0)
    expect(again.stderr).toMatch(/h-2 is Rejected, not On Hold or Preview/)

    // The same deletions again are held again (the rejection left the state as before), and a reviewer approves them over HTTP.
    await held('h-3')
    const res = await fetch(`${serve.base}/api/v1/syncs/h-3/approve`, {
      method: 'POST',
      body: JSON.stringify({ reason: 'the registrar confirmed the deletions' }),
      headers: { authorization: `Bearer ${reviewer}`, 'content-type': 'application/json' },
    })
    const body = (await res.json()) as { status: string; message: string }
    expect(res.status, JSON.stringify(body)).toBe(200)
    expect(body.status).toMatch(/^Completed/)
    expect(body.message).toMatch(/approved by token reviewer/)
    expect(await statusOf('h-3')).toBe(body.status)
  })
})
