/**
 * `synclog publish <path>`: send change events to the change-events topic (stream mode),
 * as a SIS would. A OneRoster folder or .zip becomes one sync of `--tenant`; an .ndjson
 * file is sent as it is (each event names its own tenant and sync).
 */
import { basename } from 'node:path'
import type { Command } from 'commander'
import type { Kafka } from 'kafkajs'
import type { ChangeEvent } from '../../events/change-event.js'
import { SynclogError } from '../../errors.js'
import { AvroSerde } from '../../kafka/avro-serde.js'
import { kafkaCall } from '../../kafka/errors.js'
import { COMMAND_RETRY, createKafka, idempotentProducer } from '../../kafka/kafka-client.js'
import { publishChangeEvents, type PublishResult } from '../../kafka/publisher.js'
import { ensureTopics, topicNames } from '../../kafka/topics.js'
import { changeEventsOf, describeIssue } from '../../ndjson/read-ndjson.js'
import { DEFAULT_APP, readOneRosterBundle } from '../../oneroster/read-bundle.js'
import { inputFingerprint, syncIdFor } from '../../oneroster/sync-identity.js'
import { checkTenant } from '../../pipeline/import-bundle.js'
import { contextOf, type CliContext } from '../context.js'
import { createProgress, type Progress } from '../progress.js'

export interface PublishCommandOptions {
  readonly tenant?: string
  readonly app?: string
}

function isNdjson(path: string): boolean {
  return /\.(ndjson|jsonl)$/i.test(path)
}

interface EventSource {
  readonly events: AsyncIterable<ChangeEvent>
  /** Progress from reading the input, when the source can tell it (bundles). */
  readonly readsWithProgress: boolean
  /** Unreadable lines skipped (ndjson). */
  skipped(): number
}

async function bundleSource(ctx: CliContext, path: string, opts: PublishCommandOptions, progress: Progress): Promise<EventSource> {
  const tenant = opts.tenant
  if (tenant === undefined)
    throw new SynclogError(
      'USAGE',
      `--tenant is required to publish a OneRoster bundle (${path}); an .ndjson file names its tenants itself`,
    )
  checkTenant(tenant, '--tenant')
  const now = new Date()
  const syncId = syncIdFor(tenant, await inputFingerprint(path, now, ctx.config.limits), now)
  const log = ctx.logger.child({ tenant, syncId })
  const events = readOneRosterBundle({
    path,
    tenant,
    syncId,
    app: opts.app ?? DEFAULT_APP,
    occurredAt: now.toISOString(),
    limits: ctx.config.limits,
    onProgress: (p) => progress.update(p),
    onIssue: (issue) => log.warn({ file: issue.file, line: issue.line, field: issue.field }, issue.message),
  })
  return { events, readsWithProgress: true, skipped: () => 0 }
}

function ndjsonSource(ctx: CliContext, path: string, opts: PublishCommandOptions): EventSource {
  if (opts.tenant !== undefined || opts.app !== undefined) {
    throw new SynclogError('USAGE', `--tenant and --app apply to OneRoster bundles; the events of ${path} carry their own tenant and app`)
  }
  let skipped = 0
  const events = changeEventsOf(path, (issue) => {
    skipped++
    ctx.stderr.write(`${describeIssue(path, issue)}\n`)
  })
  return { events, readsWithProgress: false, skipped: () => skipped }
}

async function prepareTopics(ctx: CliContext, kafka: Kafka): Promise<void> {
  const admin = kafka.admin()
  await kafkaCall('connecting to Kafka', () => admin.connect())
  try {
    await ensureTopics(admin, ctx.config.kafka, ctx.logger)
  } finally {
    await admin.disconnect()
  }
}

/** Publishes the events at `path`; returns what was sent. */
export async function publishPath(
  ctx: CliContext,
  path: string,
  opts: PublishCommandOptions,
): Promise<PublishResult & { topic: string; skipped: number }> {
  const progress = createProgress(ctx.logger, 'Publishing')
  const source = isNdjson(path) ? ndjsonSource(ctx, path, opts) : await bundleSource(ctx, path, opts, progress)
  const kafka = createKafka(ctx.config, ctx.logger, { retry: COMMAND_RETRY })
  const topics = topicNames(ctx.config.kafka)
  await prepareTopics(ctx, kafka)
  const serde = new AvroSerde(ctx.config.registry.url, ctx.logger)
  await serde.register(topics)

  const producer = idempotentProducer(kafka)
  await kafkaCall('connecting the producer', () => producer.connect())
  const file = basename(path)
  try {
    const result = await publishChangeEvents(producer, serde, topics.changeEvents, source.events, {
      onProgress: source.readsWithProgress ? undefined : (p) => progress.update({ file, rows: p.events, bytes: 0, totalBytes: 0 }),
    })
    return { ...result, topic: topics.changeEvents, skipped: source.skipped() }
  } finally {
    progress.stop()
    await producer.disconnect().catch((e: unknown) => ctx.logger.warn({ err: e }, 'closing the Kafka producer failed'))
  }
}

export function registerPublish(program: Command): void {
  program
    .command('publish')
    .description(
      'Publish change events to Kafka for the stream services: a OneRoster bundle as one sync of a tenant, or change events as JSON lines',
    )
    .argument('<path>', 'a OneRoster folder or .zip (with --tenant), or an .ndjson file of change events')
    .option('--tenant <district>', 'the district whose SIS produced the bundle (bundles only)')
    .option('--app <name>', `source application recorded with the sync (bundles only; default ${DEFAULT_APP})`)
    .addHelpText(
      'after',
      [
        '',
        'Kafka and the schema registry come from the global --brokers and --registry flags',
        '(env SYNCLOG_KAFKA_BROKERS, SYNCLOG_REGISTRY_URL). Topics are created and schemas',
        'registered when missing. Events are keyed by tenant: one tenant stays in order.',
        'Unreadable .ndjson lines are reported on stderr as file:line and skipped.',
        'Exit codes: 0 published, 1 error.',
      ].join('\n'),
    )
    .action(async (path: string, opts: PublishCommandOptions, cmd: Command) => {
      const ctx = contextOf(cmd)
      const result = await publishPath(ctx, path, opts)
      if (result.syncs.size === 0) ctx.stdout.write(`published 0 events to ${result.topic}\n`)
      for (const [syncId, n] of result.syncs) ctx.stdout.write(`published ${n} events of sync ${syncId} to ${result.topic}\n`)
      if (result.skipped > 0) ctx.stderr.write(`${result.skipped} unreadable line(s) of ${path} skipped\n`)
    })
}
