/**
 * The processor's batch, given/when/then, without a broker: an in-memory log
 * stands for Kafka's transactions (all or nothing, offsets with the outputs).
 * Whatever point of a batch fails, the batch redelivered from the committed
 * offset gives the same sync-log events as a batch that never failed, once.
 */
import { describe, expect, it } from 'vitest'
import type { ChangeEvent } from '../../src/events/change-event.js'
import { createProcessorState, DEFAULT_FOLD_OPTIONS, type FoldOptions, type ProcessorState } from '../../src/processor/index.js'
import {
  foldBatch,
  type FoldBatchPorts,
  type InputMessage,
  type OutputMessage,
  type OutputTopic,
  type TransactionPort,
} from '../../src/stream/fold-batch.js'
import { DELTA, smallDistrict, student, sync } from '../support/sis.js'

type FailurePoint =
  'decode' | 'encode' | 'heartbeat' | 'send:syncLog' | 'send:changelog' | 'send:deadLetter' | 'send:changeEvents' | 'offsets' | 'commit'

class Unavailable extends Error {}
class Unreadable extends Error {}

/** Kafka as far as one input partition is concerned: committed topics and the group's offset. */
class MemoryLog {
  readonly topics = new Map<OutputTopic, OutputMessage[]>()
  committed = 0n
  /** What the batch asked of Kafka, in order: 'begin', 'send:<topic>', 'heartbeat', 'commit'. */
  readonly calls: string[] = []
  /** Fails the first time the point is reached, after `skip` earlier passes. */
  failure: { point: FailurePoint; skip: number } | undefined

  constructor(
    private readonly partition = 0,
    private readonly owners: ReadonlyMap<string, number> = new Map(),
  ) {}

  private reach(point: FailurePoint): void {
    if (this.failure?.point !== point) return
    if (this.failure.skip-- > 0) return
    this.failure = undefined
    throw new Unavailable(`${point} failed`)
  }

  read(topic: OutputTopic): OutputMessage[] {
    return this.topics.get(topic) ?? []
  }

  ports(): FoldBatchPorts {
    return {
      decode: async (values) => {
        this.reach('decode')
        return values.map((value) => {
          try {
            return JSON.parse(value!.toString('utf8')) as ChangeEvent
          } catch (e) {
            return new Unreadable(`not JSON: ${(e as Error).message}`)
          }
        })
      },
      isUnreadable: (e) => (e instanceof Unreadable ? e.message : null),
      encodeOutputs: (events) => {
        this.reach('encode')
        return events.map((e) => ({ key: e.tenant, value: Buffer.from(JSON.stringify(e)) }))
      },
      encodeChangelog: (changes) => changes.filter((c) => c.kind !== 'intake').map((c) => ({ key: c.kind, value: null })),
      deadLetter: (m, reason) => ({ key: m.key, value: m.value, headers: { reason } }),
      ownerOf: (tenant) => this.owners.get(tenant) ?? this.partition,
      heartbeat: async () => {
        this.reach('heartbeat')
        this.calls.push('heartbeat')
      },
      begin: async (): Promise<TransactionPort> => {
        this.calls.push('begin')
        const staged = new Map<OutputTopic, OutputMessage[]>()
        let offset: bigint | undefined
        return {
          send: async (topic, messages) => {
            this.reach(`send:${topic}`)
            this.calls.push(`send:${topic}`)
            staged.set(topic, [...(staged.get(topic) ?? []), ...messages])
          },
          sendOffset: async (next) => {
            this.reach('offsets')
            offset = BigInt(next)
          },
          commit: async () => {
            this.reach('commit')
            this.calls.push('commit')
            for (const [topic, messages] of staged) this.topics.set(topic, [...this.read(topic), ...messages])
            if (offset !== undefined) this.committed = offset
          },
          abort: async () => undefined,
        }
      },
    }
  }
}

function asInput(events: readonly (ChangeEvent | string)[]): InputMessage[] {
  return events.map((e, i) => ({
    offset: String(i),
    key: Buffer.from(typeof e === 'string' ? 'x' : e.tenant),
    value: Buffer.from(typeof e === 'string' ? e : JSON.stringify(e)),
  }))
}

/** Consumes the partition as the consumer would: every failure is followed by a redelivery from the committed offset. */
async function consume(
  log: MemoryLog,
  state: ProcessorState,
  input: InputMessage[],
  options: FoldOptions = DEFAULT_FOLD_OPTIONS,
  batchSize = 7,
): Promise<number> {
  let failures = 0
  for (let attempts = 0; log.committed < BigInt(input.length); attempts++) {
    if (attempts > 100) throw new Error('the partition never got through')
    const batch = input.slice(Number(log.committed), Number(log.committed) + batchSize)
    try {
      await foldBatch(state, 0, batch, log.ports(), options)
    } catch (e) {
      if (!(e instanceof Unavailable)) throw e
      failures++
    }
  }
  return failures
}

