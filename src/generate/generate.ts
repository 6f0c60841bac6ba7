/**
 * Generates a dataset: for every district and night a OneRoster 1.1 bundle
 * (`oneroster/<tenant>/night-<n>/`) and for every night one NDJSON file of
 * change events (`ndjson/night-<n>.ndjson`: one sync per district, full on
 * night 1, delta afterwards), plus `dataset.json` describing what was written.
 *
 * Districts are generated one after the other and schools one at a time, each
 * taken through every night before the next is built, so memory stays at one
 * school (plus one district's course and section list) at any scale.
 */
import { rm, writeFile } from 'node:fs/promises'
import { makeDirectory } from '../paths/make-directory.js'
import { join } from 'node:path'
import { ENTITY_TYPES, type EntityType, type SyncMode } from '../events/change-event.js'
import { ROSTER_FILES, type RosterFile } from '../demo/write-oneroster.js'
import { nightInstant } from './catalog.js'
import { districtShape } from './district.js'
import { emitSchool } from './emit.js'
import { orgRows, sessionRows } from './rows.js'
import type { Scale } from './scales.js'
import { applyNight, buildSchool, CHANGE_KINDS, DEFECT_KINDS, type ChangeKind, type DefectKind, type NightChanges } from './school.js'
import { TextSink } from './text-sink.js'
import { CsvBundleWriter, SyncEventWriter } from './writers.js'

/** Bumped whenever the same seed would produce different data. */
export const GENERATOR_VERSION = 2
export const DATASET_FILE = 'dataset.json'
export const NDJSON_APP = 'sis-nightly'

export type OutputFormat = 'csv' | 'ndjson' | 'both'

export interface GenerateOptions {
  readonly scale: Scale
  readonly out: string
  readonly seed: number
  readonly format: OutputFormat
  readonly onProgress?: (line: string) => void
}

export interface DistrictSummary {
  readonly tenant: string
  readonly name: string
  readonly schools: number
  readonly students: number
  readonly teachers: number
  readonly sections: number
  /** Night 1 enrollment rows (students and teachers). */
  readonly enrollments: number
  readonly crossSiteStudents: number
  readonly visitingStudents: number
}

export interface NightSummary {
  readonly night: number
  readonly occurredAt: string
  /** Data rows per CSV file, summed over districts (0 without CSV output). */
  readonly csvRows: Record<RosterFile, number>
  /** Change events in the night's NDJSON file (0 without NDJSON output). */
  readonly events: number
  readonly changes: Record<ChangeKind, number>
  readonly defects: Record<DefectKind, number>
  readonly deletions: number
}

export interface DatasetSummary {
  readonly generatorVersion: number
  readonly scale: Scale['name']
  readonly seed: number
  readonly format: OutputFormat
  readonly nights: number
  readonly tenants: readonly string[]
  readonly districts: readonly DistrictSummary[]
  readonly totals: { students: number; teachers: number; sections: number; enrollments: number; crossSiteStudents: number }
  readonly perNight: readonly NightSummary[]
  readonly bytes: { csv: number; ndjson: number }
  readonly elapsedMs: number
}

export function bundleDir(out: string, tenant: string, night: number): string {
  return join(out, 'oneroster', tenant, `night-${night}`)
}

export function ndjsonFile(out: string, night: number): string {
  return join(out, 'ndjson', `night-${night}.ndjson`)
}

/** The sync id of a district's night in the NDJSON output. */
export function ndjsonSyncId(tenant: string, night: number): string {
  return `${tenant}-n${night}`
}

const zeroRecord = <K extends string>(keys: readonly K[]): Record<K, number> =>
  Object.fromEntries(keys.map((k) => [k, 0])) as Record<K, number>

