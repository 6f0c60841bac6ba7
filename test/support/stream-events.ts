/**
 * What the stream-mode tests share: change events of a demo night read from its OneRoster
 * files, as an .ndjson file for `synclog publish` / `synclog ingest`, a free local port for
 * a service's metrics, and waiting on a condition with a bound.
 */
import { writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { join } from 'node:path'
import type { ChangeEvent } from '../../src/events/change-event.js'
import { readOneRosterBundle } from '../../src/oneroster/read-bundle.js'
import { startServe, type RunningServe } from './browser.js'

/** The change events of `<dir>/night<n>` (written with writeOneRosterBundle) as one sync of `tenant`. */
export async function nightEvents(dir: string, night: number, syncId: string, tenant = 'district-a'): Promise<ChangeEvent[]> {
  const out: ChangeEvent[] = []
  for await (const e of readOneRosterBundle({
    path: join(dir, `night${night}`),
    tenant,
    syncId,
    occurredAt: `2026-10-0${night}T02:00:00.000Z`,
  }))
    out.push(e)
  return out
}

/** Writes the events one JSON per line and gives the path back. */
export async function ndjson(path: string, events: readonly ChangeEvent[]): Promise<string> {
  await writeFile(path, `${events.map((e) => JSON.stringify(e)).join('\n')}\n`)
  return path
}

/** Polls `condition` until it holds; fails with `what()` after `timeoutMs`. */
export async function waitFor(condition: () => Promise<boolean>, timeoutMs: number, what: () => string): Promise<void> {
  const until = Date.now() + timeoutMs
  while (Date.now() < until) {
    if (await condition()) return
    await new Promise((r) => setTimeout(r, 250))
  }
  throw new Error(what())
}

/** A port no one listens on at the moment (freed right away). */
export async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

/** `synclog serve --stream` on `data` in consumer group `group`, once its /readyz answers 200; its metrics are on `metricsPort`. */
export async function startStreamServe(
  data: string,
  env: Record<string, string>,
  group: string,
): Promise<{ serve: RunningServe; metricsPort: number }> {
  const metricsPort = await freePort()
  const serve = await startServe(data, {
    env,
    args: ['--stream', '--group', group, '--metrics-port', String(metricsPort)],
    timeoutMs: 120_000,
  })
  try {
    await waitFor(
      async () => (await fetch(`http://127.0.0.1:${metricsPort}/readyz`).catch(() => undefined))?.status === 200,
      90_000,
      () => `the stream services never became ready:\n${serve.stderr()}`,
    )
  } catch (e) {
    await serve.stop(60_000)
    throw e
  }
  return { serve, metricsPort }
}

/**
 * An event as it reads back from Avro: decoding fills in the fields the schema added with a
 * default (a SyncStarted is not a preview, a decision without a reason has '').
 */
export function asDecoded(e: ChangeEvent): ChangeEvent {
  if (e.type === 'SyncStarted') return { preview: false, ...e }
  if (e.type === 'SyncApproved' || e.type === 'SyncRejected') return { reason: '', ...e }
  return e
}
