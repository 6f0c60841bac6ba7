/**
 * One value per entity type, as an object with a field per type rather than a
 * Map keyed by type: the fold reads these for every record, and a field read is
 * cheaper than a Map lookup.
 */
import type { EntityType } from '../events/change-event.js'

export type PerEntity<T> = { [E in EntityType]: T }

/** A fresh value per entity type, each made by `make`. */
export function perEntity<T>(make: () => T): PerEntity<T> {
  return { org: make(), academicSession: make(), course: make(), user: make(), class: make(), enrollment: make() }
}
