/**
 * The soak's own Kafka broker and schema registry (scripts/services.sh on free ports, in a
 * run directory of the soak's): the soak restarts them, which it must never do to the
 * broker other test runs share.
 *
 * The registry keeps its schemas in memory, so a restart empties it and would hand out
 * new ids (docs/services.md). A registry in production keeps them in a store of its own;
 * the soak plays that store: it reads every subject's versions before the restart and
 * registers them again, in id order, before anything else can, and checks the ids came
 * back the same.
 */
import { execFile } from 'node:child_process'
import { resolve } from 'node:path'
import { promisify } from 'node:util'
import { Kafka, logLevel } from 'kafkajs'
import { freePort } from '../../test/support/stream-events.js'

const run = promisify(execFile)
const SERVICES = resolve(import.meta.dirname, '../services.sh')

interface SchemaVersion {
  readonly subject: string
  readonly version: number
  readonly id: number
  readonly schema: string
  readonly schemaType?: string
}

export class SoakCluster {
  private constructor(
    private readonly args: readonly string[],
    readonly brokers: string,
    readonly registryUrl: string,
  ) {}

  /** Starts a fresh broker and registry of the soak's own under `runDir`. */
  static async start(runDir: string): Promise<SoakCluster> {
    const [kafkaPort, controllerPort, registryPort] = [await freePort(), await freePort(), await freePort()]
    const args = [
      '--kafka-port',
      String(kafkaPort),
      '--controller-port',
      String(controllerPort),
      '--registry-port',
      String(registryPort),
      '--run-dir',
      runDir,
    ]
    const cluster = new SoakCluster(args, `127.0.0.1:${kafkaPort}`, `http://127.0.0.1:${registryPort}/apis/ccompat/v7`)
    try {
      await cluster.services('start', undefined, '--fresh')
    } catch (e) {
      await cluster.stop()
      throw new Error(`scripts/services.sh could not start the soak's broker and registry (logs in ${runDir}): ${(e as Error).message}`, {
        cause: e,
      })
    }
    return cluster
  }

  private async services(command: 'start' | 'stop', service?: 'kafka' | 'registry', ...extra: string[]): Promise<void> {
    await run(SERVICES, [command, ...(service === undefined ? [] : [service]), ...this.args, ...extra], { timeout: 180_000 })
  }

  /** Stops the broker (SIGTERM, as an operator's restart does) and starts it again on the same data. */
  async restartKafka(): Promise<void> {
    await this.services('stop', 'kafka')
    await this.services('start', 'kafka')
  }

  /** Restarts the registry and registers its schemas again under the same ids; says which ids came back different. */
  async restartRegistry(): Promise<{ restored: number; mismatched: string[] }> {
    const saved = await this.schemas()
    const compatibility = new Map<string, string>()
    for (const subject of new Set(saved.map((s) => s.subject))) {
      const r = await fetch(`${this.registryUrl}/config/${encodeURIComponent(subject)}`)
      if (r.ok) compatibility.set(subject, ((await r.json()) as { compatibilityLevel: string }).compatibilityLevel)
    }
    await this.services('stop', 'registry')
    await this.services('start', 'registry')
    const mismatched: string[] = []
    for (const s of [...saved].sort((a, b) => a.id - b.id)) {
      const r = await fetch(`${this.registryUrl}/subjects/${encodeURIComponent(s.subject)}/versions`, {
        method: 'POST',
        headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
        body: JSON.stringify({ schema: s.schema, ...(s.schemaType === undefined ? {} : { schemaType: s.schemaType }) }),
      })
      const id = r.ok ? ((await r.json()) as { id: number }).id : `HTTP ${r.status}: ${await r.text()}`
      if (id !== s.id) mismatched.push(`${s.subject} v${s.version}: id ${s.id} came back as ${id}`)
    }
    for (const [subject, level] of compatibility) {
      await fetch(`${this.registryUrl}/config/${encodeURIComponent(subject)}`, {
        method: 'PUT',
        headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
        body: JSON.stringify({ compatibility: level }),
      })
    }
    return { restored: saved.length, mismatched }
  }

  private async schemas(): Promise<SchemaVersion[]> {
    const get = async <T>(path: string): Promise<T> => {
      const r = await fetch(`${this.registryUrl}${path}`)
      if (!r.ok) throw new Error(`registry GET ${path}: HTTP ${r.status}`)
      return (await r.json()) as T
    }
    const out: SchemaVersion[] = []
    for (const subject of await get<string[]>('/subjects')) {
      for (const version of await get<number[]>(`/subjects/${encodeURIComponent(subject)}/versions`)) {
        const v = await get<{ id: number; schema: string; schemaType?: string }>(
          `/subjects/${encodeURIComponent(subject)}/versions/${version}`,
        )
        out.push({ subject, version, id: v.id, schema: v.schema, ...(v.schemaType === undefined ? {} : { schemaType: v.schemaType }) })
      }
    }
    return out
  }

  /** A kafkajs client on this broker (quiet: the soak breaks the broker on purpose). */
  kafka(): Kafka {
    return new Kafka({ brokers: [this.brokers], clientId: 'synclog-soak', logLevel: logLevel.NOTHING, retry: { retries: 2 } })
  }

  async stop(): Promise<void> {
    await this.services('stop').catch(() => undefined)
  }
}
