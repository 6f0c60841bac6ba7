/**
 * Change events: the input contract of synclog.
 *
 * A SIS (or the OneRoster importer acting for one) publishes these. Record fields
 * travel as the SIS wrote them (strings, lists of strings): checking them is the
 * fold's job, because a bad field is an *outcome* the district must see in the
 * sync log (Skipped / Invalid), not a transport error.
 *
 * The Avro schema `schemas/change-event.avsc` is the one declaration of the contract:
 * the types, the entity types and the empty field sets are generated from it
 * (`npm run gen:types`, rules in schema-shape.ts); this module adds what follows from them.
 */
import { EMPTY_FIELDS, type EntityFieldsMap, type EntityType } from './generated/change-event.types.js'

export * from './generated/change-event.types.js'

type FieldNames = { readonly [E in EntityType]: readonly (keyof EntityFieldsMap[E] & string)[] }

function namesOf(keep: (value: unknown) => boolean): FieldNames {
  const pick = <E extends EntityType>(e: E): (keyof EntityFieldsMap[E] & string)[] =>
    Object.entries(EMPTY_FIELDS[e])
      .filter(([, v]) => keep(v))
      .map(([k]) => k as keyof EntityFieldsMap[E] & string)
  return {
    org: pick('org'),
    academicSession: pick('academicSession'),
    course: pick('course'),
    user: pick('user'),
    class: pick('class'),
    enrollment: pick('enrollment'),
  }
}

/** Field names of each entity, in OneRoster column order (list fields included). */
export const ENTITY_FIELD_NAMES: FieldNames = namesOf(() => true)

/** Which fields of each entity are lists (arrays of strings). */
export const LIST_FIELDS: { readonly [E in EntityType]: readonly string[] } = namesOf(Array.isArray)
