/**
 * stream: change events through the real broker, end to end, and the latency of a small sync.
 *
 * Kafka and the registry come from scripts/services.sh (started if not running, and then
 * stopped again) or from --brokers/--registry. Every run uses topics, schema subjects and
 * consumer groups of its own (prefix `bench-<id>.`) and deletes its topics at the end.
 *
 * The messages are Avro-encoded once, before anything is timed, and both pipelines get the
 * same bytes from the same publisher (synclog's idempotent producer, 500 per awaited send,
 * as `synclog publish` sends them):
 *  - throughput: every night but the last (night 1 is the initial full load) published as fast
 *    as the producer goes; the figure is events / (first send -> last sync visible);
 *  - latency: the last night's changes regrouped into small delta syncs, one sent every
 *    `latencyIntervalMs` (far below capacity); latency = send of the sync -> visible.
 *
 * figure   = synclog's processor + projector in one process, wired as `synclog run all`
 *            (transactions per batch, state changelog, chDB); "visible" = the store has
 *            written the sync's final status, after its rows and counts;
 * baseline = raw kafkajs: consume the same messages, produce them unchanged to a second
 *            topic, consume that; "visible" = the sync's last message read from it.
 */
import { fork, type ChildProcess } from 'node:child_process'
import { createWriteStream } from 'node:fs'
import { mkdir, readFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Admin, Kafka, Producer } from 'kafkajs'
import { loadConfig } from '../../../src/config/config.js'
import { ENTITY_TYPES, type ChangeEvent, type EntityType, type SyncMode } from '../../../src/events/change-event.js'
import { AvroSerde } from '../../../src/kafka/avro-serde.js'
import { COMMAND_RETRY, PRODUCER_RETRY, createKafka, idempotentProducer } from '../../../src/kafka/kafka-client.js'
import { ensureTopics, topicNames, type TopicNames } from '../../../src/kafka/topics.js'
import { parseNdjsonLine } from '../../../src/ndjson/read-ndjson.js'
import { createLogger } from '../../../src/logging/logger.js'
import { ndjsonFile } from '../../../src/generate/generate.js'
import { BENCH_SCALES } from '../bench-scales.js'
import { readDataset } from '../dataset.js'
import { RssSampler } from '../proc.js'
import { latencyMeasure, rateMeasure } from '../stats.js'
import type { ChildResult, ChildSpec, Measure, RowPart } from '../types.js'
import { ndjsonLines } from './fold.js'
import { FrameWriter, frameBatches, type Frame } from '../stream/frames.js'
import { END_HEADER, wallNow, type FromPipeline, type PipelineArgs } from '../stream/protocol.js'
import { answers, javaVersion, startServices, stopServices, type Service } from '../stream/services.js'

const HERE = dirname(fileURLToPath(import.meta.url))
const DEFAULT_BROKERS = '127.0.0.1:19092'
const DEFAULT_REGISTRY = 'http://127.0.0.1:18081/apis/ccompat/v7'
const PUBLISH_BATCH = 500
export const PARTITIONS = 6

interface LatencySync {
  readonly syncId: string
  readonly frames: Frame[]
}

interface PipelineRun {
  readonly throughput: Measure
  readonly latency: Measure | null
  readonly peakRss: number
  readonly facts: Record<string, string>
}

/** A pipeline process: its messages, waited on with deadlines; its exit ends every wait. */
class PipelineChild {
  readonly visible = new Map<string, number>()
  private ready = false
  private stopped: Extract<FromPipeline, { type: 'stopped' }> | null = null
  private failure: string | null = null
  private exited = false
  private wake: (() => void)[] = []
  /** The other processes of the same pipeline: a failure of one of them ends this one's waits too. */
  private peers: readonly PipelineChild[] = []
  readonly sampler: RssSampler

