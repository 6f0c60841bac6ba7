/**
 * One input batch of one partition through the pure step, exactly once.
 *
 * The messages are decoded first (a registry that does not answer fails the
 * batch before anything is decided). Then, step by step: the step decides a
 * prefix of the messages against the committed state; its outputs, changelog
 * entries, dead letters, the events forwarded to their tenant's partition and
 * the input offset go out in ONE transaction; only once it committed is the
 * state evolved. A failure anywhere (encode, any send, the commit) aborts the
 * transaction and leaves the state as committed: the batch is redelivered from
 * the last committed offset and gives the same outputs, once.
 *
 * Kafka is reached through the ports below, so this is tested given/when/then
 * without a broker, failing at every point (test/unit/fold-batch.unit.spec.ts).
 */
import type { Message } from 'kafkajs'
import type { ChangeEvent } from '../events/change-event.js'
import type { SyncLogEvent } from '../events/sync-log-event.js'
import { setImmediate as nextTurn } from 'node:timers/promises'
import { SEND_MESSAGES, sendSlices } from '../kafka/send-slices.js'
import { evolve, step, type FoldOptions, type ProcessorState, type StateChange, type StepInput } from '../processor/index.js'

/** An input message as the consumer hands it over. */
export interface InputMessage {
  readonly offset: string
  readonly key: Buffer | null
  readonly value: Buffer | null
  readonly headers?: Readonly<Record<string, Buffer | string | (Buffer | string)[] | undefined>>
}

/** An outgoing record (kafkajs's shape; `partition` set by who sends it). */
export type OutputMessage = Message

export type OutputTopic = 'syncLog' | 'changelog' | 'deadLetter' | 'changeEvents'

/** One Kafka transaction. */
export interface TransactionPort {
  send(topic: OutputTopic, messages: readonly OutputMessage[]): Promise<void>
  /** Commits the input position (the next offset to read) with the transaction. */
  sendOffset(nextOffset: string): Promise<void>
  commit(): Promise<void>
  abort(): Promise<void>
}

export interface FoldBatchPorts {
  /**
   * Decodes the messages' change events, in order: a message whose bytes can never be read
   * comes back as its error (see `isUnreadable`); throws when it cannot tell (registry down).
   */
  decode(values: readonly (Buffer | null)[]): Promise<(ChangeEvent | Error)[]>
  /** Why an error `decode` returned makes its message unreadable; null when it is not the message's fault. */
  isUnreadable(error: unknown): string | null
  encodeOutputs(events: readonly SyncLogEvent[]): OutputMessage[]
  encodeChangelog(changes: readonly StateChange[]): OutputMessage[]
  deadLetter(message: InputMessage, reason: string): OutputMessage
  /** The partition that folds the tenant's events. */
  ownerOf(tenant: string): number
  begin(): Promise<TransactionPort>
  /**
   * Tells the consumer group the member is alive (the client sends one at most every
   * heartbeat interval): called between the parts of a transaction, so a large sync's
   * commit, which can take longer than the session, does not lose the partition.
   */
  heartbeat(): Promise<void>
}

export interface FoldBatchReport {
  readonly events: number
  readonly outputs: number
  readonly deadLetters: number
  readonly forwarded: number
  readonly transactions: number
  /** Offset of the last message whose position was committed. */
  readonly lastCommitted: string | null
}

/** Decodes every message; a message of another partition's tenant is marked to be forwarded there. */
async function readInputs(
  messages: readonly InputMessage[],
  partition: number,
  ports: FoldBatchPorts,
): Promise<{ inputs: StepInput[]; forwardTo: (number | undefined)[] }> {
  const inputs: StepInput[] = []
  const forwardTo: (number | undefined)[] = []
  const decoded = await ports.decode(messages.map((m) => m.value))
  for (const [i, m] of messages.entries()) {
    const event = decoded[i]!
    if (event instanceof Error) {
      const reason = ports.isUnreadable(event)
      if (reason === null) throw event // not the message's fault: the batch is retried
      inputs.push({ offset: m.offset, unreadable: reason })
      forwardTo.push(undefined)
      continue
    }
    const owner = ports.ownerOf(event.tenant)
    if (owner !== partition) {
      inputs.push({ offset: m.offset, elsewhere: true })
      forwardTo.push(owner)
    } else {
      inputs.push({ offset: m.offset, event })
      forwardTo.push(undefined)
    }
  }
  return { inputs, forwardTo }
}

/**
 * Folds `messages` (one partition, in offset order) into `state`, committing as it goes.
 * `onCommitted` runs after each transaction, with the offset committed (the caller
 * resolves it and heartbeats). Throws on the first failure; the state then holds
 * exactly what was committed before it.
 */
