/**
 * Identifiers a SIS may send that code keyed by plain objects mistakes for
 * JavaScript's own properties (`__proto__`, `constructor`, `toString`, every
 * name a built-in prototype has), and other opaque-id edge cases: numeric
 * strings, inner whitespace, non-ASCII, quotes, separators. Generated, not
 * listed by hand, so a new built-in property joins the corpus by itself.
 */
import type { OutcomeCountsJson, SyncSummary } from '../../src/clickhouse/types.js'
import type { Row, OneRosterTables } from '../../src/demo/write-oneroster.js'
import { oneRosterRow } from '../../src/demo/write-oneroster.js'
import { section, student, teacher, type SyncScript } from './sis.js'

/** Own property names of the built-in prototypes and constructors (and of the global object). */
export function builtinPropertyNames(): string[] {
  const holders: object[] = [
    Object.prototype,
    Function.prototype,
    Array.prototype,
    String.prototype,
    Number.prototype,
    Boolean.prototype,
    Symbol.prototype,
    BigInt.prototype,
    Date.prototype,
    RegExp.prototype,
    Error.prototype,
    Promise.prototype,
    Map.prototype,
    Set.prototype,
    WeakMap.prototype,
    ArrayBuffer.prototype,
    Object,
    Function,
    Array,
    globalThis,
  ]
  const names = new Set<string>(['__proto__', 'prototype', 'then', 'toJSON', 'constructor'])
  for (const holder of holders) for (const name of Object.getOwnPropertyNames(holder)) names.add(name)
  return [...names]
}

/** Opaque ids that are not property names: numbers as text, spacing, scripts, quotes, separators. */
export const ODD_IDS: readonly string[] = [
  '0',
  '1',
  '-1',
  '00',
  '1e3',
  '1.5',
  '-0',
  'NaN',
  'Infinity',
  '-Infinity',
  '4294967295',
  '4294967296',
  '9007199254740993',
  '0x10',
  'a b',
  'a  b',
  'a\u00a0b',
  'zero\u200bwidth',
  'tab\tinside',
  'ñandú',
  'Zoë',
  'e\u0301',
  'é',
  '学生',
  'ученик',
  'طالب',
  '😀',
  '👩‍🎓',
  'sch:001',
  'district/school/42',
  'C:\\temp',
  '../..',
  '.',
  '..',
  'a.b.c',
  '%2F',
  '%00',
  '?x=1&y=2',
  '#frag',
  'say "hi"',
  "o'brien",
  '`tick`',
  '<script>',
  '&amp;',
  '{}',
  '[]',
  'null',
  'undefined',
  'true',
  'false',
  '=1+1',
  '+1',
  '@sum',
  '-cmd',
  'a;b',
  'a|b',
  '${x}',
  '\\u0000',
]

/** Ids with a comma or outer whitespace: fine as a record's own sourcedId, but a OneRoster CSV list splits on commas and trims. */
export const NOT_IN_CSV_LISTS: readonly string[] = ['a,b', ',lead', 'trail,', ' lead', 'trail ', ' both ']

/** Ids the docs treat as missing: blank or whitespace only ("sourcedId is required"). */
export const BLANK_IDS: readonly string[] = ['', ' ', '   ', '\t']

/** Every hostile id, each once, in a stable order. */
export function hostileIds(opts: { csvLists?: boolean } = {}): string[] {
  const all = [...builtinPropertyNames(), ...ODD_IDS, ...(opts.csvLists === false ? [] : NOT_IN_CSV_LISTS)]
  return [...new Set(all)]
}

/** Extension column names (after `metadata.`) that are property names too. */
export const HOSTILE_METADATA_NAMES: readonly string[] = [
  '__proto__',
  'constructor',
  'toString',
  'hasOwnProperty',
  'valueOf',
  '__defineGetter__',
  'length',
  'prototype',
  'then',
  'toJSON',
  '0',
  'ñ a',
]

/**
 * A district whose every record id is hostile: each id is at once a school, a
 * term, a course, a class, a student (and their student number), that student's
 * enrollment and (prefixed `teacher/`) the section's teacher and their
 * enrollment. The district and its school year share `districtId` (default
 * `toString`, an id no school then has). Each student carries every hostile
 * metadata column.
 */
export interface HostileDistrict {
  readonly districtId: string
  /** Every id but `districtId`: one school each, with its term, course, class, student and teacher. */
  readonly schools: readonly string[]
  readonly tables: OneRosterTables
}

export const teacherIdOf = (id: string): string => `teacher/${id}`

export interface HostileDistrictOptions {
  readonly districtId?: string
  readonly schoolName?: (id: string, i: number) => string
  /** A metadata value; undefined keeps the default `<name> of <id>`. */
  readonly metadata?: (id: string, i: number, name: string) => string | undefined
}