  constructor(
    readonly child: ChildProcess,
    private readonly logPath: string,
  ) {
    this.sampler = new RssSampler(child.pid!)
    child.on('message', (m: FromPipeline) => {
      switch (m.type) {
        case 'ready':
          this.ready = true
          break
        case 'visible':
          for (const id of m.syncIds) if (!this.visible.has(id)) this.visible.set(id, m.at)
          break
        case 'stopped':
          this.stopped = m
          break
        case 'failed':
          this.failure = m.message
          break
      }
      this.notify()
    })
    child.on('exit', (code, signal) => {
      this.exited = true
      if (this.stopped === null && this.failure === null) this.failure = `exited (${signal ?? code}) early; see ${logPath}`
      this.notify()
    })
  }

  /** Makes the failure of any of `peers` end this process's waits (its pipeline cannot finish without them). */
  watch(peers: readonly PipelineChild[]): void {
    this.peers = peers
    // Registered after each peer's own listeners, which have set its failure by the time these run.
    for (const p of peers) {
      p.child.on('message', () => this.notify())
      p.child.on('exit', () => this.notify())
    }
  }

  private notify(): void {
    const w = this.wake
    this.wake = []
    for (const f of w) f()
  }

  private async until(done: () => boolean, timeoutMs: number, what: string): Promise<void> {
    const deadline = performance.now() + timeoutMs
    while (!done()) {
      if (this.failure !== null) throw new Error(`${what}: the pipeline process failed: ${this.failure}`)
      for (const p of this.peers) if (p.failure !== null) throw new Error(`${what}: a pipeline process failed: ${p.failure}`)
      const left = deadline - performance.now()
      if (left <= 0) throw new Error(`${what}: no answer within ${Math.round(timeoutMs / 1000)} s (log: ${this.logPath})`)
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 1000))
        this.wake.push(() => {
          clearTimeout(timer)
          resolve()
        })
      })
    }
  }

  /** Throws if the process has failed or exited early. */
  check(): void {
    if (this.failure !== null) throw new Error(`the pipeline process failed: ${this.failure}`)
  }

  waitReady(timeoutMs: number): Promise<void> {
    return this.until(() => this.ready, timeoutMs, 'waiting for the pipeline to join its consumer groups')
  }

  /** Waits until every sync is visible; returns when the last one became visible. */
  async waitVisible(ids: readonly string[], timeoutMs: number, what: string): Promise<number> {
    await this.until(
      () => ids.every((id) => this.visible.has(id)),
      timeoutMs,
      `${what} (${ids.filter((id) => this.visible.has(id)).length}/${ids.length} syncs visible)`,
    )
    return Math.max(...ids.map((id) => this.visible.get(id)!))
  }

  mark(): void {
    this.child.send({ type: 'mark' })
  }

  async stop(timeoutMs: number): Promise<Extract<FromPipeline, { type: 'stopped' }>> {
    this.child.send({ type: 'stop' })
    await this.until(() => this.stopped !== null, timeoutMs, 'stopping the pipeline')
    const stopped = this.stopped!
    // Its log is complete once it has exited.
    const deadline = performance.now() + 30_000
    while (!this.exited && performance.now() < deadline) await new Promise((r) => setTimeout(r, 50))
    this.sampler.stop()
    return stopped
  }

  kill(): void {
    this.sampler.stop()
    if (this.child.exitCode === null) this.child.kill('SIGKILL')
  }
}

export function startChild(
  script: string,
  args: PipelineArgs,
  logPath: string,
  cpuProfDir: string | undefined,
  heapMb: number | undefined,
  /** The folder of its CPU profiles under `cpuProfDir` (default `stream-<script>`). */
  profileName?: string,
): PipelineChild {
  const execArgv = ['--import', 'tsx']
  if (heapMb !== undefined) execArgv.push(`--max-old-space-size=${heapMb}`)
  const name = profileName ?? `stream-${script.replace(/\.ts$/, '')}`
  if (cpuProfDir !== undefined) execArgv.push('--cpu-prof', `--cpu-prof-dir=${join(cpuProfDir, name)}`)
  const child = fork(join(HERE, '..', 'stream', script), [JSON.stringify(args)], { execArgv, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] })
  const log = createWriteStream(logPath)
  child.stdout?.pipe(log)
  child.stderr?.pipe(log)
  return new PipelineChild(child, logPath)
}

