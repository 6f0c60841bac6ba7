/**
 * The soak: a generated workload published with kafkajs and librdkafka into stream mode
 * run as separate processes (processors and projectors in one consumer group per role, the
 * projectors writing through the `synclog serve` that owns the embedded store), while
 * instances are killed (SIGKILL at moments drawn from the seed) and started again, added
 * and removed, the broker and the registry restarted, and the store's owner killed for a
 * while (unreachable) and stopped for a while (hung). At the end the store is compared row
 * by row with `synclog ingest` of the same events into a fresh data directory.
 *
 * scripts/soak.ts runs it from the command line; test/kafka/soak-short.kafka.spec.ts runs
 * the `short` plan in the test suite.
 */
import { execFile } from 'node:child_process'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { Prng } from '../../src/generate/prng.js'
import { currentSchoolYear } from '../../src/demo/school-year.js'
import { SoakCluster } from './cluster.js'
import { CLI, Fleet, type Member, type Role } from './fleet.js'
import { buildWorkload, checkLibrdkafka, publishWithKafkajs, publishWithLibrdkafka, writeNdjson, type Night } from './workload.js'
import { groupStand, movedOrDone, totalPending, type GroupStand } from './progress.js'
import { compareRows, type Comparison } from './compare.js'

const run = promisify(execFile)

export interface SoakPlan {
  readonly tenants: number
  /** Length of the fault schedule, in seconds (publishing and convergence come on top). */
  readonly durationS: number
  readonly processors: number
  readonly projectors: number
  readonly processorKills: number
  readonly projectorKills: number
  readonly brokerRestarts: number
  readonly registryRestarts: number
  /** The store's owner killed, then started again after this many seconds (0 = not). */
  readonly storeOutageS: number
  /** The store's owner stopped (SIGSTOP), then continued after this many seconds (0 = not). */
  readonly storeHangS: number
  /** One processor and one projector added for a while, then removed (SIGTERM). */
  readonly addAndRemove: boolean
  readonly partitions: number
}

const BASE = { processors: 3, projectors: 2, partitions: 6 } as const

export const SOAK_PLANS = {
  small: {
    ...BASE,
    tenants: 8,
    durationS: 420,
    processorKills: 20,
    projectorKills: 10,
    brokerRestarts: 2,
    registryRestarts: 1,
    storeOutageS: 60,
    storeHangS: 60,
    addAndRemove: true,
  },
  medium: {
    ...BASE,
    tenants: 24,
    durationS: 900,
    processorKills: 40,
    projectorKills: 20,
    brokerRestarts: 3,
    registryRestarts: 1,
    storeOutageS: 60,
    storeHangS: 60,
    addAndRemove: true,
  },
  /** The test suite's version: a few kills and one broker restart. */
  short: {
    ...BASE,
    processors: 2,
    projectors: 2,
    partitions: 3,
    tenants: 2,
    durationS: 60,
    processorKills: 3,
    projectorKills: 2,
    brokerRestarts: 1,
    registryRestarts: 0,
    storeOutageS: 0,
    storeHangS: 0,
    addAndRemove: false,
  },
} as const satisfies Record<string, SoakPlan>

export type SoakScale = keyof typeof SOAK_PLANS

export interface FaultRecord {
  readonly fault: string
  /** Seconds since the schedule started. */
  readonly at: number
  /** Seconds from the repair (restart, SIGCONT) until every partition of the groups it touches moves again or has nothing left; null: not within 5 minutes. */
  recoveryS: number | null
  /** The instance it started was killed by a later fault before it recovered: that fault's recovery counts. */
  superseded?: boolean
}

export interface SoakReport {
  readonly plan: SoakPlan
  readonly seed: number
  readonly published: { readonly kafkajs: number; readonly librdkafka: number; readonly retries: number }
  readonly kills: { readonly processor: number; readonly projector: number }
  readonly faults: readonly FaultRecord[]
  readonly log: Comparison
  readonly syncs: Comparison
  readonly unexpectedExits: readonly { name: string; code: number | null; signal: string | null }[]
  readonly registryMismatches: readonly string[]
  /** Seconds from the last fault's end until both groups had nothing left; null: not within the bound. */
  readonly convergedAfterS: number | null
  readonly totalS: number
}

