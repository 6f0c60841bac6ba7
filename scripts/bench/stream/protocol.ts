/** Messages between the stream stage and the pipeline process it runs (synclog's services, or the raw kafkajs pipe). */
import type { Counter } from 'prom-client'

export interface PipelineArgs {
  readonly brokers: string
  readonly registry: string
  /** Topic prefix of this run (topics and schema subjects of their own). */
  readonly prefix: string
  /** Consumer group prefix of this run. */
  readonly group: string
  /** synclog's data directory (chDB), for the services. */
  readonly dataDir: string
  /**
   * Which of synclog's services the process runs: both, as `synclog run all` (the default), or
   * the projector alone, as `synclog run projector` beside a `run processor` process.
   */
  readonly services?: 'all' | 'projector'
}

export type FromPipeline =
  | { readonly type: 'ready' }
  /** Syncs whose end reached the far side at `at` (epoch ms, sub-ms precision): a final status row in ClickHouse, or the SyncEnded message on the raw output topic. */
  | { readonly type: 'visible'; readonly syncIds: readonly string[]; readonly at: number }
  | { readonly type: 'stopped'; readonly peakRss: number; readonly facts: Readonly<Record<string, string>> }
  | { readonly type: 'failed'; readonly message: string }

/** `mark`: the latency phase starts (forget the throughput phase's trace); `stop`: finish and report. */
export type ToPipeline = { readonly type: 'mark' } | { readonly type: 'stop' }

/** Wall-clock milliseconds with sub-millisecond precision, comparable across processes of one machine. */
export function wallNow(): number {
  return performance.timeOrigin + performance.now()
}

export const END_HEADER = 'bench-sync-end'

/** Sends to the parent; resolves once the message is on its way (await it before exiting). */
export function send(message: FromPipeline): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send) return resolve()
    process.send(message, undefined, undefined, () => resolve())
  })
}

/** A prom-client counter's value (the counter itself prints as an object). */
export async function counted(counter: Counter): Promise<number> {
  return (await counter.get()).values[0]?.value ?? 0
}

/** Resolves when the parent says `stop`. */
export function untilStopped(): Promise<void> {
  return new Promise((resolve) =>
    process.on('message', (m: ToPipeline) => {
      if (m.type === 'stop') resolve()
    }),
  )
}

/** Runs a pipeline process's main, then exits; on an error, tells the parent why first. */
export function runPipelineProcess(main: () => Promise<void>): void {
  main().then(
    () => process.exit(0),
    async (e: unknown) => {
      await send({ type: 'failed', message: e instanceof Error ? (e.stack ?? e.message) : String(e) })
      process.exit(1)
    },
  )
}