function toMessage(f: Frame) {
  return { key: f.key, value: f.value, headers: f.endOf === '' ? undefined : { [END_HEADER]: f.endOf } }
}

export async function publishAll(producer: Producer, topic: string, framesPath: string): Promise<number> {
  let n = 0
  for await (const batch of frameBatches(framesPath, PUBLISH_BATCH)) {
    await producer.send({ topic, acks: -1, messages: batch.map(toMessage) })
    n += batch.length
  }
  return n
}

/** One process of a pipeline: its script, arguments and log, and where it profiles. */
interface PipelineProcess {
  readonly script: string
  readonly args: PipelineArgs
  readonly logPath: string
  readonly profileName?: string
}

/**
 * Publishes the throughput nights, then the latency syncs, into `topic` and times them
 * through the pipeline: its processes start together; the last one reports what is visible.
 */
async function runPipeline(
  kafka: Kafka,
  processes: readonly PipelineProcess[],
  topic: string,
  framesPath: string,
  events: number,
  throughputSyncs: readonly string[],
  latencySyncs: readonly LatencySync[],
  intervalMs: number,
  spec: ChildSpec,
): Promise<PipelineRun> {
  const children = processes.map((p) => startChild(p.script, p.args, p.logPath, spec.cpuProfDir, spec.heapMb, p.profileName))
  const pipeline = children[children.length - 1]!
  pipeline.watch(children.slice(0, -1))
  const producer = idempotentProducer(kafka)
  try {
    for (const child of children) await child.waitReady(180_000)
    await producer.connect()

    const t0 = wallNow()
    const published = await publishAll(producer, topic, framesPath)
    const publishedAt = wallNow()
    if (published !== events) throw new Error(`published ${published} messages, prepared ${events}`)
    const last = await pipeline.waitVisible(throughputSyncs, Math.max(180_000, events * 10), 'throughput run')
    const seconds = (last - t0) / 1000
    const throughput = rateMeasure(events, seconds, undefined, {
      syncs: throughputSyncs.length,
      'publish alone (s)': Number(((publishedAt - t0) / 1000).toFixed(2)),
    })

    let latency: Measure | null = null
    for (const child of children) child.mark()
    if (latencySyncs.length > 0) {
      const sentAt = new Map<string, number>()
      const start = wallNow()
      let late = 0
      for (const [j, sync] of latencySyncs.entries()) {
        const wait = start + j * intervalMs - wallNow()
        if (wait > 0) await new Promise((r) => setTimeout(r, wait))
        else if (j > 0) late++
        sentAt.set(sync.syncId, wallNow())
        await producer.send({ topic, acks: -1, messages: sync.frames.map(toMessage) })
      }
      const ids = latencySyncs.map((s) => s.syncId)
      await pipeline.waitVisible(ids, 60_000 + latencySyncs.length * intervalMs * 4, 'latency run')
      latency = latencyMeasure(
        ids.map((id) => pipeline.visible.get(id)! - sentAt.get(id)!),
        {
          syncs: ids.length,
          'records per sync': latencySyncs[0]!.frames.length - 2,
          'interval (ms)': intervalMs,
          'sent late': late,
        },
      )
    }
    await producer.disconnect()
    const facts: Record<string, string> = {}
    let peakRss = 0
    // In the order they were started: a processor stops before the projector it feeds.
    for (const [i, child] of children.entries()) {
      const stopped = await child.stop(120_000)
      Object.assign(facts, stopped.facts)
      // The processes of one pipeline run side by side: their peaks add up.
      peakRss += Math.max(child.sampler.peak, stopped.peakRss)
      const { script, logPath } = processes[i]!
      const retries = await concurrentTransactionRetries(logPath)
      if (retries > 0)
        facts[`stream: ${script.replace(/-child\.ts$/, '')} log`] =
          `${retries} sends retried after CONCURRENT_TRANSACTIONS (the previous transaction still completing; each retry waits the producer back-off, ${PRODUCER_RETRY.initialRetryTime} ms at first, doubling)`
    }
    return { throughput, latency, peakRss, facts }
  } catch (e) {
    for (const child of children) child.kill()
    await producer.disconnect().catch(() => undefined)
    throw e
  }
}

