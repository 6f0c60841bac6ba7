/**
 * The measured pipeline of the stream stage: synclog's processor and projector
 * in one process, wired as `synclog run all` wires them (same Kafka client,
 * serde, topics, fold options and store), with embedded ClickHouse in its own
 * directory; or, with `services: 'projector'`, the projector alone, as
 * `synclog run projector` runs it beside a processor process (processor-child.ts).
 * The one addition is a store that reports, after each write, the syncs whose
 * final status it has just made visible; since a sync's rows and counts are
 * written before its status, that is the moment its rows can be read.
 */
import type { ClickHouseClient } from '@clickhouse/client'
import { migrate } from '../../../src/clickhouse/migrations.js'
import { openClickHouse } from '../../../src/clickhouse/open.js'
import { SyncLogStore } from '../../../src/clickhouse/sync-log-store.js'
import type { SyncLogEvent } from '../../../src/events/sync-log-event.js'
import { prepareStream } from '../../../src/stream/prepare-stream.js'
import type { Logger } from '../../../src/logging/logger.js'
import { ProjectorService } from '../../../src/stream/projector-service.js'
import { StreamMetrics } from '../../../src/stream/metrics.js'
import { ownPeakRss } from '../proc.js'
import { BatchTrace, tracedKafka } from './batch-trace.js'
import { pipelineClient, synclogProcessor } from './pipeline-client.js'
import { counted, runPipelineProcess, send, wallNow, type ToPipeline } from './protocol.js'

class TimedStore extends SyncLogStore {
  constructor(client: ClickHouseClient, logger: Logger) {
    super(client, logger)
  }

  override async write(events: readonly SyncLogEvent[]): Promise<void> {
    await super.write(events)
    const at = wallNow()
    const done: string[] = []
    for (const e of events) if (e.kind === 'SyncStatusChanged' && e.status !== 'Running') done.push(e.syncId)
    if (done.length > 0) void send({ type: 'visible', syncIds: done, at })
  }
}

async function main(): Promise<void> {
  const client = pipelineClient(true)
  const { args, config, logger } = client
  const trace = new BatchTrace()
  const kafka = tracedKafka(client.kafka, trace)
  const { topics, serde } = await prepareStream(kafka, config, logger)
  const ch = await openClickHouse({ dataDir: config.dataDir, logger })
  await migrate(ch.client, logger)
  const store = new TimedStore(ch.client, logger)
  const metrics = new StreamMetrics()
  const projector = new ProjectorService({
    kafka,
    serde,
    topics,
    groupId: `${args.group}-projector`,
    store,
    logger: logger.child({ component: 'projector' }),
    metrics,
  })
  const processor = args.services === 'projector' ? null : synclogProcessor(client, kafka, serde, topics, metrics)
  await projector.start()
  await processor?.start()
  while (!metrics.ready) await new Promise((r) => setTimeout(r, 50))
  await send({ type: 'ready' })

  await new Promise<void>((resolve) =>
    process.on('message', (m: ToPipeline) => {
      if (m.type === 'mark') trace.reset()
      else resolve()
    }),
  )
  await processor?.stop()
  await projector.stop()
  const count = async (query: string): Promise<string> => {
    const rs = await ch.client.query({ query, format: 'JSONEachRow' })
    const [row] = await rs.json<{ n: number | string }>()
    return String(row?.n ?? '?')
  }
  const projected = `${await counted(metrics.rowsProjected)} sync-log events projected`
  const work = processor
    ? `${await counted(metrics.eventsProcessed)} change events folded, ${projected}, ${await counted(metrics.deadLetters)} dead letters`
    : projected
  const facts: Record<string, string> = {
    [`stream: synclog services${processor ? '' : ', projector process'}`]: `${work}; ClickHouse holds ${await count('SELECT count() AS n FROM sync_log FINAL')} log rows of ${await count('SELECT count() AS n FROM sync_runs FINAL')} syncs`,
  }
  // The breakdown times processor batches against projector batches: both must be in this process.
  if (processor) facts['stream: synclog latency breakdown (latency phase, from kafkajs batch events)'] = trace.summary()
  await ch.close()
  await send({ type: 'stopped', peakRss: ownPeakRss(), facts })
}

runPipelineProcess(main)