export async function foldBatch(
  state: ProcessorState,
  partition: number,
  messages: readonly InputMessage[],
  ports: FoldBatchPorts,
  options: FoldOptions,
  onCommitted: (lastOffset: string) => Promise<void> = async () => undefined,
): Promise<FoldBatchReport> {
  const { inputs, forwardTo } = await readInputs(messages, partition, ports)
  let start = 0
  let outputs = 0
  let deadLetters = 0
  let forwarded = 0
  let transactions = 0
  let lastCommitted: string | null = null
  while (start < inputs.length) {
    const result = step(state, inputs, options, start)
    const end = start + result.consumed
    const dead = result.deadLetters.map((d) => ports.deadLetter(messages[d.index]!, d.reason))
    const forwards: OutputMessage[] = []
    for (let i = start; i < end; i++) {
      const to = forwardTo[i]
      const m = messages[i]!
      if (to !== undefined) {
        forwards.push({ key: m.key, value: m.value, partition: to, headers: { 'synclog.forwarded.from': `${partition}/${m.offset}` } })
      }
    }
    const out = await commitTransaction(
      ports,
      result.outputs,
      result.changes,
      dead,
      forwards,
      (BigInt(messages[end - 1]!.offset) + 1n).toString(),
    )
    // Durable: only now does the state move.
    evolve(state, result.changes)
    transactions++
    outputs += out
    deadLetters += dead.length
    forwarded += forwards.length
    lastCommitted = messages[end - 1]!.offset
    start = end
    await onCommitted(lastCommitted)
  }
  return { events: messages.length, outputs, deadLetters, forwarded, transactions, lastCommitted }
}

/**
 * One transaction: the encoded outputs and changelog, the dead letters, the forwarded
 * events and (with input) the next offset; aborted on any failure. Returns the outputs sent.
 *
 * The client's requests and this process's encoding overlap: the input position goes out
 * first, and each run of sync-log events is encoded while the send before it is at the
 * broker (`nextTurn` lets the client write a request before the CPU work goes on). The
 * sends themselves stay one at a time, in order.
 */
async function commitTransaction(
  ports: FoldBatchPorts,
  events: readonly SyncLogEvent[],
  changes: readonly StateChange[],
  dead: readonly OutputMessage[],
  forwards: readonly OutputMessage[],
  nextOffset: string | null,
): Promise<number> {
  // Folding a large sync's end can take seconds: tell the group before the transaction.
  await ports.heartbeat()
  const tx = await ports.begin()
  const inFlight = new InFlight()
  try {
    if (nextOffset !== null) await inFlight.start(() => tx.sendOffset(nextOffset))
    const changelog = ports.encodeChangelog(changes)
    // Each send within the broker's batch limit (send-slices.ts), a heartbeat after each.
    const sendAll = async (topic: OutputTopic, messages: readonly OutputMessage[]): Promise<void> => {
      for (const slice of sendSlices(messages)) {
        await inFlight.settle()
        await ports.heartbeat()
        await inFlight.start(() => tx.send(topic, slice))
      }
    }
    let sent = 0
    for (let from = 0; from < events.length; from += SEND_MESSAGES) {
      const out = ports.encodeOutputs(events.slice(from, from + SEND_MESSAGES))
      sent += out.length
      await sendAll('syncLog', out)
    }
    await sendAll('changelog', changelog)
    await sendAll('deadLetter', dead)
    await sendAll('changeEvents', forwards)
    await inFlight.settle()
    await ports.heartbeat()
    await tx.commit()
    return sent
  } catch (e) {
    // A request still at the broker is answered before the abort goes out.
    await inFlight.settle().catch(() => undefined)
    await tx.abort().catch(() => undefined)
    throw e
  }
}

/** The one request of a transaction the batch has not yet waited for. */
class InFlight {
  private pending: Promise<void> = Promise.resolve()

  /** Starts `call`, and returns once the client has written its request (it answers later). */
  async start(call: () => Promise<void>): Promise<void> {
    const pending = call()
    // Its failure is thrown by `settle`, not reported as unhandled meanwhile.
    pending.catch(() => undefined)
    this.pending = pending
    await nextTurn()
  }

  /** Waits for the answer to the request in flight; throws its failure. */
  async settle(): Promise<void> {
    const pending = this.pending
    this.pending = Promise.resolve()
    await pending
  }
}

/**
 * Commits what `decideAbandoned` (or any decision made without input) produced:
 * outputs and changelog in one transaction, no offsets; then evolves.
 */
export async function commitWithoutInput(
  state: ProcessorState,
  events: readonly SyncLogEvent[],
  changes: readonly StateChange[],
  ports: FoldBatchPorts,
): Promise<void> {
  if (changes.length === 0 && events.length === 0) return
  await commitTransaction(ports, events, changes, [], [], null)
  evolve(state, changes)
}
