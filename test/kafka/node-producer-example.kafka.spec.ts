/**
 * The Node producer example of docs/stream-mode.md (examples/node-producer.ts) is a program
 * that works: run as a SIS would run it, against the real broker and registry, it publishes
 * records that synclog's serde reads back as the very events it was given, in the
 * tenant's partition, and that the fold takes without a rejection.
 */
import { spawn } from 'node:child_process'
import { readFile, rm } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { loadConfig, type Config } from '../../src/config/config.js'
import { createKafka } from '../../src/kafka/kafka-client.js'
import { tenantPartition } from '../../src/kafka/tenant-partition.js'
import { silentLogger } from '../support/silent-logger.js'
import { prepareStream } from '../../src/stream/prepare-stream.js'
import { tempDir } from '../support/cli.js'
import { readTopic } from '../support/read-topic.js'
import { serviceEndpoints } from '../support/services.js'
import { FULL, Given, smallDistrict, SyncScript } from '../support/sis.js'
import { asDecoded, ndjson } from '../support/stream-events.js'

const EXAMPLE = resolve(import.meta.dirname, '../../examples/node-producer.ts')
const STREAM_DOC = resolve(import.meta.dirname, '../../docs/stream-mode.md')
const logger = silentLogger()
const { brokers, registryUrl } = serviceEndpoints()
const PREFIX = `example-${process.pid}-${Date.now()}.`
const PARTITIONS = 3
let dir: string | undefined

afterAll(async () => {
  if (dir !== undefined) await rm(dir, { recursive: true, force: true })
  const admin = createKafka({ kafka: { ...loadConfig({}).kafka, brokers } }, logger).admin()
  await admin.connect()
  try {
    const mine = (await admin.listTopics()).filter((t) => t.startsWith(PREFIX))
    if (mine.length > 0) await admin.deleteTopics({ topics: mine })
  } finally {
    await admin.disconnect()
  }
})

/** Runs the example with Node and tsx, as its comment says; resolves with what it printed. */
function runExample(file: string, env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--import', 'tsx', EXAMPLE, file], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 90_000,
    })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d))
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
    child.on('error', fail)
    child.on('close', (code) => done({ code, stdout, stderr }))
  })
}

describe('the Node producer example', () => {
  it("publishes a sync that synclog reads back whole, in the tenant's partition, and folds without a rejection", async () => {
    dir = await tempDir('node-producer')
    const base = loadConfig({})
    const config: Config = {
      ...base,
      kafka: { ...base.kafka, brokers, topicPrefix: PREFIX, partitions: PARTITIONS },
      registry: { ...base.registry, url: registryUrl },
    }
    const kafka = createKafka(config, logger)
    // What a stream service or `synclog publish` does when it starts: topics and schemas.
    const { topics, serde } = await prepareStream(kafka, config, logger)
    const tenant = 'urn:district:0042/east'
    const events = smallDistrict(new SyncScript(tenant, 'nightly-2026-10-18', 'sis-nightly', '2026-10-18T02:00:00.000Z', FULL)).end()

    const run = await runExample(await ndjson(join(dir, 'events.ndjson'), events), {
      SYNCLOG_KAFKA_BROKERS: brokers.join(','),
      SYNCLOG_REGISTRY_URL: registryUrl,
      SYNCLOG_TOPIC_PREFIX: PREFIX,
    })

    expect(run.code, run.stderr).toBe(0)
    expect(run.stdout).toContain(
      `published ${events.length} events to ${topics.changeEvents} with schema id ${serde.schemaIds?.changeEvent}`,
    )
    const read = []
    for (const r of await readTopic(kafka, topics.changeEvents, events.length, `${PREFIX}reader`))
      read.push({ partition: r.partition, event: await serde.decodeChangeEvent(r.value) })
    expect(read.map((r) => r.event)).toEqual(events.map(asDecoded))
    expect(new Set(read.map((r) => r.partition))).toEqual(new Set([tenantPartition(tenant, PARTITIONS)]))
    const folded = new Given().when(read.map((r) => r.event))
    expect(folded.rejections).toEqual([])
    expect(folded.rows.length).toBeGreaterThan(10)
    expect(folded.status?.status).toBe('Completed')
    expect(folded.events).toEqual(new Given().when(events).events)
  })

  it('is what docs/stream-mode.md shows: every line of its excerpt is a line of the file', async () => {
    const doc = await readFile(STREAM_DOC, 'utf8')
    const excerpt = /The heart of it:\s*```ts\n([\s\S]*?)```/.exec(doc)?.[1]
    expect(excerpt, 'docs/stream-mode.md has no "The heart of it:" excerpt').toBeDefined()
    const fileLines = new Set((await readFile(EXAMPLE, 'utf8')).split('\n').map((l) => l.trim()))
    const lines = excerpt!
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '')
    expect(lines.length).toBeGreaterThan(5)
    expect(lines.filter((l) => !fileLines.has(l))).toEqual([])
  })
})
