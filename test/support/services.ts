/**
 * Real Kafka and a real schema registry for the tests that need them.
 *
 * - `export default setup`: a vitest globalSetup. It uses the Kafka and registry that already
 *   answer (`scripts/services.sh start`, docker compose, or SYNCLOG_KAFKA_BROKERS /
 *   SYNCLOG_REGISTRY_URL pointing elsewhere) and starts the missing ones with
 *   scripts/services.sh; its teardown stops only what test runs started, once no other
 *   test run still uses them (see ensureServices).
 * - `ensureServices()`: the same, for a spec file that runs without that globalSetup.
 * - `serviceEndpoints()`: where the tests find them.
 */
import { spawn } from 'node:child_process'
import { resolve } from 'node:path'
import kafkajs from 'kafkajs'

const { Kafka, logLevel } = kafkajs

export const SERVICES_SCRIPT = resolve(import.meta.dirname, '../../scripts/services.sh')

const DEFAULT_BROKERS = '127.0.0.1:19092'
const DEFAULT_REGISTRY_URL = 'http://127.0.0.1:18081/apis/ccompat/v7'
const CCOMPAT_PATH = '/apis/ccompat/v7'
/** The script waits up to 120 s per service after a first fetch of ~200 MB; this only guards a hang. */
const SCRIPT_TIMEOUT_MS = 15 * 60_000

export interface ServiceEndpoints {
  /** Kafka bootstrap servers (SYNCLOG_KAFKA_BROKERS, comma-separated; default 127.0.0.1:19092). */
  readonly brokers: string[]
  /** Confluent-compatible registry base URL (SYNCLOG_REGISTRY_URL; default Apicurio's ccompat v7 on 18081). */
  readonly registryUrl: string
}

export function serviceEndpoints(): ServiceEndpoints {
  const brokers = (process.env.SYNCLOG_KAFKA_BROKERS ?? DEFAULT_BROKERS)
    .split(',')
    .map((b) => b.trim())
    .filter((b) => b !== '')
  const registryUrl = (process.env.SYNCLOG_REGISTRY_URL ?? DEFAULT_REGISTRY_URL).replace(/\/+$/, '')
  return { brokers, registryUrl }
}

/** True when the brokers answer a metadata request. */
export async function kafkaAnswers(brokers: readonly string[], timeoutMs = 3000): Promise<boolean> {
  const admin = new Kafka({
    clientId: 'synclog-services-check',
    brokers: [...brokers],
    logLevel: logLevel.NOTHING,
    connectionTimeout: timeoutMs,
    requestTimeout: timeoutMs,
    retry: { retries: 0 },
  }).admin()
  try {
    await admin.connect()
    await admin.listTopics()
    return true
  } catch {
    return false
  } finally {
    await admin.disconnect().catch(() => undefined)
  }
}

/** True when `GET {registryUrl}/subjects` answers 200 with a JSON array. */
export async function registryAnswers(registryUrl: string, timeoutMs = 3000): Promise<boolean> {
  try {
    const res = await fetch(`${registryUrl}/subjects`, { signal: AbortSignal.timeout(timeoutMs) })
    return res.status === 200 && Array.isArray(await res.json())
  } catch {
    return false
  }
}

type Service = 'kafka' | 'registry'

/** The port of a 127.0.0.1/localhost address, or null when it is elsewhere (not ours to start). */
function localPort(host: string, port: string): number | null {
  if (!['127.0.0.1', 'localhost', '[::1]', '::1'].includes(host)) return null
  const n = Number(port)
  return Number.isInteger(n) && n > 0 && n < 65536 ? n : null
}

/** scripts/services.sh flags that make it start what `endpoints` names, or why it cannot. */
function scriptFlags(service: Service, endpoints: ServiceEndpoints): string[] | string {
  if (service === 'kafka') {
    const [first, ...more] = endpoints.brokers
    const m = first !== undefined && more.length === 0 ? /^(.+):(\d+)$/.exec(first) : null
    const port = m?.[1] !== undefined && m[2] !== undefined ? localPort(m[1], m[2]) : null
    if (port === null)
      return `Kafka at ${endpoints.brokers.join(',')} (SYNCLOG_KAFKA_BROKERS) does not answer, and only one local broker can be started here`
    return ['--kafka-port', String(port)]
  }
  const url = URL.canParse(endpoints.registryUrl) ? new URL(endpoints.registryUrl) : null
  const port =
    url && url.protocol === 'http:' && url.pathname.replace(/\/+$/, '') === CCOMPAT_PATH ? localPort(url.hostname, url.port || '80') : null
  if (port === null)
    return `the registry at ${endpoints.registryUrl} (SYNCLOG_REGISTRY_URL) does not answer, and only http://127.0.0.1:<port>${CCOMPAT_PATH} can be started here`
  return ['--registry-port', String(port)]
}

