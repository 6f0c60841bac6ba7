/**
 * Several stream processes starting at once against a fresh deployment (new topics, new
 * subjects in the registry): each creates the topics, registers the schemas and sets their
 * compatibility, and none fails because another one did the same a moment before
 * (`synclog publish` beside `synclog run all` once died with
 * `HTTP 409: A rule named 'COMPATIBILITY' already exists`).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import kafkajs from 'kafkajs'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { loadConfig, type Config } from '../../src/config/config.js'
import { valueSubject } from '../../src/kafka/avro-serde.js'
import { createKafka } from '../../src/kafka/kafka-client.js'
import { ConfluentRegistryClient } from '../../src/kafka/registry-client.js'
import { topicNames } from '../../src/kafka/topics.js'
import { silentLogger } from '../support/silent-logger.js'
import { prepareStream } from '../../src/stream/prepare-stream.js'
import { CLI, synclog, tempDir } from '../support/cli.js'
import { serviceEndpoints } from '../support/services.js'
import { ndjson, freePort, waitFor } from '../support/stream-events.js'
import { FULL, smallDistrict, SyncScript } from '../support/sis.js'

const { ConfigResourceTypes } = kafkajs
const logger = silentLogger()
const { brokers, registryUrl } = serviceEndpoints()
const RUN = `${process.pid}-${Date.now()}`
const prefixes: string[] = []
const dirs: string[] = []
const children: ChildProcess[] = []

/** A topic prefix no test used before: fresh topics and fresh subjects. */
function freshPrefix(what: string): string {
  const prefix = `concurrent-${what}-${RUN}.`
  prefixes.push(prefix)
  return prefix
}

afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
})

afterAll(async () => {
  const admin = createKafka({ kafka: { ...loadConfig({}).kafka, brokers } }, logger).admin()
  await admin.connect()
  try {
    const mine = (await admin.listTopics()).filter((t) => prefixes.some((p) => t.startsWith(p)))
    if (mine.length > 0) await admin.deleteTopics({ topics: mine })
  } finally {
    await admin.disconnect()
  }
  for (const d of dirs) await rm(d, { recursive: true, force: true })
})

describe('stream processes starting at once', () => {
  it('all prepare the same fresh topics and schemas, and the subjects end up BACKWARD', async () => {
    const base = loadConfig({})
    const config: Config = {
      ...base,
      kafka: { ...base.kafka, brokers, topicPrefix: freshPrefix('prepare'), partitions: 3 },
      registry: { ...base.registry, url: registryUrl },
    }

    const starts = await Promise.allSettled(Array.from({ length: 6 }, () => prepareStream(createKafka(config, logger), config, logger)))

    const failures = starts.flatMap((s) => (s.status === 'rejected' ? [String(s.reason)] : []))
    expect(failures).toEqual([])
    const ids = starts.map((s) => (s.status === 'fulfilled' ? JSON.stringify(s.value.serde.schemaIds) : ''))
    expect(new Set(ids).size).toBe(1)
    const topics = topicNames(config.kafka)
    const registry = new ConfluentRegistryClient(registryUrl)
    expect(await registry.compatibility(valueSubject(topics.changeEvents))).toBe('BACKWARD')
    expect(await registry.compatibility(valueSubject(topics.syncLog))).toBe('BACKWARD')

    const admin = createKafka(config, logger).admin()
    await admin.connect()
    try {
      const metadata = await admin.fetchTopicMetadata({ topics: Object.values(topics) })
      expect(metadata.topics.map((t) => t.partitions.length)).toEqual([3, 3, 3, 3])
      const described = await admin.describeConfigs({
        includeSynonyms: false,
        resources: [{ type: ConfigResourceTypes.TOPIC, name: topics.processorState, configNames: ['cleanup.policy'] }],
      })
      expect(described.resources[0]?.configEntries[0]?.configValue).toBe('compact')
    } finally {
      await admin.disconnect()
    }
  })

  it('synclog publish started with synclog run processor against a fresh registry both succeed', async () => {
    const dir = await tempDir('concurrent-cli')
    dirs.push(dir)
    const env = {
      SYNCLOG_KAFKA_BROKERS: brokers.join(','),
      SYNCLOG_REGISTRY_URL: registryUrl,
      SYNCLOG_TOPIC_PREFIX: freshPrefix('cli'),
      SYNCLOG_TOPIC_PARTITIONS: '2',
    }
    const events = smallDistrict(new SyncScript('district-a', 'night-1', 'sis-nightly', '2026-10-01T02:00:00.000Z', FULL)).end()
    const file = await ndjson(join(dir, 'night1.ndjson'), events)
    const port = await freePort()

    const processor = spawn(process.execPath, [CLI, 'run', 'processor', '--http-port', String(port), '--group', `concurrent-${RUN}`], {
      env: { ...process.env, SYNCLOG_LOG_LEVEL: 'warn', ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    })
    children.push(processor)
    let processorLog = ''
    processor.stderr!.setEncoding('utf8').on('data', (d: string) => (processorLog += d))
    const publishes = await Promise.all([
      synclog(['publish', file], { env, timeoutMs: 90_000 }),
      synclog(['publish', file], { env, timeoutMs: 90_000 }),
    ])

    for (const p of publishes) expect(p.code, p.stderr).toBe(0)
    await waitFor(
      async () => (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined))?.status === 200 || processor.exitCode !== null,
      90_000,
      () => `the processor never became ready:\n${processorLog}`,
    )
    expect(processor.exitCode, processorLog).toBeNull()
    expect(processorLog).not.toMatch(/HTTP 409|already exists/)
  })
})
