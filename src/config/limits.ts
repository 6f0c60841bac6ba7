/**
 * How much input synclog accepts before refusing it: every size that input
 * decides (a zip's expansion, a CSV's columns, a line's length, the heap) has a
 * limit here, with its default, its config-file key (`limits.<name>` in
 * synclog.config.json) and its environment variable. Sizes are bytes, or a
 * number with a unit: `64KiB`, `1MiB`, `8GiB` (also KB/MB/GB, read as binary).
 *
 * The defaults fit the largest real district exports with a wide margin (a
 * ~1M-row users.csv is ~100 MB; OneRoster has 10-20 columns per file plus a
 * handful of `metadata.*` extensions; an honest CSV zips at 3-20:1) and refuse
 * what only a hostile or broken file looks like.
 */
import { z } from 'zod'

export interface InputLimits {
  /** A .zip bigger than this is refused before it is read. */
  readonly zipBytes: number
  /** Bytes all files of one bundle may expand to (zip or folder). */
  readonly bundleBytes: number
  /** Bytes one bundle file (a zip entry or a file of a folder) may expand to. */
  readonly fileBytes: number
  /** Largest expanded:compressed ratio of a zip entry (checked once it passes 1 MiB). */
  readonly zipRatio: number
  /** Entries a zip may hold (folders and `__MACOSX/` included). */
  readonly zipEntries: number
  /** Columns a CSV header may have. */
  readonly csvColumns: number
  /** Bytes one CSV line (one record: OneRoster allows no line break inside a value) may have. */
  readonly csvLineBytes: number
  /** Characters one CSV value may have. */
  readonly csvFieldChars: number
  /** Bytes one NDJSON line (one change event) may have. */
  readonly ndjsonLineBytes: number
  /** `metadata` keys one change event may carry (the NDJSON twin of csvColumns). */
  readonly metadataKeys: number
  /** Percent of the JavaScript heap limit in use after a full garbage collection at which a command stops. */
  readonly heapPercent: number
}

const KiB = 1024
const MiB = 1024 * KiB
const GiB = 1024 * MiB

export const DEFAULT_LIMITS: InputLimits = {
  zipBytes: 4 * GiB,
  bundleBytes: 16 * GiB,
  fileBytes: 8 * GiB,
  zipRatio: 200,
  zipEntries: 10_000,
  csvColumns: 1_000,
  csvLineBytes: 1 * MiB,
  csvFieldChars: 64 * KiB,
  ndjsonLineBytes: 1 * MiB,
  metadataKeys: 1_000,
  heapPercent: 90,
}

/** Each limit's environment variable. */
export const LIMIT_ENV: { readonly [K in keyof InputLimits]: string } = {
  zipBytes: 'SYNCLOG_LIMIT_ZIP_BYTES',
  bundleBytes: 'SYNCLOG_LIMIT_BUNDLE_BYTES',
  fileBytes: 'SYNCLOG_LIMIT_FILE_BYTES',
  zipRatio: 'SYNCLOG_LIMIT_ZIP_RATIO',
  zipEntries: 'SYNCLOG_LIMIT_ZIP_ENTRIES',
  csvColumns: 'SYNCLOG_LIMIT_CSV_COLUMNS',
  csvLineBytes: 'SYNCLOG_LIMIT_CSV_LINE_BYTES',
  csvFieldChars: 'SYNCLOG_LIMIT_CSV_FIELD_CHARS',
  ndjsonLineBytes: 'SYNCLOG_LIMIT_NDJSON_LINE_BYTES',
  metadataKeys: 'SYNCLOG_LIMIT_METADATA_KEYS',
  heapPercent: 'SYNCLOG_LIMIT_HEAP_PERCENT',
}

const UNITS: ReadonlyMap<string, number> = new Map([
  ['', 1],
  ['b', 1],
  ['k', KiB],
  ['kb', KiB],
  ['kib', KiB],
  ['m', MiB],
  ['mb', MiB],
  ['mib', MiB],
  ['g', GiB],
  ['gb', GiB],
  ['gib', GiB],
  ['t', 1024 * GiB],
  ['tb', 1024 * GiB],
  ['tib', 1024 * GiB],
])

/** `65536`, `64KiB`, `1.5 GiB` → bytes; NaN when not a size. */
export function parseSize(value: unknown): number {
  if (typeof value === 'number') return value
  if (typeof value !== 'string') return Number.NaN
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(value)
  const unit = m ? UNITS.get((m[2] ?? '').toLowerCase()) : undefined
  return m && unit !== undefined ? Math.floor(Number(m[1]) * unit) : Number.NaN
}

const size = (min: number): z.ZodType<number> =>
  z
    .unknown()
    .transform(parseSize)
    .pipe(z.number({ error: 'a size in bytes, e.g. 1048576 or 1MiB' }).int().min(min).max(Number.MAX_SAFE_INTEGER))
const count = (min: number, max: number): z.ZodType<number> => z.coerce.number().int().min(min).max(max)

export const LimitsSchema = z.object({
  zipBytes: size(1),
  bundleBytes: size(1),
  fileBytes: size(1),
  zipRatio: z.coerce.number().min(1).max(100_000),
  zipEntries: count(1, 10_000_000),
  csvColumns: count(1, 1_000_000),
  csvLineBytes: size(64),
  csvFieldChars: count(1, 1 << 29),
  ndjsonLineBytes: size(64),
  metadataKeys: count(0, 1_000_000),
  heapPercent: z.coerce.number().min(10).max(99),
})

type Env = Readonly<Record<string, string | undefined>>

/** Each key's raw value: its environment variable over the file's section over the default; validated later. */
export function layeredValues<K extends string>(
  file: unknown,
  env: Env,
  envNames: { readonly [P in K]: string },
  defaults: { readonly [P in K]: unknown },
): Record<K, unknown> {
  const fromFile = (typeof file === 'object' && file !== null ? file : {}) as Partial<Record<K, unknown>>
  const out = {} as Record<K, unknown>
  for (const [key, envName] of Object.entries(envNames) as [K, string][]) {
    out[key] =
      (Object.hasOwn(env, envName) ? env[envName] : undefined) ??
      (Object.hasOwn(fromFile, key) ? fromFile[key] : undefined) ??
      defaults[key]
  }
  return out
}

/** The raw layers for `limits` (environment over file over defaults), validated with the rest of the config. */
export function rawLimits(file: unknown, env: Env): Record<keyof InputLimits, unknown> {
  return layeredValues(file, env, LIMIT_ENV, DEFAULT_LIMITS)
}

/** How to raise a limit, for the end of an error message. */
export function howToRaise(key: keyof InputLimits): string {
  const env = Object.hasOwn(LIMIT_ENV, key) ? LIMIT_ENV[key] : ''
  return `raise it with limits.${key} in synclog.config.json or the environment variable ${env}`
}

/** `1048576` → `1 MiB`; `1500` → `1500 bytes`. */
export function formatBytes(n: number): string {
  for (const [unit, size] of [
    ['GiB', GiB],
    ['MiB', MiB],
    ['KiB', KiB],
  ] as const) {
    if (n >= size && n % size === 0) return `${n / size} ${unit}`
    if (n >= size * 10) return `${(n / size).toFixed(1)} ${unit}`
  }
  return `${n} bytes`
}
