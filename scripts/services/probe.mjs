// Readiness probe for scripts/services.sh: exits 0 when the service answers a real request.
//   node probe.mjs kafka 127.0.0.1:19092                         (metadata request via kafkajs admin)
//   node probe.mjs registry http://127.0.0.1:18081/apis/ccompat/v7  (GET /subjects answers a JSON array)
// Prints the reason on stderr when it does not answer; never retries (the caller loops).
/* global process, console, fetch, AbortSignal */

const [what, target] = process.argv.slice(2)
const TIMEOUT_MS = 3000

async function kafka(brokers) {
  const { Kafka, logLevel } = await import('kafkajs')
  const admin = new Kafka({
    clientId: 'synclog-services-probe',
    brokers: brokers.split(','),
    logLevel: logLevel.NOTHING,
    connectionTimeout: TIMEOUT_MS,
    requestTimeout: TIMEOUT_MS,
    retry: { retries: 0 },
  }).admin()
  try {
    await admin.connect()
    const cluster = await admin.describeCluster()
    await admin.listTopics()
    return `cluster ${cluster.clusterId}, controller ${cluster.controller}, ${cluster.brokers.length} broker(s)`
  } finally {
    await admin.disconnect().catch(() => {})
  }
}

async function registry(url) {
  const res = await fetch(`${url.replace(/\/+$/, '')}/subjects`, { signal: AbortSignal.timeout(TIMEOUT_MS) })
  if (res.status !== 200) throw new Error(`GET /subjects answered HTTP ${res.status}`)
  const body = await res.json()
  if (!Array.isArray(body)) throw new Error(`GET /subjects answered ${JSON.stringify(body).slice(0, 200)}, not an array`)
  return `${body.length} subject(s)`
}

const probes = { kafka, registry }
const probe = probes[what]
if (!probe || !target) {
  console.error('usage: node probe.mjs kafka HOST:PORT[,HOST:PORT] | registry URL')
  process.exit(2)
}
try {
  const info = await probe(target)
  console.log(info)
  process.exit(0)
} catch (err) {
  console.error(`${what} at ${target} does not answer: ${err instanceof Error ? err.message : String(err)}`)
  process.exit(1)
}