/** How often kafkajs logged a send retried because the broker was still completing the previous transaction. */
async function concurrentTransactionRetries(logPath: string): Promise<number> {
  try {
    const text = await readFile(logPath, 'utf8')
    return text
      .split('\n')
      .filter((l) => l.includes('Failed to send messages') && l.includes('concurrent operation on the same transaction')).length
  } catch {
    return 0
  }
}

/** Runs one step; a failure says which. */
export async function step<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn()
  } catch (e) {
    throw new Error(`${what}: ${e instanceof Error ? e.message : String(e)}`, { cause: e })
  }
}

/** Waits until every partition of the topics has a leader (a new topic can be briefly unknown to the broker). */
async function leadersOf(admin: Admin, topics: readonly string[], timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs
  for (;;) {
    try {
      const meta = await admin.fetchTopicMetadata({ topics: [...topics] })
      if (
        meta.topics.length === topics.length &&
        meta.topics.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0))
      )
        return
    } catch (e) {
      if (performance.now() > deadline) throw e
    }
    if (performance.now() > deadline) throw new Error(`topics ${topics.join(', ')} have no leaders after ${timeoutMs / 1000} s`)
    await new Promise((r) => setTimeout(r, 200))
  }
}

/** Regroups the last night's record events into small delta syncs (cycling through them when there are too few). */
function latencyEvents(
  records: readonly ChangeEvent[],
  tenants: readonly string[],
  syncs: number,
  perSync: number,
  night: string,
  runId: string,
): ChangeEvent[][] {
  if (records.length === 0) return []
  const byTenant = new Map<string, ChangeEvent[]>()
  for (const r of records) byTenant.set(r.tenant, [...(byTenant.get(r.tenant) ?? []), r])
  const delta = Object.fromEntries(ENTITY_TYPES.map((e) => [e, 'delta'])) as Record<EntityType, SyncMode>
  const out: ChangeEvent[][] = []
  const cursor = new Map<string, number>()
  const baseMs = Date.parse(night)
  for (let j = 0; j < syncs; j++) {
    const tenant = tenants[j % tenants.length]!
    const pool = byTenant.get(tenant) ?? records
    const syncId = `${tenant}-live-${runId}-${j + 1}`
    const at = (k: number): string => new Date(baseMs + 3_600_000 + j * 1000 + k).toISOString()
    const meta = (k: number, id: string) => ({ eventId: `${syncId}:${id}`, tenant, syncId, app: 'sis-live', occurredAt: at(k) })
    const events: ChangeEvent[] = [{ type: 'SyncStarted', ...meta(0, 'start'), modes: delta }]
    for (let k = 0; k < perSync; k++) {
      const c = cursor.get(tenant) ?? 0
      cursor.set(tenant, c + 1)
      const r = pool[c % pool.length]!
      events.push({ ...r, ...meta(k + 1, String(k + 1)) } as ChangeEvent)
    }
    events.push({ type: 'SyncEnded', ...meta(perSync + 1, 'end') })
    out.push(events)
  }
  return out
}

/** A run's own topics on the broker: synclog's under the prefix `bench-<id>.`, and raw-in and raw-out; schemas registered. */
export interface StreamRun {
  /** The run's id: names of its topics, groups and syncs contain it. */
  readonly runId: string
  readonly prefix: string
  /** Prefix of the run's consumer groups. */
  readonly group: string
  readonly kafka: Kafka
  readonly admin: Admin
  readonly topics: TopicNames
  readonly rawIn: string
  readonly rawOut: string
  readonly serde: AvroSerde
}

