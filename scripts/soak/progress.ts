/**
 * Where a consumer group stands, from the broker's own offsets: how far it committed and how
 * many records it has not yet. Records written in transactions (the sync-log topic, and the
 * change events the processor forwards to their tenant's partition) end with a commit marker
 * that takes an offset and is never consumed, so a partition with one record pending there
 * counts as caught up (`markerSlack`); the row-by-row comparison at the end finds any record
 * really left behind.
 */
import type { Admin } from 'kafkajs'

export interface GroupStand {
  /** Committed offset per partition (the low watermark where the group committed nothing). */
  readonly committed: ReadonlyMap<number, number>
  /** Records not yet committed, per partition. */
  readonly pending: ReadonlyMap<number, number>
}

/** Records not yet committed, over every partition. */
export const totalPending = (s: GroupStand): number => [...s.pending.values()].reduce((a, b) => a + b, 0)

/** Whether every partition has moved on since `before`, or has nothing left to take. */
export const movedOrDone = (before: GroupStand, now: GroupStand): boolean =>
  [...now.pending].every(([p, pending]) => pending === 0 || (now.committed.get(p) ?? 0) > (before.committed.get(p) ?? 0))

export async function groupStand(admin: Admin, groupId: string, topic: string, markerSlack: number): Promise<GroupStand> {
  const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] })
  const committedBy = new Map((offsets?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]))
  const committed = new Map<number, number>()
  const pending = new Map<number, number>()
  for (const p of await admin.fetchTopicOffsets(topic)) {
    const at = Math.max(committedBy.get(p.partition) ?? -1, Number(p.low))
    committed.set(p.partition, at)
    pending.set(p.partition, Math.max(0, Number(p.high) - at - markerSlack))
  }
  return { committed, pending }
}
