/**
 * The four topics of stream mode and their creation.
 *
 * - `<prefix>change-events`: change events in, keyed by tenant (one tenant's events stay
 *   ordered in one partition);
 * - `<prefix>sync-log`: sync-log events out, keyed by tenant;
 * - `<prefix>processor-state`: the fold's state changelog, **compacted** (the latest value
 *   per key is the state), records up to 16 MiB;
 * - `<prefix>dead-letter`: records the processor cannot use, with the reason in headers.
 */
import kafkajs from 'kafkajs'
import type { Admin, ITopicConfig } from 'kafkajs'
import type { Config } from '../config/config.js'
import { SynclogError } from '../errors.js'
import type { Logger } from '../logging/logger.js'
import { kafkaCall } from './errors.js'

const { ConfigResourceTypes } = kafkajs

export interface TopicNames {
  readonly changeEvents: string
  readonly syncLog: string
  readonly processorState: string
  readonly deadLetter: string
}

export type TopicRole = keyof TopicNames

type KafkaSettings = Config['kafka']

/** Largest processor-state record (one tenant's state snapshot entry). */
export const PROCESSOR_STATE_MAX_MESSAGE_BYTES = 16 * 1024 * 1024

export function topicNames(kafka: Pick<KafkaSettings, 'topicPrefix'>): TopicNames {
  const p = kafka.topicPrefix
  return {
    changeEvents: `${p}change-events`,
    syncLog: `${p}sync-log`,
    processorState: `${p}processor-state`,
    deadLetter: `${p}dead-letter`,
  }
}

/** The topic-level settings of each role. */
export function topicConfigEntries(role: TopicRole, replicationFactor: number): { name: string; value: string }[] {
  const entries =
    role === 'processorState'
      ? [
          { name: 'cleanup.policy', value: 'compact' },
          { name: 'max.message.bytes', value: String(PROCESSOR_STATE_MAX_MESSAGE_BYTES) },
        ]
      : [{ name: 'cleanup.policy', value: 'delete' }]
  // With 3 or more replicas an acks=-1 write must reach 2 of them; with fewer, 1 is all there can be.
  if (replicationFactor >= 3) entries.push({ name: 'min.insync.replicas', value: '2' })
  return entries
}

export interface EnsureTopicsResult {
  /** Topics that were missing and exist now (created here, or by another process meanwhile). */
  readonly created: readonly string[]
  /** Topics that were there already. */
  readonly existing: readonly string[]
}

type TopicAdmin = Pick<Admin, 'listTopics' | 'createTopics' | 'describeConfigs' | 'fetchTopicMetadata'>

/** How long to wait for the leaders of topics another process is creating. */
const LEADERS_TIMEOUT_MS = 30_000

/**
 * Creates the missing topics (partitions and replication from the config) and waits for
 * their leaders. The admin must be connected. Safe to run concurrently and on every start:
 * a topic created meanwhile by another process counts as existing. An existing
 * processor-state topic that is not compacted is refused, since the broker would delete
 * state by age.
 */
export async function ensureTopics(admin: TopicAdmin, kafka: KafkaSettings, logger: Logger): Promise<EnsureTopicsResult> {
  const names = topicNames(kafka)
  const present = new Set(await kafkaCall('listing topics', () => admin.listTopics()))
  const roles = Object.keys(names) as TopicRole[]
  const missing = roles.filter((role) => !present.has(names[role]))
  const existing = roles.filter((role) => present.has(names[role])).map((role) => names[role])

  if (missing.length > 0) {
    const topics: ITopicConfig[] = missing.map((role) => ({
      topic: names[role],
      numPartitions: kafka.partitions,
      replicationFactor: kafka.replicationFactor,
      configEntries: topicConfigEntries(role, kafka.replicationFactor),
    }))
    // false = every one of them already existed (another process created them since listTopics).
    const createdNow = await kafkaCall(`creating topics ${missing.map((r) => names[r]).join(', ')}`, () =>
      admin.createTopics({ topics, waitForLeaders: true, timeout: 30_000 }),
    )
    logger.info(
      { topics: topics.map((t) => t.topic), partitions: kafka.partitions, replicationFactor: kafka.replicationFactor, createdNow },
      'Kafka topics created',
    )
    // kafkajs waited for the leaders only if this call created every missing topic.
    if (!createdNow)
      await waitForLeaders(
        admin,
        topics.map((t) => t.topic),
      )
  }
  if (present.has(names.processorState)) await checkCompacted(admin, names.processorState)
  logger.debug({ existing }, 'Kafka topics present')
  return { created: missing.map((role) => names[role]), existing }
}

/**
 * Waits until every partition of `topics` has a leader: they exist, but another process
 * created (some of) them a moment ago, and a broker may not know them all yet.
 */
async function waitForLeaders(admin: TopicAdmin, topics: readonly string[]): Promise<void> {
  const until = Date.now() + LEADERS_TIMEOUT_MS
  let last: string
  for (;;) {
    try {
      const { topics: described } = await admin.fetchTopicMetadata({ topics: [...topics] })
      const leaderless = described.flatMap((t) =>
        t.partitions.filter((p) => p.leader < 0 || p.partitionErrorCode !== 0).map((p) => `${t.name}/${p.partitionId}`),
      )
      if (described.length === topics.length && leaderless.length === 0) return
      last = leaderless.length > 0 ? `no leader yet for ${leaderless.slice(0, 5).join(', ')}` : 'not all topics listed yet'
    } catch (e) {
      last = e instanceof Error ? e.message : String(e) // e.g. a broker that does not know a topic yet
    }
    if (Date.now() > until) {
      throw new SynclogError(
        'KAFKA_UNAVAILABLE',
        `topics ${topics.join(', ')} exist but have no leaders after ${LEADERS_TIMEOUT_MS / 1000} s (${last}); check the brokers`,
      )
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

async function checkCompacted(admin: TopicAdmin, topic: string): Promise<void> {
  const described = await kafkaCall(`describing topic ${topic}`, () =>
    admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: ['cleanup.policy'] }],
    }),
  )
  const policy = described.resources[0]?.configEntries.find((c) => c.configName === 'cleanup.policy')?.configValue ?? ''
  if (
    !policy
      .split(',')
      .map((p) => p.trim())
      .includes('compact')
  ) {
    throw new SynclogError(
      'CONFIG_INVALID',
      `topic ${topic} exists with cleanup.policy=${policy || '(unset)'}; the processor state needs cleanup.policy=compact ` +
        `(kafka-configs --alter --entity-type topics --entity-name ${topic} --add-config cleanup.policy=compact)`,
    )
  }
}