/** Runs `fn` with topics of its own, and deletes them and the consumer groups `<group>-<suffix>` after. */
export async function withStreamRun<T>(
  spec: ChildSpec,
  brokers: string,
  registry: string,
  groupSuffixes: readonly string[],
  fn: (run: StreamRun) => Promise<T>,
): Promise<T> {
  const runId = `${process.pid.toString(36)}${Math.floor(performance.timeOrigin).toString(36)}`
  const prefix = `bench-${runId}.`
  const group = `bench-${runId}`
  const logger = createLogger({ level: 'warn', pretty: false })
  const config = loadConfig({ data: spec.workDir, brokers, registry, logLevel: 'warn' }, { SYNCLOG_TOPIC_PREFIX: prefix })
  const kafka = createKafka(config, logger, { retry: COMMAND_RETRY })
  const topics = topicNames(config.kafka)
  const rawIn = `${prefix}raw-in`
  const rawOut = `${prefix}raw-out`
  const admin = kafka.admin()
  await admin.connect()
  try {
    await step('creating the topics', async () => {
      await ensureTopics(admin, config.kafka, logger)
      await admin.createTopics({
        topics: [rawIn, rawOut].map((topic) => ({ topic, numPartitions: PARTITIONS, replicationFactor: 1 })),
        waitForLeaders: false,
      })
      await leadersOf(admin, [rawIn, rawOut], 60_000)
    })
    const serde = new AvroSerde(config.registry.url, logger)
    await step('registering the schemas', () => serde.register(topics))
    return await fn({ runId, prefix, group, kafka, admin, topics, rawIn, rawOut, serde })
  } finally {
    const ours = (await admin.listTopics().catch(() => [] as string[])).filter((t) => t.startsWith(prefix))
    await admin.deleteTopics({ topics: ours, timeout: 30_000 }).catch(() => undefined)
    await admin.deleteGroups(groupSuffixes.map((suffix) => `${group}-${suffix}`)).catch(() => undefined)
    await admin.disconnect()
  }
}

/** A run's input, Avro-encoded with the run's serde before anything is timed. */
interface StreamInput {
  readonly framesPath: string
  readonly events: number
  readonly throughputSyncs: readonly string[]
  readonly latencySyncs: readonly LatencySync[]
  /** What the input is, for the report. */
  readonly description: string
}