export async function generateDataset(opts: GenerateOptions): Promise<DatasetSummary> {
  const started = performance.now()
  const { scale, out, seed } = opts
  const csv = opts.format !== 'ndjson'
  const ndjson = opts.format !== 'csv'
  const progress = opts.onProgress ?? (() => undefined)
  await makeDirectory(out)
  await rm(join(out, DATASET_FILE), { force: true })
  await rm(join(out, 'oneroster'), { recursive: true, force: true })
  await rm(join(out, 'ndjson'), { recursive: true, force: true })
  if (ndjson) await makeDirectory(join(out, 'ndjson'))

  const nights = Array.from({ length: scale.nights }, (_, i) => i + 1)
  const perNight = nights.map((night) => ({
    night,
    occurredAt: new Date(nightInstant(night)).toISOString(),
    csvRows: zeroRecord(ROSTER_FILES),
    events: 0,
    changes: zeroRecord(CHANGE_KINDS),
    defects: zeroRecord(DEFECT_KINDS),
    deletions: 0,
  }))
  const ndjsonSinks = ndjson ? nights.map((n) => new TextSink(ndjsonFile(out, n))) : []
  const districts: DistrictSummary[] = []
  let csvBytes = 0

  for (let d = 0; d < scale.districts; d++) {
    const district = districtShape(seed, scale, d)
    const bundles = csv ? await Promise.all(nights.map((n) => CsvBundleWriter.open(bundleDir(out, district.tenant, n)))) : []
    const syncs = ndjsonSinks.map(
      (sink, i) => new SyncEventWriter(sink, district.tenant, ndjsonSyncId(district.tenant, i + 1), NDJSON_APP, nightInstant(i + 1)),
    )
    const full = Object.fromEntries(ENTITY_TYPES.map((e) => [e, 'full'])) as Record<EntityType, SyncMode>
    const delta = Object.fromEntries(ENTITY_TYPES.map((e) => [e, 'delta'])) as Record<EntityType, SyncMode>
    syncs.forEach((w, i) => w.start(i === 0 ? full : delta))
    for (const bundle of bundles) {
      for (const row of orgRows(district)) bundle.row('orgs', row)
      for (const row of sessionRows(district)) bundle.row('academicSessions', row)
    }
    const first = syncs[0]
    if (first) {
      for (const row of orgRows(district)) first.upsert('org', row, null)
      for (const row of sessionRows(district)) first.upsert('academicSession', row, null)
    }

    let students = 0
    let enrollments = 0
    let crossSite = 0
    let visitors = 0
    for (let s = 0; s < district.schools.length; s++) {
      const school = buildSchool(district, s)
      students += school.students.length
      enrollments += school.enrollments.length + school.shape.sections.length
      crossSite += school.crossSite
      visitors += school.visitors
      let previous: NightChanges | null = null
      for (const night of nights) {
        const changes: NightChanges | null = night === 1 ? null : applyNight(school, night, previous)
        emitSchool(school, night, changes, { csv: bundles[night - 1] ?? null, events: syncs[night - 1] ?? null })
        if (changes) {
          const summary = perNight[night - 1]!
          for (const k of CHANGE_KINDS) summary.changes[k] += changes.counts[k]
          for (const def of changes.defects) summary.defects[def.kind]++
          summary.deletions += changes.deletions.length
        }
        previous = changes
      }
      for (const b of bundles) await b.drain()
      for (const sink of ndjsonSinks) await sink.drain()
    }
    syncs.forEach((w) => w.end())
    for (const [i, bundle] of bundles.entries()) {
      await bundle.close()
      csvBytes += bundle.bytes
      for (const f of ROSTER_FILES) perNight[i]!.csvRows[f] += bundle.rows[f]
    }
    syncs.forEach((w, i) => {
      perNight[i]!.events += w.events
    })
    const teachers = district.schools.reduce((n, x) => n + x.teachers.length, 0)
    const sections = district.schools.reduce((n, x) => n + x.sections.length, 0)
    districts.push({
      tenant: district.tenant,
      name: district.name,
      schools: district.schools.length,
      students,
      teachers,
      sections,
      enrollments,
      crossSiteStudents: crossSite,
      visitingStudents: visitors,
    })
    progress(`district ${d + 1}/${scale.districts} ${district.tenant}: ${students} students, ${enrollments} enrollments`)
  }
  let ndjsonBytes = 0
  for (const sink of ndjsonSinks) {
    await sink.close()
    ndjsonBytes += sink.bytes
  }

  const sum = (f: (x: DistrictSummary) => number): number => districts.reduce((n, x) => n + f(x), 0)
  const summary: DatasetSummary = {
    generatorVersion: GENERATOR_VERSION,
    scale: scale.name,
    seed,
    format: opts.format,
    nights: scale.nights,
    tenants: districts.map((x) => x.tenant),
    districts,
    totals: {
      students: sum((x) => x.students),
      teachers: sum((x) => x.teachers),
      sections: sum((x) => x.sections),
      enrollments: sum((x) => x.enrollments),
      crossSiteStudents: sum((x) => x.crossSiteStudents),
    },
    perNight,
    bytes: { csv: csvBytes, ndjson: ndjsonBytes },
    elapsedMs: Math.round(performance.now() - started),
  }
  await writeFile(join(out, DATASET_FILE), `${JSON.stringify(summary, null, 2)}\n`, 'utf8')
  return summary
}
