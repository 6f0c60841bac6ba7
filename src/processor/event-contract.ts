/**
 * What an event must satisfy before it is folded: everything the store will
 * need from it later. An event that breaks it is a dead letter at the
 * processor, named and kept, instead of a row the projector can never write.
 */
import type { ChangeEvent } from '../events/change-event.js'
import { parseInstant } from '../events/instant.js'

/** Why the event cannot be folded, or null when it can. */
export function eventProblem(e: ChangeEvent): string | null {
  for (const field of ['eventId', 'tenant', 'syncId'] as const) {
    if (typeof e[field] !== 'string' || e[field].trim() === '') return `${field} is empty: every event needs one`
  }
  if (parseInstant(e.occurredAt) === null) {
    return `occurredAt '${e.occurredAt}' is not an ISO-8601 instant between 1900 and 2299 (the range the sync log can store)`
  }
  return null
}