async function encodeInput(spec: ChildSpec, { runId, serde }: StreamRun): Promise<StreamInput> {
  const bs = BENCH_SCALES[spec.scale]
  const dataset = await readDataset(spec.datasetDir)
  const nights = dataset.perNight.map((n) => n.night)
  const throughputNights = nights.length > 1 ? nights.slice(0, -1) : nights
  const framesPath = join(spec.workDir, `throughput-${runId}.frames`)
  const writer = new FrameWriter(framesPath)
  const throughputSyncs: string[] = []
  for (const night of throughputNights) {
    let line = 0
    for await (const text of ndjsonLines(ndjsonFile(spec.datasetDir, night))) {
      const item = parseNdjsonLine(text, ++line)
      if (item.kind !== 'event') throw new Error(`night ${night} line ${line}: ${item.message}`)
      const e = item.event
      if (e.type === 'SyncEnded') throughputSyncs.push(e.syncId)
      await writer.write({
        key: Buffer.from(e.tenant),
        value: await serde.encodeChangeEvent(e),
        endOf: e.type === 'SyncEnded' ? e.syncId : '',
      })
    }
  }
  await writer.close()
  const lastNight = nights[nights.length - 1]!
  const records: ChangeEvent[] = []
  let line = 0
  for await (const text of ndjsonLines(ndjsonFile(spec.datasetDir, lastNight))) {
    const item = parseNdjsonLine(text, ++line)
    if (item.kind === 'event' && (item.event.type === 'RecordChanged' || item.event.type === 'RecordUnreadable')) records.push(item.event)
  }
  const grouped = latencyEvents(
    records,
    dataset.tenants,
    bs.latencySyncs,
    bs.latencySyncRecords,
    dataset.perNight[lastNight - 1]!.occurredAt,
    runId,
  )
  const latencySyncs: LatencySync[] = []
  for (const events of grouped) {
    const frames: Frame[] = []
    for (const e of events)
      frames.push({ key: Buffer.from(e.tenant), value: await serde.encodeChangeEvent(e), endOf: e.type === 'SyncEnded' ? e.syncId : '' })
    latencySyncs.push({ syncId: events[0]!.syncId, frames })
  }
  const recycled = records.length < bs.latencySyncs * bs.latencySyncRecords
  return {
    framesPath,
    events: writer.count,
    throughputSyncs,
    latencySyncs,
    description:
      `${writer.count} change events (nights ${throughputNights.join(', ')}) in ${throughputSyncs.length} syncs; ` +
      `latency: ${latencySyncs.length} syncs of ${bs.latencySyncRecords} records from night ${lastNight}` +
      `${recycled ? ' (records reused: later copies are No Change)' : ''}, one every ${bs.latencyIntervalMs} ms`,
  }
}

/** A run's input, encoded for it, and a data directory of its own: `time` runs one pipeline over them. */
interface PreparedRun {
  readonly input: StreamInput
  readonly args: PipelineArgs
  time(topic: string, processes: readonly PipelineProcess[]): Promise<PipelineRun>
}

async function prepareRun(spec: ChildSpec, brokers: string, registry: string, run: StreamRun, dataDir: string): Promise<PreparedRun> {
  const input = await encodeInput(spec, run)
  const args: PipelineArgs = { brokers, registry, prefix: run.prefix, group: run.group, dataDir: join(spec.workDir, dataDir) }
  await mkdir(args.dataDir, { recursive: true })
  const { framesPath, events, throughputSyncs, latencySyncs } = input
  const interval = BENCH_SCALES[spec.scale].latencyIntervalMs
  return {
    input,
    args,
    time: (topic, processes) => runPipeline(run.kafka, processes, topic, framesPath, events, throughputSyncs, latencySyncs, interval, spec),
  }
}

/**
 * Three pipelines over the same input: the raw kafkajs pipe (the baseline), synclog's services
 * in one process as `synclog run all`, and in two as `synclog run processor` + `synclog run
 * projector`. The last runs on topics of its own (a processor keeps its state in its topics),
 * so the input is encoded again for them (their schema subjects are their own too).
 */