export function hostileDistrict(ids: readonly string[], schoolYear: number, opts: HostileDistrictOptions = {}): HostileDistrict {
  const districtId = opts.districtId ?? 'toString'
  const schools = ids.filter((id) => id !== districtId)
  const start = `${schoolYear - 1}-08-15`
  const end = `${schoolYear}-06-15`
  const schoolName = opts.schoolName ?? ((id) => `School ${id}`)
  const metadata = (id: string, i: number): Row =>
    Object.fromEntries(HOSTILE_METADATA_NAMES.map((name) => [`metadata.${name}`, opts.metadata?.(id, i, name) ?? `${name} of ${id}`]))
  const tables: OneRosterTables = {
    orgs: [
      oneRosterRow('orgs', { sourcedId: districtId, name: `District ${districtId}`, type: 'district' }),
      ...schools.map((id, i) =>
        oneRosterRow('orgs', { sourcedId: id, name: schoolName(id, i), type: 'school', identifier: id, parentSourcedId: districtId }),
      ),
    ],
    academicSessions: [
      oneRosterRow('academicSessions', {
        sourcedId: districtId,
        title: `${schoolYear}`,
        type: 'schoolYear',
        startDate: start,
        endDate: end,
        schoolYear: `${schoolYear}`,
      }),
      ...schools.map((id) =>
        oneRosterRow('academicSessions', {
          sourcedId: id,
          title: `Term ${id}`,
          type: 'term',
          startDate: start,
          endDate: end,
          parentSourcedId: districtId,
          schoolYear: `${schoolYear}`,
        }),
      ),
    ],
    courses: schools.map((id) =>
      oneRosterRow('courses', { sourcedId: id, schoolYearSourcedId: districtId, title: `Course ${id}`, courseCode: id, orgSourcedId: id }),
    ),
    classes: schools.map((id) =>
      oneRosterRow('classes', {
        sourcedId: id,
        title: `Section ${id}`,
        courseSourcedId: id,
        classCode: id,
        classType: 'scheduled',
        location: 'Room 1',
        schoolSourcedId: id,
        termSourcedIds: id,
        periods: '1',
      }),
    ),
    users: schools.flatMap((id, i) => [
      oneRosterRow('users', {
        sourcedId: teacherIdOf(id),
        enabledUser: 'true',
        orgSourcedIds: id,
        role: 'teacher',
        username: `t${i}`,
        givenName: 'Pat',
        familyName: `Teacher ${i}`,
        email: `t${i}@district.example`,
      }),
      oneRosterRow('users', {
        sourcedId: id,
        enabledUser: 'true',
        orgSourcedIds: id,
        role: 'student',
        username: `s${i}`,
        givenName: 'Sam',
        familyName: `Student ${i}`,
        identifier: id,
        grades: '09',
        ...metadata(id, i),
      }),
    ]),
    enrollments: schools.flatMap((id) => [
      oneRosterRow('enrollments', {
        sourcedId: teacherIdOf(id),
        classSourcedId: id,
        schoolSourcedId: id,
        userSourcedId: teacherIdOf(id),
        role: 'teacher',
        primary: 'true',
      }),
      oneRosterRow('enrollments', {
        sourcedId: id,
        classSourcedId: id,
        schoolSourcedId: id,
        userSourcedId: id,
        role: 'student',
        primary: 'false',
        beginDate: start,
        endDate: end,
      }),
    ]),
  }
  return { districtId, schools, tables }
}

/** A student's metadata: every hostile name, `__proto__` changed when asked. */
export const hostileMetadata = (id: string, changed = false): Record<string, string> =>
  Object.fromEntries(HOSTILE_METADATA_NAMES.map((name) => [name, changed && name === '__proto__' ? `changed ${id}` : `${name} of ${id}`]))

/**
 * The change events of the same district shape as `hostileDistrict`: each school
 * id also a term, course, class, student (numbered by the id) and enrollment,
 * with a `teacher/<id>` teacher. Students in `without` are left out (a full
 * sync deletes them); students in `retagged` get a new `metadata.__proto__`.
 */
export function hostileSchoolEvents(
  s: SyncScript,
  districtId: string,
  schools: readonly string[],
  opts: { without?: ReadonlySet<string>; retagged?: ReadonlySet<string>; start?: string; end?: string } = {},
): SyncScript {
  const start = opts.start ?? '2024-08-15'
  const end = opts.end ?? '2025-06-15'
  s.upsert('org', districtId, { name: `District ${districtId}`, type: 'district' })
  for (const [i, id] of schools.entries()) {
    s.upsert('org', id, { name: `School ${id}`, type: 'school', parentSourcedId: districtId })
      .upsert('academicSession', id, { title: `Term ${id}`, type: 'term', startDate: start, endDate: end, schoolYear: end.slice(0, 4) })
      .upsert('course', id, { title: `Course ${id}`, courseCode: id, orgSourcedId: id })
      .upsert('user', teacherIdOf(id), teacher('Pat', `Teacher${i}`, id))
      .upsert('class', id, section(id, id, id, { termSourcedIds: [id] }))
      .upsert('enrollment', teacherIdOf(id), {
        classSourcedId: id,
        schoolSourcedId: id,
        userSourcedId: teacherIdOf(id),
        role: 'teacher',
        primary: 'true',
      })
    if (opts.without?.has(id)) continue
    s.upsert('user', id, student('Sam', `Student ${id}`, id, id), { metadata: hostileMetadata(id, opts.retagged?.has(id)) }).upsert(
      'enrollment',
      id,
      { classSourcedId: id, schoolSourcedId: id, userSourcedId: id, role: 'student', beginDate: start, endDate: end },
    )
  }
  return s
}

/** A summary as `summary --format json` and the API print it. */
export type Summary = SyncSummary

/** Outcome counts with the given outcomes, the rest 0, Total and Duplicates summed as the docs define them. */
export function outcomeCounts(c: Partial<Omit<OutcomeCountsJson, 'total' | 'duplicates'>>): OutcomeCountsJson {
  const out: OutcomeCountsJson = {
    total: 0,
    new: 0,
    updated: 0,
    noChange: 0,
    deleted: 0,
    skipped: 0,
    invalid: 0,
    duplicates: 0,
    merged: 0,
    excluded: 0,
    ...c,
  }
  out.duplicates = out.merged + out.excluded
  out.total = out.new + out.updated + out.noChange + out.deleted + out.skipped + out.invalid + out.merged + out.excluded
  return out
}