const syncLog = (log: MemoryLog): string[] => log.read('syncLog').map((m) => m.value!.toString('utf8'))

function history(): ChangeEvent[] {
  return [
    ...smallDistrict(sync(undefined, 'night-1'), { students: 5 }).end(),
    ...sync(DELTA, 'night-2')
      .upsert('user', 'stu9', student('New', 'Kid', 'sch1', 'S009'))
      .delete('user', 'stu2')
      .end(),
  ]
}

async function cleanRun(events: ChangeEvent[]): Promise<string[]> {
  const log = new MemoryLog()
  await consume(log, createProcessorState(), asInput(events))
  return syncLog(log)
}

describe('a batch that fails at any point, redelivered', () => {
  const points: FailurePoint[] = ['decode', 'encode', 'heartbeat', 'send:syncLog', 'send:changelog', 'offsets', 'commit']
  for (const point of points) {
    for (const skip of [0, 2]) {
      it(`gives the same sync log once when ${point} fails (after ${skip} successful passes)`, async () => {
        const events = history()
        const expected = await cleanRun(events)
        expect(expected.length).toBeGreaterThan(10)

        const log = new MemoryLog()
        log.failure = { point, skip }
        const failures = await consume(log, createProcessorState(), asInput(events))

        expect(failures).toBe(1)
        expect(syncLog(log)).toEqual(expected)
      })
    }
  }

  it('gives the same sync log once when sending a dead letter fails', async () => {
    const clean = history()
    const events: (ChangeEvent | string)[] = [...clean]
    events.splice(3, 0, 'these bytes are not an event')
    const log = new MemoryLog()
    log.failure = { point: 'send:deadLetter', skip: 0 }
    expect(await consume(log, createProcessorState(), asInput(events))).toBe(1)
    expect(syncLog(log)).toEqual(await cleanRun(clean))
    expect(log.read('deadLetter').map((m) => m.value!.toString('utf8'))).toEqual(['these bytes are not an event'])
  })

  it('gives the same sync log once when the fold itself throws', async () => {
    let throws = 1
    const onboarded = new Map<string, readonly string[]>()
    const flaky = new Proxy(onboarded, {
      get(target, prop) {
        if (prop === 'get' && throws-- > 0)
          return () => {
            throw new Unavailable('fold failed')
          }
        const value = Reflect.get(target, prop, target) as unknown
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value
      },
    })
    const events = history()
    const log = new MemoryLog()
    const failures = await consume(log, createProcessorState(), asInput(events), { ...DEFAULT_FOLD_OPTIONS, onboardedSchools: flaky })
    expect(failures).toBe(1)
    expect(syncLog(log)).toEqual(await cleanRun(events))
  })

  it('leaves the state exactly as committed when the transaction fails', async () => {
    const events = history()
    const log = new MemoryLog()
    const state = createProcessorState()
    await consume(log, state, asInput(events.slice(0, -1)))
    const before = JSON.stringify([...state.tenants.get('district-a')!.syncs.values()])
    log.failure = { point: 'commit', skip: 0 }
    await expect(foldBatch(state, 0, asInput(events).slice(-1), log.ports(), DEFAULT_FOLD_OPTIONS)).rejects.toThrow('commit failed')
    expect(JSON.stringify([...state.tenants.get('district-a')!.syncs.values()])).toBe(before)
    expect(state.tenants.get('district-a')!.pending.has('night-2')).toBe(true)
  })
})

describe('a batch of events whose tenant belongs to another partition', () => {
  it('forwards them to that partition in the transaction and folds none of them here', async () => {
    const log = new MemoryLog(0, new Map([['district-a', 3]]))
    const state = createProcessorState()
    const input = asInput(history())
    await consume(log, state, input)
    expect(syncLog(log)).toEqual([])
    expect(state.tenants.size).toBe(0)
    expect(log.read('changeEvents').map((m) => m.partition)).toEqual(input.map(() => 3))
    expect(log.read('changeEvents').map((m) => m.value)).toEqual(input.map((m) => m.value))
  })

  it('forwards each of them once when sending them fails and the batch is redelivered', async () => {
    const log = new MemoryLog(0, new Map([['district-a', 3]]))
    log.failure = { point: 'send:changeEvents', skip: 1 }
    const input = asInput(history())
    expect(await consume(log, createProcessorState(), input)).toBe(1)
    expect(log.read('changeEvents').map((m) => m.value)).toEqual(input.map((m) => m.value))
  })
})

