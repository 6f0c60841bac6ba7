/**
 * The processor's unit of work: a pure step over a run of input events.
 *
 *   step(state, inputs) -> { consumed, changes, outputs, deadLetters }
 *
 * Every input is decided against the state as it was when the step began; the
 * state is not touched. The adapter makes the outputs, the dead letters and the
 * input position durable together (one Kafka transaction, one store write) and
 * only then evolves the state with `changes`; on any failure it drops the
 * result, and the same inputs give the same result again.
 *
 * That is sound because a step never decides an event against changes it has
 * not applied yet: records only add to their open sync (and evolve ignores an
 * event taken in twice), so a run of records is one step; any other event
 * (a sync starting, ending, failing or being decided) changes what later events
 * see, so it is the last event of its step, and starts one only when it is first.
 */
import type { ChangeEvent } from '../events/change-event.js'
import type { SyncLogEvent } from '../events/sync-log-event.js'
import { decide, DEFAULT_FOLD_OPTIONS, type FoldOptions } from './fold.js'
import type { ProcessorState, StateChange } from './evolve.js'
import { eventProblem } from './event-contract.js'

/**
 * One input: a decoded event; why its bytes could not be decoded; or an event
 * another partition folds (its tenant's), which the adapter forwards there.
 * `offset` is its place in the input ('' if none).
 */
export type StepInput =
  | { readonly offset: string; readonly event: ChangeEvent }
  | { readonly offset: string; readonly unreadable: string }
  | { readonly offset: string; readonly elsewhere: true }

export interface DeadLetter {
  /** Index of the input in `inputs`. */
  readonly index: number
  readonly reason: string
}

export interface StepResult {
  /** How many inputs, from `from`, the step consumed: make exactly their position durable. */
  readonly consumed: number
  readonly changes: readonly StateChange[]
  readonly outputs: readonly SyncLogEvent[]
  readonly deadLetters: readonly DeadLetter[]
  /** Inputs with no effect (redeliveries, records of a closed sync). */
  readonly ignored: number
}

const isRecord = (e: ChangeEvent): boolean => e.type === 'RecordChanged' || e.type === 'RecordUnreadable'

/** Decides the inputs from `from` on, as many as one step may (at least one), against `state`, without changing it. */
export function step(
  state: ProcessorState,
  inputs: readonly StepInput[],
  options: FoldOptions = DEFAULT_FOLD_OPTIONS,
  from = 0,
): StepResult {
  const changes: StateChange[] = []
  const outputs: SyncLogEvent[] = []
  const deadLetters: DeadLetter[] = []
  let ignored = 0
  let i = from
  for (; i < inputs.length; i++) {
    const input = inputs[i]!
    if ('elsewhere' in input) continue
    if ('unreadable' in input) {
      deadLetters.push({ index: i, reason: input.unreadable })
      continue
    }
    const problem = eventProblem(input.event)
    if (problem) {
      deadLetters.push({ index: i, reason: problem })
      continue
    }
    const control = !isRecord(input.event)
    if (control && changes.length > 0) break
    const decision = decide(state, input, options)
    if (decision.rejected) deadLetters.push({ index: i, reason: decision.rejected })
    if (decision.ignored) ignored++
    // A sync's end can bring hundreds of thousands: no spread (it would overflow the stack).
    for (const e of decision.events) outputs.push(e)
    for (const c of decision.changes) changes.push(c)
    if (control && decision.changes.length > 0) {
      i++
      break
    }
  }
  return { consumed: i - from, changes, outputs, deadLetters, ignored }
}
