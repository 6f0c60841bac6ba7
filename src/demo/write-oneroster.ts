/**
 * Writes OneRoster 1.1 CSV bundles (a folder with `manifest.csv` and one file per
 * rostering table), as a SIS export would: spec column order, `metadata.*`
 * extension columns to the right, lists as one quoted field (`"t1,t2"`), UTF-8
 * without BOM (docs/oneroster.md).
 *
 * The writer is faithful: it writes the rows it is given, including deliberately bad
 * ones, so tests and the demo can feed importers realistic mistakes. It only refuses
 * what no CSV could carry: a line break inside a field, or a column 1.1 does not define.
 */
import { rm, writeFile } from 'node:fs/promises'
import { makeDirectory } from '../paths/make-directory.js'
import { ONEROSTER_11_FILES } from '../oneroster/manifest.js'
import { join } from 'node:path'
import { stringify } from 'csv-stringify/sync'
import { ownValue } from '../dict.js'

/** One CSV row keyed by OneRoster column name; lists are comma-joined (`"t1,t2"`). */
export type Row = Record<string, string>

export const ROSTER_FILES = ['orgs', 'academicSessions', 'courses', 'classes', 'users', 'enrollments'] as const
export type RosterFile = (typeof ROSTER_FILES)[number]

export type OneRosterTables = { readonly [F in RosterFile]: Row[] }
export type FileMode = 'bulk' | 'delta'

/** 1.1 columns of each rostering file, in spec order. */
export const ONEROSTER_11_COLUMNS: { readonly [F in RosterFile]: readonly string[] } = {
  orgs: ['sourcedId', 'status', 'dateLastModified', 'name', 'type', 'identifier', 'parentSourcedId'],
  academicSessions: ['sourcedId', 'status', 'dateLastModified', 'title', 'type', 'startDate', 'endDate', 'parentSourcedId', 'schoolYear'],
  courses: [
    'sourcedId',
    'status',
    'dateLastModified',
    'schoolYearSourcedId',
    'title',
    'courseCode',
    'grades',
    'orgSourcedId',
    'subjects',
    'subjectCodes',
  ],
  classes: [
    'sourcedId',
    'status',
    'dateLastModified',
    'title',
    'grades',
    'courseSourcedId',
    'classCode',
    'classType',
    'location',
    'schoolSourcedId',
    'termSourcedIds',
    'subjects',
    'subjectCodes',
    'periods',
  ],
  users: [
    'sourcedId',
    'status',
    'dateLastModified',
    'enabledUser',
    'orgSourcedIds',
    'role',
    'username',
    'userIds',
    'givenName',
    'familyName',
    'middleName',
    'identifier',
    'email',
    'sms',
    'phone',
    'agentSourcedIds',
    'grades',
    'password',
  ],
  enrollments: [
    'sourcedId',
    'status',
    'dateLastModified',
    'classSourcedId',
    'schoolSourcedId',
    'userSourcedId',
    'role',
    'primary',
    'beginDate',
    'endDate',
  ],
}

function isRosterFile(name: string): name is RosterFile {
  return (ROSTER_FILES as readonly string[]).includes(name)
}

/** A row with every spec column of `file` present ('' where not given), in spec order. */
export function oneRosterRow(file: RosterFile, values: Readonly<Row>): Row {
  const spec: readonly string[] = ONEROSTER_11_COLUMNS[file]
  return Object.fromEntries([
    ...spec.map((c) => [c, ownValue(values, c) ?? ''] as const),
    ...Object.entries(values).filter(([k]) => !spec.includes(k)),
  ])
}

/** Header of a file: spec columns, then the `metadata.*` columns the rows use, in order of first use. */
export function headerOf(file: RosterFile, rows: readonly Readonly<Row>[]): string[] {
  const spec = ONEROSTER_11_COLUMNS[file]
  const extra: string[] = []
  for (const row of rows) {
    for (const k of Object.keys(row)) {
      if (spec.includes(k) || extra.includes(k)) continue
      if (!k.startsWith('metadata.')) throw new Error(`${file}.csv: '${k}' is not a OneRoster 1.1 column (extensions must be metadata.*)`)
      extra.push(k)
    }
  }
  return [...spec, ...extra]
}

/** The CSV text of one rostering file. */
export function oneRosterCsv(file: RosterFile, rows: readonly Readonly<Row>[]): string {
  const columns = headerOf(file, rows)
  const records = rows.map((row, i) =>
    columns.map((c) => {
      const v = ownValue(row, c) ?? ''
      if (/[\r\n]/.test(v)) throw new Error(`${file}.csv row ${i + 2}: line breaks are not allowed in a field (${c})`)
      return v
    }),
  )
  return stringify([columns, ...records], { record_delimiter: '\n' })
}

/** manifest.csv for a 1.1 bundle: each rostering file with its mode, every other file absent. */
export function manifestCsv(present: Readonly<Partial<Record<RosterFile, FileMode>>>): string {
  const rows = [
    ['propertyName', 'value'],
    ['manifest.version', '1.0'],
    ['oneroster.version', '1.1'],
    ...ONEROSTER_11_FILES.map((f) => [`file.${f}`, isRosterFile(f) ? (present[f] ?? 'absent') : 'absent']),
  ]
  return stringify(rows, { record_delimiter: '\n' })
}

/**
 * Writes `tables` as a OneRoster 1.1 bundle into `dir` (created if missing). Every
 * rostering file is `bulk` unless `modes` says `delta`. A table without rows is not
 * written and is `absent` in the manifest (1.1 forbids data files with no rows).
 * Rows are written as given: bulk files conventionally leave status and
 * dateLastModified blank, delta files fill them.
 */
export async function writeOneRosterBundle(
  dir: string,
  tables: OneRosterTables,
  modes: Partial<Record<RosterFile, FileMode>> = {},
): Promise<void> {
  await makeDirectory(dir)
  const present: Partial<Record<RosterFile, FileMode>> = {}
  for (const file of ROSTER_FILES) {
    const rows = tables[file]
    const path = join(dir, `${file}.csv`)
    if (rows.length === 0) {
      await rm(path, { force: true }) // an absent file must not be in the bundle, not even from an earlier write
      continue
    }
    present[file] = modes[file] ?? 'bulk'
    await writeFile(path, oneRosterCsv(file, rows), 'utf8')
  }
  await writeFile(join(dir, 'manifest.csv'), manifestCsv(present), 'utf8')
}
