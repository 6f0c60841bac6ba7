/**
 * manifest.csv (`propertyName,value`): the OneRoster version and, per file, whether
 * it is `absent`, `bulk` or `delta` (docs/oneroster.md#the-manifest). Anything that makes
 * the bundle's meaning doubtful throws `MANIFEST_INVALID` naming the property;
 * harmless oddities are passed to `note`.
 */
import { SynclogError } from '../errors.js'
import type { CsvTable } from './csv-rows.js'

export const MANIFEST_FILE = 'manifest.csv'

export type OneRosterVersion = '1.1' | '1.2'
export type FileMode = 'absent' | 'bulk' | 'delta'

const FILE_MODES: readonly string[] = ['absent', 'bulk', 'delta'] satisfies readonly FileMode[]

/** The 13 data files of OneRoster 1.1, as `file.<name>` manifest properties list them (the file is `<name>.csv`). */
export const ONEROSTER_11_FILES = [
  'academicSessions',
  'categories',
  'classes',
  'classResources',
  'courses',
  'courseResources',
  'demographics',
  'enrollments',
  'lineItems',
  'orgs',
  'resources',
  'results',
  'users',
] as const
const FILES_1_2_ADDED = [
  'roles',
  'userProfiles',
  'userResources',
  'scoreScales',
  'lineItemScoreScales',
  'resultScoreScales',
  'lineItemLearningObjectiveIds',
  'resultLearningObjectiveIds',
] as const
export const MANIFEST_FILES: { readonly [V in OneRosterVersion]: readonly string[] } = {
  '1.1': ONEROSTER_11_FILES,
  '1.2': [...ONEROSTER_11_FILES, ...FILES_1_2_ADDED],
}

/** Files synclog reads, whose `file.*` property must therefore be in the manifest. */
export const ROSTERING_FILES: { readonly [V in OneRosterVersion]: readonly string[] } = {
  '1.1': ['orgs', 'academicSessions', 'courses', 'classes', 'users', 'enrollments'],
  '1.2': ['orgs', 'academicSessions', 'courses', 'classes', 'users', 'enrollments', 'roles'],
}

export interface Manifest {
  readonly version: OneRosterVersion
  /** `oneroster.version` as written, e.g. `1.2.1`. */
  readonly versionText: string
  /** Mode per file name without `.csv`, for every `file.*` property of the version. */
  readonly files: ReadonlyMap<string, FileMode>
}

export interface ManifestNote {
  readonly line: number | null
  readonly field: string
  readonly message: string
}

const VERSION_RE = /^1\.([12])(?:\.\d+)?$/

function invalid(message: string): SynclogError {
  return new SynclogError('MANIFEST_INVALID', `${MANIFEST_FILE}: ${message}`)
}

interface Property {
  readonly value: string
  readonly line: number
}

async function readProperties(table: CsvTable): Promise<Map<string, Property>> {
  const nameAt = table.columns.indexOf('propertyName')
  const valueAt = table.columns.indexOf('value')
  if (nameAt < 0) throw invalid(`the header has no 'propertyName' column`)
  if (valueAt < 0) throw invalid(`the header has no 'value' column`)
  const properties = new Map<string, Property>()
  for await (const batch of table.rows()) {
    for (const item of batch) {
      if (item.kind === 'unreadable') throw invalid(`line ${item.line} cannot be read: ${item.message}`)
      const name = item.values[nameAt] ?? ''
      const value = item.values[valueAt] ?? ''
      if (name === '') throw invalid(`line ${item.line} has no propertyName`)
      const first = properties.get(name)
      if (first) throw invalid(`property '${name}' appears more than once (lines ${first.line} and ${item.line})`)
      properties.set(name, { value, line: item.line })
    }
  }
  return properties
}

function required(properties: ReadonlyMap<string, Property>, name: string): Property {
  const p = properties.get(name)
  if (!p) throw invalid(`required property '${name}' is missing`)
  return p
}

/** Reads and checks manifest.csv; throws `MANIFEST_INVALID` when the bundle cannot be trusted. */
export async function readManifest(table: CsvTable, note: (n: ManifestNote) => void): Promise<Manifest> {
  const properties = await readProperties(table)

  const manifestVersion = required(properties, 'manifest.version')
  if (manifestVersion.value !== '1.0') {
    throw invalid(
      `'${manifestVersion.value}' is not a valid manifest version (property 'manifest.version', line ${manifestVersion.line}; expected '1.0')`,
    )
  }
  const onerosterVersion = required(properties, 'oneroster.version')
  const match = VERSION_RE.exec(onerosterVersion.value)
  if (!match) {
    throw invalid(
      `'${onerosterVersion.value}' is not a valid OneRoster version (property 'oneroster.version', line ${onerosterVersion.line}; expected 1.1 or 1.2)`,
    )
  }
  const version: OneRosterVersion = match[1] === '1' ? '1.1' : '1.2'
  if (onerosterVersion.value !== version) {
    note({
      line: onerosterVersion.line,
      field: 'oneroster.version',
      message: `OneRoster version '${onerosterVersion.value}' is read as ${version}`,
    })
  }

  const known = new Set(MANIFEST_FILES[version])
  const files = new Map<string, FileMode>()
  for (const [name, { value, line }] of properties) {
    if (name === 'manifest.version' || name === 'oneroster.version' || name.startsWith('source.')) continue
    const file = name.startsWith('file.') ? name.slice('file.'.length) : null
    if (file === null || !known.has(file)) {
      note({ line, field: name, message: `unknown property '${name}' for OneRoster ${version} is ignored` })
      continue
    }
    if (!FILE_MODES.includes(value)) throw invalid(`'${name}' must be one of 'absent', 'bulk', or 'delta' (line ${line} has '${value}')`)
    files.set(file, value as FileMode)
  }
  // Only the files synclog reads must be declared; a missing gradebook property changes nothing here.
  for (const file of ROSTERING_FILES[version]) required(properties, `file.${file}`)
  return { version, versionText: onerosterVersion.value, files }
}

/** Checks the manifest against the files actually in the bundle. */
export function checkBundleFiles(manifest: Manifest, present: ReadonlySet<string>, note: (n: ManifestNote) => void): void {
  for (const [file, mode] of manifest.files) {
    const csv = `${file}.csv`
    if (mode !== 'absent' && !present.has(csv)) {
      throw invalid(`'file.${file}' is '${mode}' but ${csv} is not in the bundle`)
    }
    if (mode === 'absent' && present.has(csv)) {
      note({ line: null, field: `file.${file}`, message: `${csv} is in the bundle but 'file.${file}' is 'absent'; the file is ignored` })
    }
  }
}
