/** A root cause in one line, as the CLI and the page show it: "class 'CHEM-02' deleted: 35 enrollments, 1 class". */
import type { CauseGroup } from '../clickhouse/cause-groups.js'

/** Each record type in words, one and many. */
const ENTITY_NAMES: ReadonlyMap<string, readonly [one: string, many: string]> = new Map([
  ['org', ['org', 'orgs']],
  ['academicSession', ['academic session', 'academic sessions']],
  ['course', ['course', 'courses']],
  ['user', ['user', 'users']],
  ['class', ['class', 'classes']],
  ['enrollment', ['enrollment', 'enrollments']],
])

/** The cause, then its records per entity type in the group's order (largest first). */
export function causeLine(g: Pick<CauseGroup, 'cause' | 'byEntity'>): string {
  const parts = Object.entries(g.byEntity).map(([entity, n]) => {
    const [one, many] = ENTITY_NAMES.get(entity) ?? [entity, entity]
    return `${n} ${n === 1 ? one : many}`
  })
  return `${g.cause}: ${parts.join(', ')}`
}
