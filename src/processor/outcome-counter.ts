import type { EntityType } from '../events/change-event.js'
import { ZERO_COUNTS, type Outcome, type OutcomeCounts } from '../events/sync-log-event.js'
import { isError } from './outcome-rules.js'
import { perEntity } from './per-entity.js'

const FIELD: Record<Outcome, keyof OutcomeCounts> = {
  New: 'new',
  Updated: 'updated',
  'No Change': 'noChange',
  Deleted: 'deleted',
  Skipped: 'skipped',
  Invalid: 'invalid',
  Merged: 'merged',
  Excluded: 'excluded',
}

type MutableCounts = { -readonly [K in keyof OutcomeCounts]: number }

/** Summary counts per entity type and school; Total and Duplicates follow from the outcomes. */
interface Cell {
  readonly entity: EntityType
  readonly schoolId: string
  readonly counts: MutableCounts
}

export class OutcomeCounter {
  /** In the order first counted: the order of the sync's count events. */
  private readonly cells: Cell[] = []
  /** Per type, each school's cell. */
  private readonly bySchool = perEntity(() => new Map<string, Cell>())
  private errors = 0

  add(entity: EntityType, schoolId: string, outcome: Outcome): void {
    const schools = this.bySchool[entity]
    let cell = schools.get(schoolId)
    if (!cell) {
      cell = { entity, schoolId, counts: { ...ZERO_COUNTS } }
      schools.set(schoolId, cell)
      this.cells.push(cell)
    }
    cell.counts[FIELD[outcome]] += 1
    cell.counts.total += 1
    if (outcome === 'Merged' || outcome === 'Excluded') cell.counts.duplicates += 1
    if (isError(outcome)) this.errors++
  }

  /** Sum over schools of one counter for one entity type. */
  total(entity: EntityType, field: keyof OutcomeCounts): number {
    let n = 0
    for (const cell of this.cells) if (cell.entity === entity) n += cell.counts[field]
    return n
  }

  /** Whether any record's outcome is an error (the sync is then Completed with Errors). */
  hasErrors(): boolean {
    return this.errors > 0
  }

  entries(): { entity: EntityType; schoolId: string; counts: OutcomeCounts }[] {
    return [...this.cells]
  }
}
