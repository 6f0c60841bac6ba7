/**
 * Several projectors over one embedded store: on a data directory `synclog serve` owns,
 * `synclog run projector` writes through the service. Two of them in one consumer group
 * share the store with the service and its readers; a service that hangs (SIGSTOP) holds
 * them back without losing or repeating a row, and they catch up once it runs again.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { ChangeEvent } from '../../src/events/change-event.js'
import { generateDemoNights } from '../../src/demo/district.js'
import { writeOneRosterBundle } from '../../src/demo/write-oneroster.js'
import { currentSchoolYear } from '../../src/demo/school-year.js'
import { CLI, jsonLines, synclog, tempDir } from '../support/cli.js'
import { startServe, type RunningServe } from '../support/browser.js'
import { serviceEndpoints } from '../support/services.js'
import { freePort, ndjson, nightEvents, waitFor } from '../support/stream-events.js'

const { brokers, registryUrl } = serviceEndpoints()
const children: ChildProcess[] = []
const serves: RunningServe[] = []
const dirs: string[] = []
afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
  for (const s of serves.splice(0)) {
    process.kill(s.pid, 'SIGCONT')
    await s.stop(5_000)
  }
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true })
})

/** Starts `synclog run <role>` and resolves with it and its log once its /readyz answers. */
async function startRole(
  role: string,
  env: Record<string, string>,
  args: string[],
  port: number,
): Promise<{ child: ChildProcess; log: () => string }> {
  const child = spawn(process.execPath, [CLI, 'run', role, '--http-port', String(port), ...args], {
    env: { ...process.env, SYNCLOG_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  let log = ''
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (log += d))
  children.push(child)
  await waitFor(
    async () => (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined))?.status === 200,
    90_000,
    () => `${role} never became ready:\n${log}`,
  )
  return { child, log: () => log }
}

async function metric(port: number, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()
  return text
    .split('\n')
    .filter((l) => l.startsWith(name))
    .reduce((n, l) => n + Number(l.split(' ').at(-1)), 0)
}

const logOf = async (data: string): Promise<string[]> =>
  jsonLines((await synclog(['log', '--format', 'json', '--include-rejected', '--from', '2000-01-01', '--data', data])).stdout)
    .map((r) => JSON.stringify(r))
    .sort()

describe('projectors writing through the service', () => {
  it('two projectors in one group write every row once into the store a service owns, and catch up after the service hung', async () => {
    const dir = await tempDir('projectors')
    dirs.push(dir)
    const env = {
      SYNCLOG_KAFKA_BROKERS: brokers.join(','),
      SYNCLOG_REGISTRY_URL: registryUrl,
      SYNCLOG_TOPIC_PREFIX: `e2e-${process.pid}-projectors.`,
      SYNCLOG_TOPIC_PARTITIONS: '3',
    }
    const { night1, night2 } = generateDemoNights({ seed: 21, schoolYear: currentSchoolYear(new Date()) })
    await writeOneRosterBundle(join(dir, 'night1'), night1)
    await writeOneRosterBundle(join(dir, 'night2'), night2)
    const n1: ChangeEvent[] = [...(await nightEvents(dir, 1, 'night-1')), ...(await nightEvents(dir, 1, 'b-night-1', 'district-b'))]
    const n2: ChangeEvent[] = [...(await nightEvents(dir, 2, 'night-2')), ...(await nightEvents(dir, 2, 'b-night-2', 'district-b'))]

    const reference = join(dir, 'embedded')
    expect((await synclog(['ingest', await ndjson(join(dir, 'all.ndjson'), [...n1, ...n2]), '--data', reference])).code).toBe(0)
    const expected = await logOf(reference)

    const data = join(dir, 'served')
    const serve = await startServe(data)
    serves.push(serve)
    const group = ['--group', `e2e-${process.pid}-projectors`]
    await startRole('processor', env, group, await freePort())
    const ports = [await freePort(), await freePort()]
    const projectors = [
      await startRole('projector', env, [...group, '--data', data], ports[0]!),
      await startRole('projector', env, [...group, '--data', data], ports[1]!),
    ]
    const projected = async (): Promise<number> =>
      (await metric(ports[0]!, 'synclog_rows_projected_total')) + (await metric(ports[1]!, 'synclog_rows_projected_total'))

    expect((await synclog(['publish', await ndjson(join(dir, 'n1.ndjson'), n1)], { env })).code).toBe(0)
    await waitFor(
      async () => (await projected()) > 0,
      60_000,
      () => `nothing projected:\n${projectors.map((p) => p.log()).join('\n')}`,
    )

    // The service hangs while night 2 arrives: the projectors' writes time out, and they retry.
    process.kill(serve.pid, 'SIGSTOP')
    const stoppedAt = Date.now()
    expect((await synclog(['publish', await ndjson(join(dir, 'n2.ndjson'), n2)], { env })).code).toBe(0)
    const retries = async (): Promise<number> =>
      (await metric(ports[0]!, 'synclog_projector_retries_total')) + (await metric(ports[1]!, 'synclog_projector_retries_total'))
    await waitFor(
      async () => (await retries()) > 0,
      40_000,
      () => `no projector retried while the service was stopped:\n${projectors.map((p) => p.log()).join('\n')}`,
    )
    await new Promise((r) => setTimeout(r, Math.max(0, 15_000 - (Date.now() - stoppedAt))))
    process.kill(serve.pid, 'SIGCONT')

    await waitFor(
      async () => (await logOf(data)).length >= expected.length,
      120_000,
      () => 'the projectors did not catch up after the service ran again',
    )
    expect(await logOf(data)).toEqual(expected)
    expect(projectors.every((p) => p.child.exitCode === null)).toBe(true)
    expect(projectors.map((p) => p.log()).join('\n')).toContain('STORE_UNAVAILABLE')
  }, 300_000)
})
