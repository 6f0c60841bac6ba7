/**
 * The hold exists for mass deletions, so the largest of them must be storable: a full
 * sync deleting 200,000 enrollments is held (its changes in the processor-state changelog,
 * in chunks), survives the processor being killed, and, approved afterwards, is applied by
 * the new processor, which knew the hold only from the changelog.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { ChangeEvent } from '../../src/events/change-event.js'
import type { SyncSummary } from '../../src/clickhouse/types.js'
import { CLI, jsonLines, synclog, tempDir } from '../support/cli.js'
import { classroomRoster } from '../support/classroom-roster.js'
import { serviceEndpoints } from '../support/services.js'
import { DELTA, SyncScript } from '../support/sis.js'
import { freePort, ndjson, waitFor } from '../support/stream-events.js'
import { startServe } from '../support/browser.js'

const { brokers, registryUrl } = serviceEndpoints()
const CLASSES = 100
const STUDENTS = 2000
const ENROLLMENTS = CLASSES * STUDENTS + CLASSES
const cleanup: (() => Promise<unknown>)[] = []
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c()
})

interface Service {
  readonly child: ChildProcess
  readonly log: () => string
}

/** `synclog run <role>`, ready once its /readyz answers; killed after the test whatever happens. */
async function run(role: 'processor' | 'projector', env: Record<string, string>, args: readonly string[]): Promise<Service> {
  const port = await freePort()
  const child = spawn(process.execPath, [CLI, 'run', role, '--http-port', String(port), ...args], {
    env: { ...process.env, SYNCLOG_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  let text = ''
  child.stderr!.on('data', (d: Buffer) => (text = (text + d.toString()).slice(-20_000)))
  const exited = new Promise((r) => child.once('exit', r))
  cleanup.push(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    await exited
  })
  await waitFor(
    async () => (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined))?.status === 200,
    120_000,
    () => `${role} never became ready:\n${text}`,
  )
  return { child, log: () => text }
}

async function syncs(data: string): Promise<SyncSummary[]> {
  const out = await synclog(['syncs', '--format', 'json', '--from', '2000-01-01', '--data', data])
  return out.code === 0 ? (JSON.parse(out.stdout) as SyncSummary[]) : []
}

async function statusOf(data: string, syncId: string): Promise<string | undefined> {
  return (await syncs(data)).find((s) => s.syncId === syncId)?.status
}

describe('a held full sync of 200,000 enrollment changes', () => {
  it('is stored, survives a processor restart, and is approved and applied', async () => {
    const started = Date.now()
    // Event times near now, as a live SIS sends them (silence is measured from when the processor last saw them move).
    const at = (s: number): string => new Date(started + s * 1000).toISOString()
    const dir = await tempDir('held-200k')
    cleanup.push(() => rm(dir, { recursive: true, force: true }))
    const group = `held-200k-${process.pid}-${Date.now()}`
    const env = {
      SYNCLOG_KAFKA_BROKERS: brokers.join(','),
      SYNCLOG_REGISTRY_URL: registryUrl,
      SYNCLOG_TOPIC_PREFIX: `${group}.`,
      SYNCLOG_TOPIC_PARTITIONS: '2',
    }
    const data = join(dir, 'data')
    const publish = async (name: string, events: readonly ChangeEvent[]): Promise<void> => {
      const out = await synclog(['publish', await ndjson(join(dir, name), events)], { env, timeoutMs: 300_000 })
      expect(out.code, out.stderr).toBe(0)
    }

    // The service owns the embedded store: the projector writes through it and `synclog syncs` reads through it.
    const serve = await startServe(data)
    cleanup.push(() => serve.stop())
    await run('projector', env, ['--group', group, '--data', data])
    let processor = await run('processor', env, ['--group', group])

    // Given night 1's roster, and night 2: a full enrollment file with no rows (every enrollment deleted).
    await publish('night-1.ndjson', classroomRoster({ syncId: 'night-1', at: at(0), classes: CLASSES, students: STUDENTS }))
    await publish('night-2.ndjson', new SyncScript('district-a', 'night-2', 'sis-nightly', at(1), { enrollment: 'full' }).end())
    await waitFor(
      async () => (await statusOf(data, 'night-2')) === 'On Hold',
      600_000,
      () => `night 2 was never held:\n${processor.log()}`,
    )
    const summary = await synclog(['summary', 'night-2', '--format', 'json', '--data', data])
    const held = JSON.parse(summary.stdout) as SyncSummary
    expect(held.counts.enrollment?.deleted).toBe(ENROLLMENTS)
    const heldAt = Date.now()

    // When the processor dies and a new one takes over, then the reviewer approves.
    processor.child.kill('SIGKILL')
    await new Promise((r) => processor.child.once('exit', r))
    processor = await run('processor', env, ['--group', group])
    await publish('approve.ndjson', [
      {
        type: 'SyncApproved',
        eventId: 'night-2:approved',
        tenant: 'district-a',
        syncId: 'night-2',
        app: 'cli',
        occurredAt: at(2),
        by: 'reviewer',
      },
    ])
    await waitFor(
      async () => (await statusOf(data, 'night-2')) === 'Completed',
      300_000,
      () => `night 2 was never approved:\n${processor.log()}`,
    )
    const approvedAt = Date.now()

    // Then the deletions are applied: an enrollment sent again is New, against a section and a student the new processor restored.
    await publish(
      'night-3.ndjson',
      new SyncScript('district-a', 'night-3', 'sis-nightly', at(3), DELTA)
        .upsert('enrollment', 'e-7-77', { classSourcedId: 'k7', schoolSourcedId: 'sch1', userSourcedId: 'stu77', role: 'student' })
        .end(),
    )
    await waitFor(
      async () => (await statusOf(data, 'night-3')) === 'Completed',
      120_000,
      () => `night 3 never completed:\n${processor.log()}`,
    )
    const rows = jsonLines((await synclog(['log', '--sync', 'night-3', '--format', 'json', '--data', data])).stdout)
    expect(rows.filter((r) => r.sourcedId === 'e-7-77').map((r) => r.outcome)).toContain('New')
    expect(rows.filter((r) => r.outcome === 'Skipped')).toEqual([])
    expect(processor.log()).toMatch(/state restored from changelog/)
    console.log(
      `held-200k: held after ${Math.round((heldAt - started) / 1000)} s, restored and approved in ${Math.round((approvedAt - heldAt) / 1000)} s, ` +
        `${Math.round((Date.now() - started) / 1000)} s in all`,
    )
  }, 900_000)
})