describe("a large sync's commit", () => {
  it('heartbeats before its transaction and after every send, so the group keeps a member busy with it', async () => {
    const log = new MemoryLog()
    const events = smallDistrict(sync(undefined, 'big'), { students: 1200 }).end()
    await foldBatch(createProcessorState(), 0, asInput(events), log.ports(), DEFAULT_FOLD_OPTIONS)
    // The last transaction is the sync's end: its rows go out in slices of at most SEND_MESSAGES.
    const end = log.calls.slice(log.calls.lastIndexOf('begin') - 1)
    expect(end[0]).toBe('heartbeat')
    expect(end.filter((c) => c === 'send:syncLog').length).toBeGreaterThanOrEqual(3)
    end.forEach((call, i) => {
      if (call.startsWith('send:')) expect(end[i + 1]).toBe('heartbeat')
    })
    expect(end.at(-1)).toBe('commit')
  })
})

/**
 * The log's ports with a broker that answers each send a few milliseconds later, as a real one
 * does; `trace` gets 'encode', 'send <topic>' and 'answered <topic>' in the order they happen.
 */
function slowBroker(log: MemoryLog, trace: string[], failEncodeAt = -1): FoldBatchPorts {
  const ports = log.ports()
  let encodes = 0
  return {
    ...ports,
    encodeOutputs: (events) => {
      if (encodes++ === failEncodeAt) throw new Unavailable('encode failed')
      trace.push('encode')
      return ports.encodeOutputs(events)
    },
    begin: async () => {
      const tx = await ports.begin()
      return {
        ...tx,
        send: async (topic, messages) => {
          trace.push(`send ${topic}`)
          await new Promise((resolve) => setTimeout(resolve, 5))
          await tx.send(topic, messages)
          trace.push(`answered ${topic}`)
        },
        abort: async () => {
          trace.push('abort')
          await tx.abort()
        },
      }
    },
  }
}

describe("a large sync's sends", () => {
  const bigSync = (): InputMessage[] => asInput(smallDistrict(sync(undefined, 'big'), { students: 1200 }).end())

  it('encode the next rows while the send before them is at the broker, one send at a time and in order', async () => {
    const log = new MemoryLog()
    const trace: string[] = []
    const input = bigSync()
    await foldBatch(createProcessorState(), 0, input, slowBroker(log, trace), DEFAULT_FOLD_OPTIONS)
    // The sync's end sends its rows in at least three runs: each run after the first is encoded during the send before it.
    const overlapped = trace.filter((t, i) => t === 'send syncLog' && trace[i + 1] === 'encode' && trace[i + 2] === 'answered syncLog')
    expect(overlapped.length).toBeGreaterThanOrEqual(2)
    const sends = trace.filter((t) => !t.startsWith('encode'))
    sends.forEach((t, i) => {
      if (t.startsWith('send ')) expect(sends[i + 1]).toBe(t.replace('send', 'answered'))
    })
    const direct = new MemoryLog()
    await foldBatch(createProcessorState(), 0, input, direct.ports(), DEFAULT_FOLD_OPTIONS)
    expect(syncLog(log)).toEqual(syncLog(direct))
  })

  it('abort only once the send in flight is answered when encoding the rows after it fails, and commit nothing', async () => {
    const log = new MemoryLog()
    const trace: string[] = []
    const input = bigSync()
    const state = createProcessorState()
    // The first transactions (the sync's start, its records) encode once each; the end's second run fails.
    const ends = await foldBatch(state, 0, input.slice(0, -1), log.ports(), DEFAULT_FOLD_OPTIONS)
    const before = syncLog(log)
    await expect(foldBatch(state, 0, input.slice(-1), slowBroker(log, trace, 1), DEFAULT_FOLD_OPTIONS)).rejects.toThrow('encode failed')
    expect(ends.transactions).toBeGreaterThan(0)
    expect(trace.slice(-2)).toEqual(['answered syncLog', 'abort'])
    expect(syncLog(log)).toEqual(before)
    expect(log.committed).toBe(BigInt(input.length - 1))
  })
})

describe('the step a batch is cut into', () => {
  it('commits a sync start, its records and its end in separate transactions, so no event is decided against changes not yet committed', async () => {
    const log = new MemoryLog()
    const state = createProcessorState()
    const events = smallDistrict(sync(undefined, 'one'), { students: 1 }).end()
    const report = await foldBatch(state, 0, asInput(events), log.ports(), DEFAULT_FOLD_OPTIONS)
    expect(report.transactions).toBe(3)
    expect(log.committed).toBe(BigInt(events.length))
  })

  it('sends an event with an occurredAt the store cannot hold to the dead letters with the reason', async () => {
    const log = new MemoryLog()
    const events = smallDistrict(sync(undefined, 'one'), { students: 1 }).end()
    const bad = { ...events[1]!, occurredAt: '1850-01-01T00:00:00Z' } as ChangeEvent
    events.splice(1, 1, bad)
    await foldBatch(createProcessorState(), 0, asInput(events), log.ports(), DEFAULT_FOLD_OPTIONS)
    expect(log.read('deadLetter').map((m) => m.headers?.reason)).toEqual([
      "occurredAt '1850-01-01T00:00:00Z' is not an ISO-8601 instant between 1900 and 2299 (the range the sync log can store)",
    ])
  })
})