async function measure(spec: ChildSpec, brokers: string, registry: string): Promise<ChildResult> {
  const first = await withStreamRun(spec, brokers, registry, ['processor', 'projector', 'pipe', 'sink'], async (run) => {
    const { input, args, time } = await prepareRun(spec, brokers, registry, run, 'synclog-data')
    const base = await step('the raw kafkajs pipe', () =>
      time(run.rawIn, [{ script: 'raw-pipe-child.ts', args, logPath: join(spec.workDir, 'raw-pipe.log') }]),
    )
    const fig = await step('the synclog services', () =>
      time(run.topics.changeEvents, [{ script: 'services-child.ts', args, logPath: join(spec.workDir, 'services.log') }]),
    )
    return { input, base, fig, prefix: run.prefix }
  })
  const split = await withStreamRun(spec, brokers, registry, ['processor', 'projector'], async (run) => {
    const { args, time } = await prepareRun(spec, brokers, registry, run, 'synclog-data-split')
    return step('the synclog services in two processes', () =>
      time(run.topics.changeEvents, [
        { script: 'processor-child.ts', args, logPath: join(spec.workDir, 'split-processor.log'), profileName: 'stream-split-processor' },
        {
          script: 'services-child.ts',
          args: { ...args, services: 'projector' },
          logPath: join(spec.workDir, 'split-projector.log'),
          profileName: 'stream-split-projector',
        },
      ]),
    )
  })
  const { input, base, fig } = first
  /** A row of `run` against the raw pipe: its throughput (a rate) or its latency. */
  const against = (key: string, label: string, kind: 'rate' | 'latency', run: PipelineRun): RowPart[] => {
    const pick = (r: PipelineRun): Measure | null => (kind === 'rate' ? r.throughput : r.latency)
    const figure = pick(run)
    const baseline = pick(base)
    if (!figure || !baseline) return []
    const unit = kind === 'rate' ? 'events/s' : 'ms'
    return [{ key, label, kind, unit, figure, baseline, figureRss: run.peakRss, baselineRss: base.peakRss }]
  }
  const rows: RowPart[] = [
    ...against('stream-throughput', 'stream: end to end (publish -> visible in ClickHouse)', 'rate', fig),
    ...against(
      'stream-throughput-split',
      'stream: end to end, processor and projector in two processes (`run processor` + `run projector`)',
      'rate',
      split,
    ),
    ...against('stream-latency', 'stream: latency of a small sync (publish -> visible)', 'latency', fig),
    ...against('stream-latency-split', 'stream: latency of a small sync, processor and projector in two processes', 'latency', split),
  ]
  const splitFacts = Object.fromEntries(Object.entries(split.facts).map(([k, v]) => [`${k} (two processes)`, v]))
  return {
    rows,
    facts: {
      ...fig.facts,
      ...splitFacts,
      ...base.facts,
      'stream input': input.description,
      'stream topics': `${PARTITIONS} partitions, replication 1, prefix ${first.prefix} (the two-process run: topics of its own)`,
    },
    notes: [
      'stream: peak RSS is the pipeline alone (synclog services, or the raw pipe), not the publisher or the broker; for two processes, the sum of their peaks.',
    ],
  }
}

export function runStream(spec: ChildSpec): Promise<ChildResult> {
  return withStreamServices(spec, measure)
}

/**
 * Runs `measure` against Kafka and the registry: those of --brokers/--registry, or those of
 * scripts/services.sh (what is not running is started, and stopped again after).
 */
export async function withStreamServices(
  spec: ChildSpec,
  measure: (spec: ChildSpec, brokers: string, registry: string) => Promise<ChildResult>,
): Promise<ChildResult> {
  const external = spec.brokers !== undefined || spec.registry !== undefined
  const brokers = spec.brokers ?? DEFAULT_BROKERS
  const registry = spec.registry ?? DEFAULT_REGISTRY
  let started: Service[] = []
  let java = 'not checked (external services)'
  if (!external) {
    const version = await javaVersion()
    if (version === null) {
      return {
        rows: [],
        skipped:
          'Java was not found: scripts/services.sh runs Kafka and the schema registry on java 17+. Install a JDK, or pass --brokers and --registry of services that are already running.',
      }
    }
    java = version
    const missing: Service[] = []
    for (const s of ['kafka', 'registry'] as const) if (!(await answers(s))) missing.push(s)
    try {
      await startServices(missing)
    } catch (e) {
      return { rows: [], skipped: `Kafka/registry could not be started: ${e instanceof Error ? e.message : String(e)}` }
    }
    started = missing
  }
  let result: ChildResult
  try {
    result = await measure(spec, brokers, registry)
  } finally {
    const problem = await stopServices(started)
    if (problem !== '') process.stderr.write(`${problem}\n`)
  }
  return {
    ...result,
    facts: {
      ...result.facts,
      'stream services': external
        ? `external: ${brokers}, ${registry}`
        : `scripts/services.sh (${started.length === 0 ? 'already running, left running' : `started ${started.join(' and ')} for this run, stopped after`}); ${java}`,
    },
  }
}