export interface SoakOptions {
  readonly plan: SoakPlan
  readonly seed: number
  /** Scratch directory of the run (services, data directories, logs). */
  readonly runDir: string
  readonly say: (line: string) => void
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))
const GROUP = 'synclog'
const PREFIX = 'soak.'

interface Action {
  readonly at: number
  readonly what: string
  /** Starts the action; anything that takes time runs in the background (`track`), so the schedule keeps its moments. */
  readonly run: () => Promise<void>
}

export async function runSoak(opts: SoakOptions): Promise<SoakReport> {
  const { plan, seed, runDir } = opts
  const started = Date.now()
  let t0 = started
  const since = (): number => Math.round((Date.now() - t0) / 100) / 10
  const say = (line: string): void => opts.say(`[soak +${since()}s] ${line}`)
  checkLibrdkafka()
  for (const d of ['logs', 'workload', 'services']) await mkdir(join(runDir, d), { recursive: true })

  say(`generating ${plan.tenants} districts x 2 nights (seed ${seed})`)
  const nights = await buildWorkload(join(runDir, 'workload'), plan.tenants, seed, currentSchoolYear(new Date()))
  say(`starting a Kafka broker and a registry of the soak's own`)
  const cluster = await SoakCluster.start(join(runDir, 'services'))
  const env = {
    SYNCLOG_KAFKA_BROKERS: cluster.brokers,
    SYNCLOG_REGISTRY_URL: cluster.registryUrl,
    SYNCLOG_TOPIC_PREFIX: PREFIX,
    SYNCLOG_TOPIC_PARTITIONS: String(plan.partitions),
  }
  const fleet = new Fleet({ env, dataDir: join(runDir, 'stream-data'), logDir: join(runDir, 'logs'), say })
  const kafka = cluster.kafka()
  const admin = kafka.admin()
  const background: Promise<unknown>[] = []
  try {
    await fleet.startServe()
    for (let i = 0; i < plan.processors; i++) await fleet.start('processor')
    for (let i = 0; i < plan.projectors; i++) await fleet.start('projector')
    await waitUntil(
      async () =>
        (
          await Promise.all(
            fleet
              .live('processor')
              .concat(fleet.live('projector'))
              .map((m) => fleet.ready(m)),
          )
        ).every(Boolean) &&
        fleet.live('processor').length >= plan.processors &&
        fleet.live('projector').length >= plan.projectors,
      180_000,
      'the processors and projectors never became ready',
    )
    await admin.connect()
    say(`${plan.processors} processors and ${plan.projectors} projectors ready; serve owns the store`)

    const groups = {
      // The processor writes the input topic too (a tenant's events forwarded to its partition, in transactions): markers there as well.
      processor: { groupId: `${GROUP}-processor`, topic: `${PREFIX}change-events`, slack: 1 },
      projector: { groupId: `${GROUP}-projector`, topic: `${PREFIX}sync-log`, slack: 1 },
    } as const
    const stand = (role: Role): Promise<GroupStand> => groupStand(admin, groups[role].groupId, groups[role].topic, groups[role].slack)
    /** A stand of the group, retried while the broker does not answer. */
    const standSoon = async (role: Role): Promise<GroupStand | undefined> => {
      for (let i = 0; i < 120; i++) {
        const s = await stand(role).catch(() => undefined)
        if (s !== undefined) return s
        await sleep(500)
      }
      return undefined
    }

    const faults: FaultRecord[] = []
    const recovered = async (fault: string, at: number, roles: readonly Role[], members: readonly Member[]): Promise<void> => {
      const record: FaultRecord = { fault, at, recoveryS: null }
      faults.push(record)
      const repaired = Date.now()
      const before = new Map<Role, GroupStand | undefined>()
      for (const role of roles) before.set(role, await standSoon(role))
      while (Date.now() - repaired < 300_000) {
        if (members.some((m) => m.intended)) {
          record.superseded = true
          return
        }
        const ready = (await Promise.all(members.map((m) => fleet.ready(m)))).every(Boolean)
        let moving = ready
        for (const role of roles) {
          if (!moving) break
          const now = await stand(role).catch(() => undefined)
          const then = before.get(role)
          moving = now !== undefined && then !== undefined && movedOrDone(then, now)
        }
        if (moving) {
          record.recoveryS = Math.round((Date.now() - repaired) / 100) / 10
          return
        }
        await sleep(500)
      }
    }
    const track = (p: Promise<unknown>): void => {
      background.push(p.catch((e: unknown) => say(`background task failed: ${(e as Error).message}`)))
    }

    // Publishing: every night 1, then every night 2 once the processors took night 1 in.
    const published = { kafkajs: 0, librdkafka: 0, retries: 0 }
    let registryBack: Promise<void> = Promise.resolve()
    const publish = async (night: Night): Promise<void> => {
      for (let attempt = 1; ; attempt++) {
        await registryBack
        try {
          if (night.producer === 'kafkajs')
            await publishWithKafkajs(
              await writeNdjson(join(runDir, 'workload', `${night.tenant}-${night.night}.ndjson`), night.events),
              env,
            )
          else await publishWithLibrdkafka(night.events, cluster.brokers, cluster.registryUrl, `${PREFIX}change-events`)
          published[night.producer] += night.events.length
          say(`published ${night.tenant} night ${night.night} (${night.events.length} events, ${night.producer})`)
          return
        } catch (e) {
          if (attempt >= 30) throw e
          published.retries++
          say(
            `publishing ${night.tenant} night ${night.night} failed (${(e as Error).message.split('\n')[0]}); again in 3 s (the fold ignores events it has)`,
          )
          await sleep(3_000)
        }
      }
    }

    const prng = new Prng(seed, [13])
    const T = plan.durationS
    const actions: Action[] = []
    const firsts = nights.filter((n) => n.night === 1)
    const seconds = nights.filter((n) => n.night === 2)
    const firstsDone: Promise<void>[] = []
    firsts.forEach((n, i) => {
      let done!: () => void
      firstsDone.push(new Promise<void>((r) => (done = r)))
      actions.push({
        at: (0.35 * T * i) / Math.max(1, firsts.length),
        what: `publish ${n.tenant} night 1`,
        run: async () => track(publish(n).finally(done)),
      })
    })
    seconds.forEach((n, i) => {
      actions.push({
        at: 0.5 * T + (0.3 * T * i) / Math.max(1, seconds.length),
        what: `publish ${n.tenant} night 2`,
        run: async () =>
          track(
            (async () => {
              await Promise.all(firstsDone)
              await waitUntil(
                async () =>
                  (await stand('processor')
                    .then(totalPending)
                    .catch(() => 1)) === 0,
                240_000,
                '',
              ).catch(() => undefined)
              await publish(n)
            })(),
          ),
      })
    })

    const kills = { processor: 0, projector: 0 }
    const killOne =
      (role: Role): Action['run'] =>
      async () =>
        track(
          (async () => {
            let victim: Member | undefined
            for (let i = 0; i < 60 && victim === undefined; i++) {
              const live = fleet.live(role)
              victim = live.length === 0 ? undefined : prng.pick(live)
              if (victim === undefined) await sleep(1_000)
            }
            if (victim === undefined) return
            const at = since()
            fleet.signal(victim, 'SIGKILL')
            kills[role]++
            say(`SIGKILL ${victim.name} (${role} kill ${kills[role]})`)
            await fleet.exited(victim)
            await sleep(prng.int(1_000, 4_000))
            const next = await fleet.start(role)
            await recovered(`${role} SIGKILL`, at, [role], [next])
          })(),
        )
    for (let i = 0; i < plan.processorKills; i++)
      actions.push({ at: 5 + prng.next() * (0.95 * T - 5), what: 'kill a processor', run: killOne('processor') })
    for (let i = 0; i < plan.projectorKills; i++)
      actions.push({ at: 5 + prng.next() * (0.95 * T - 5), what: 'kill a projector', run: killOne('projector') })

    if (plan.addAndRemove) {
      const added = new Map<Role, Member>()
      for (const [role, from, to] of [
        ['processor', 0.2, 0.6],
        ['projector', 0.35, 0.85],
      ] as const) {
        actions.push({
          at: from * T,
          what: `add a ${role}`,
          run: async () => {
            added.set(role, await fleet.start(role))
            say(`added ${added.get(role)!.name}`)
          },
        })
        actions.push({
          at: to * T,
          what: `remove a ${role}`,
          run: async () =>
            track(
              (async () => {
                const m = fleet.live(role).at(-1)
                if (m === undefined) return
                const at = since()
                fleet.signal(m, 'SIGTERM')
                say(`removed ${m.name} (SIGTERM)`)
                await fleet.exited(m)
                await recovered(`${role} removed`, at, [role], [])
              })(),
            ),
        })
      }
    }

    const brokerAt = [0.3, 0.75, 0.9]
    for (let i = 0; i < plan.brokerRestarts; i++) {
      actions.push({
        at: (brokerAt[i] ?? 0.5) * T,
        what: 'restart the broker',
        run: async () =>
          track(
            (async () => {
              const at = since()
              say('restarting the broker (SIGTERM, start on the same data)')
              await cluster.restartKafka()
              say('the broker is back')
              await recovered('broker restart', at, ['processor', 'projector'], [])
            })(),
          ),
      })
    }
    const registryMismatches: string[] = []
    for (let i = 0; i < plan.registryRestarts; i++) {
      actions.push({
        at: 0.45 * T,
        what: 'restart the registry',
        run: async () =>
          track(
            (async () => {
              const at = since()
              say('restarting the registry (its schemas registered again under their ids)')
              const restart = cluster.restartRegistry()
              registryBack = restart.then(
                () => undefined,
                () => undefined,
              )
              fleet.holdRestarts(registryBack)
              const { restored, mismatched } = await restart
              registryMismatches.push(...mismatched)
              say(
                `registry back with ${restored} schema versions${mismatched.length === 0 ? ', same ids' : `; ids changed: ${mismatched.join('; ')}`}`,
              )
              await recovered('registry restart', at, ['processor'], [])
            })(),
          ),
      })
    }
    if (plan.storeOutageS > 0) {
      actions.push({
        at: 0.1 * T,
        what: "kill the store's owner",
        run: async () =>
          track(
            (async () => {
              const serve = fleet.serve!
              const at = since()
              fleet.signal(serve, 'SIGKILL')
              say(`SIGKILL ${serve.name}: the store is unreachable for ${plan.storeOutageS} s`)
              await sleep(plan.storeOutageS * 1000)
              const again = await startServeAgain(fleet, say)
              await recovered(`store unreachable ${plan.storeOutageS} s`, at, ['projector'], [again])
            })(),
          ),
      })
    }
    if (plan.storeHangS > 0) {
      actions.push({
        at: 0.55 * T,
        what: "hang the store's owner",
        run: async () =>
          track(
            (async () => {
              const serve = fleet.serve!
              const at = since()
              fleet.signal(serve, 'SIGSTOP')
              say(`SIGSTOP ${serve.name}: the store hangs for ${plan.storeHangS} s`)
              await sleep(plan.storeHangS * 1000)
              fleet.signal(serve, 'SIGCONT')
              say(`SIGCONT ${serve.name}`)
              await recovered(`store hung ${plan.storeHangS} s`, at, ['projector'], [serve])
            })(),
          ),
      })
    }

    actions.sort((a, b) => a.at - b.at)
    t0 = Date.now()
    say(`schedule of ${actions.length} actions over ${T} s`)
    for (const action of actions) {
      const wait = t0 + action.at * 1000 - Date.now()
      if (wait > 0) await sleep(wait)
      await action.run()
    }
    // Publishing tasks and restarts still under way (they are tracked in `background`).
    while (background.length > 0) await Promise.all(background.splice(0))
    const lastFault = Date.now()
    say('schedule done; waiting for both groups to have nothing left')
    let convergedAfterS: number | null = null
    let calm = 0
    while (Date.now() - lastFault < 900_000) {
      const [p, q] = [await stand('processor').catch(() => undefined), await stand('projector').catch(() => undefined)]
      calm = p !== undefined && q !== undefined && totalPending(p) === 0 && totalPending(q) === 0 ? calm + 1 : 0
      if (calm >= 5) {
        convergedAfterS = Math.round((Date.now() - lastFault) / 100) / 10
        break
      }
      await sleep(1_000)
    }
    say(
      convergedAfterS === null
        ? 'the groups did not catch up within 15 minutes; comparing what is there'
        : `caught up ${convergedAfterS} s after the schedule`,
    )
    const data = join(runDir, 'stream-data')
    const streamed = await stableRows(data)

    say('ingesting the same events into a fresh data directory (the reference)')
    const referenceDir = join(runDir, 'reference')
    const all = await writeNdjson(
      join(runDir, 'workload', 'all.ndjson'),
      [...firsts, ...seconds].flatMap((n) => n.events),
    )
    await run(process.execPath, [CLI, 'ingest', all, '--data', referenceDir], {
      env: { ...process.env, SYNCLOG_LOG_LEVEL: 'warn' },
      maxBuffer: 64 * 1024 * 1024,
    })
    const reference = await readRows(referenceDir)
    return {
      plan,
      seed,
      published,
      kills,
      faults,
      log: compareRows(reference.log, streamed.log),
      syncs: compareRows(reference.syncs, streamed.syncs),
      unexpectedExits: fleet.unexpectedExits,
      registryMismatches,
      convergedAfterS,
      totalS: Math.round((Date.now() - started) / 1000),
    }
  } finally {
    await Promise.allSettled(background)
    await admin.disconnect().catch(() => undefined)
    await fleet.close()
    await cluster.stop()
  }
}