export type ProgressLog = (line: string) => void

const stderrLog: ProgressLog = (line) => {
  process.stderr.write(`[services] ${line}\n`)
}

/** Runs scripts/services.sh, passing each line it prints to `log`; rejects on a non-zero exit. */
function runScript(args: readonly string[], log: ProgressLog): Promise<void> {
  return new Promise((resolveRun, reject) => {
    const child = spawn('bash', [SERVICES_SCRIPT, ...args], { stdio: ['ignore', 'pipe', 'pipe'], timeout: SCRIPT_TIMEOUT_MS })
    const forward = (stream: NodeJS.ReadableStream): void => {
      let rest = ''
      stream.setEncoding('utf8')
      stream.on('data', (chunk: string) => {
        const lines = (rest + chunk).split('\n')
        rest = lines.pop() ?? ''
        for (const line of lines) if (line !== '') log(line)
      })
      stream.on('end', () => {
        if (rest !== '') log(rest)
      })
    }
    forward(child.stdout)
    forward(child.stderr)
    child.on('error', reject)
    child.on('close', (code, signal) => {
      if (code === 0) resolveRun()
      else reject(new Error(`scripts/services.sh ${args.join(' ')} failed (${signal ?? `exit ${code}`}); logs in .cache/services/run/`))
    })
  })
}

/**
 * Makes sure Kafka and the registry named by `serviceEndpoints()` answer, starting the missing
 * ones with scripts/services.sh (Kafka with `--fresh`: a broker the tests start gets empty
 * data, as the in-memory registry does). Returns the function to call at the end.
 *
 * Each caller holds a lease (its pid) in .cache/services/run/leases: the end stops what a test
 * run started only when no other live test run holds a lease, so two runs can share the
 * services and the first to finish does not pull them from under the other. Services started
 * by hand (`scripts/services.sh start`) or elsewhere are never stopped.
 */
export async function ensureServices(log: ProgressLog = stderrLog): Promise<() => Promise<void>> {
  const endpoints = serviceEndpoints()
  const lease = ['--lease', String(process.pid)]
  const release = async (): Promise<void> => runScript(['release', ...lease], log)
  const [kafkaUp, registryUp] = await Promise.all([kafkaAnswers(endpoints.brokers), registryAnswers(endpoints.registryUrl)])
  const missing: Service[] = []
  if (!kafkaUp) missing.push('kafka')
  if (!registryUp) missing.push('registry')
  if (missing.length === 0) {
    await runScript(['lease', ...lease], log)
    log(`using Kafka at ${endpoints.brokers.join(',')} and the registry at ${endpoints.registryUrl}`)
    return release
  }

  const flags: string[] = []
  for (const service of missing) {
    const f = scriptFlags(service, endpoints)
    if (typeof f === 'string') throw new Error(`${f}. Start it, or unset the variable to let the tests start a local one.`)
    flags.push(...f)
  }
  log(`starting ${missing.join(' and ')} with scripts/services.sh (the first run fetches ~200 MB of jars from Maven Central)`)
  const started = Date.now()
  try {
    await runScript(['start', ...missing, ...flags, '--fresh', ...lease], log)
    const [kafkaNow, registryNow] = await Promise.all([kafkaAnswers(endpoints.brokers), registryAnswers(endpoints.registryUrl)])
    if (!kafkaNow || !registryNow) {
      throw new Error(`scripts/services.sh started ${missing.join(' and ')}, but ${kafkaNow ? 'the registry' : 'Kafka'} does not answer`)
    }
  } catch (e) {
    await release().catch(() => undefined)
    throw e
  }
  log(`${missing.join(' and ')} ready in ${((Date.now() - started) / 1000).toFixed(1)} s`)
  return release
}

/** vitest globalSetup: see the file comment. */
export default async function setup(): Promise<() => Promise<void>> {
  return ensureServices()
}
