/**
 * What a bundle asks for, decided before any record is emitted: the manifest is
 * read and checked against the files present, and the header of every file to
 * read is checked for its required columns. So a bundle that cannot be read fails
 * at once, with no records emitted for half of it.
 */
import type { EntityType, SyncMode } from '../events/change-event.js'
import { SynclogError } from '../errors.js'
import type { BundleSource } from './bundle-source.js'
import { Columns } from './columns.js'
import { openCsvTable, type CsvLimits, type CsvTable } from './csv-rows.js'
import { ENTITY_FILES, ROLES_FILE, type AnyEntityFile } from './entity-files.js'
import { checkBundleFiles, MANIFEST_FILE, readManifest, type Manifest, type OneRosterVersion } from './manifest.js'

export interface PlanNote {
  readonly file: string
  readonly line: number | null
  readonly field: string
  readonly message: string
}

export interface PlannedFile {
  readonly spec: AnyEntityFile
  /** `<name>.csv` */
  readonly file: string
  readonly mode: 'bulk' | 'delta'
}

export interface BundlePlan {
  readonly version: OneRosterVersion
  readonly modes: Readonly<Partial<Record<EntityType, SyncMode>>>
  /** Entity files in emission order. */
  readonly files: readonly PlannedFile[]
  /** 1.2 roles.csv, read before users.csv; null when not read. */
  readonly rolesFile: string | null
  /** Bytes of every file to read (manifest excluded). */
  readonly totalBytes: number
}

const SYNC_MODE = { bulk: 'full', delta: 'delta' } as const satisfies Record<'bulk' | 'delta', SyncMode>

/** Opens one file of the bundle as a CSV table (header read); a read failure names the file. */
async function openTable(source: BundleSource, file: string, limits: CsvLimits): Promise<CsvTable> {
  try {
    return await openCsvTable(file, await source.open(file), limits)
  } catch (e) {
    if (e instanceof SynclogError) throw e
    throw new SynclogError('INPUT_UNREADABLE', `cannot read ${file}: ${e instanceof Error ? e.message : String(e)}`, { cause: e })
  }
}

async function headerOf(source: BundleSource, file: string, limits: CsvLimits): Promise<Columns> {
  const table = await openTable(source, file, limits)
  await table.close()
  return new Columns(file, table.columns)
}

async function manifestOf(source: BundleSource, note: (n: PlanNote) => void, limits: CsvLimits): Promise<Manifest> {
  if (!source.entries.has(MANIFEST_FILE)) throw new SynclogError('MANIFEST_INVALID', `${MANIFEST_FILE} is missing from the bundle`)
  const table = await openTable(source, MANIFEST_FILE, limits)
  try {
    const manifest = await readManifest(table, (n) => note({ file: MANIFEST_FILE, ...n }))
    checkBundleFiles(manifest, new Set(source.entries.keys()), (n) => note({ file: MANIFEST_FILE, ...n }))
    return manifest
  } finally {
    await table.close()
  }
}

/** Throws `MANIFEST_INVALID` / `INPUT_UNREADABLE` when the bundle cannot be read as a whole. */
export async function planBundle(source: BundleSource, note: (n: PlanNote) => void, limits: CsvLimits): Promise<BundlePlan> {
  const manifest = await manifestOf(source, note, limits)
  const modes: Partial<Record<EntityType, SyncMode>> = {}
  const files: PlannedFile[] = []
  for (const spec of ENTITY_FILES) {
    const mode = manifest.files.get(spec.name)
    if (mode === undefined || mode === 'absent') continue
    const file = `${spec.name}.csv`
    const columns = await headerOf(source, file, limits)
    columns.require(spec.requiredColumns(manifest.version))
    modes[spec.entity] = SYNC_MODE[mode]
    files.push({ spec, file, mode })
    if (spec.entity === 'user' && manifest.version === '1.2' && !columns.has('role') && !isRead(manifest, ROLES_FILE.name)) {
      note({ file, line: null, field: 'role', message: `${file} has no role column and roles.csv is absent, so no user has a role` })
    }
  }

  let rolesFile: string | null = null
  if (manifest.version === '1.2' && isRead(manifest, ROLES_FILE.name)) {
    const file = `${ROLES_FILE.name}.csv`
    if (modes.user === undefined) {
      note({ file, line: null, field: `file.${ROLES_FILE.name}`, message: `${file} is ignored because users.csv is absent` })
    } else {
      ;(await headerOf(source, file, limits)).require(ROLES_FILE.requiredColumns)
      rolesFile = file
    }
  }

  const read = [...files.map((f) => f.file), ...(rolesFile ? [rolesFile] : [])]
  const totalBytes = read.reduce((sum, file) => sum + (source.entries.get(file)?.size ?? 0), 0)
  return { version: manifest.version, modes, files, rolesFile, totalBytes }
}

function isRead(manifest: Manifest, name: string): boolean {
  const mode = manifest.files.get(name)
  return mode === 'bulk' || mode === 'delta'
}