/** Starts the store's owner again; a start that fails (a store left damaged by the kill) is tried twice more. */
async function startServeAgain(fleet: Fleet, say: (line: string) => void): Promise<Member> {
  for (let attempt = 1; ; attempt++) {
    try {
      const serve = await fleet.startServe()
      say(`${serve.name} serves the store again`)
      return serve
    } catch (e) {
      say(`synclog serve did not start again: ${(e as Error).message}`)
      if (attempt >= 3) throw e
      await sleep(5_000)
    }
  }
}

type Row = Record<string, unknown>

/** The log rows and syncs of a data directory (through its service when one runs). */
async function readRows(data: string): Promise<{ log: Row[]; syncs: Row[] }> {
  const cli = async (args: string[]): Promise<Row[]> => {
    const { stdout } = await run(process.execPath, [CLI, ...args, '--data', data], {
      env: { ...process.env, SYNCLOG_LOG_LEVEL: 'warn' },
      maxBuffer: 1024 * 1024 * 1024,
    })
    const text = stdout.trim()
    if (text === '') return []
    return text.startsWith('[') ? (JSON.parse(text) as Row[]) : text.split('\n').map((l) => JSON.parse(l) as Row)
  }
  return {
    log: await cli(['log', '--format', 'json', '--include-rejected', '--from', '2000-01-01']),
    syncs: await cli(['syncs', '--format', 'json', '--limit', '100000']),
  }
}

/** The store's rows once two reads 5 s apart agree (a projector may still be writing its last batch). */
async function stableRows(data: string): Promise<{ log: Row[]; syncs: Row[] }> {
  let last = await readRows(data)
  for (let i = 0; i < 24; i++) {
    await sleep(5_000)
    const now = await readRows(data)
    if (now.log.length === last.log.length && now.syncs.length === last.syncs.length) return now
    last = now
  }
  return last
}

async function waitUntil(condition: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const until = Date.now() + timeoutMs
  while (Date.now() < until) {
    if (await condition()) return
    await sleep(500)
  }
  throw new Error(what)
}
