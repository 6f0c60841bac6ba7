/**
 * npx tsx scripts/generate/main.ts --scale small --out DIR [--seed N] [--format csv|ndjson|both]
 *
 * A deterministic district-scale roster and its nightly changes, as OneRoster
 * 1.1 CSV bundles and as change-event NDJSON. See docs/benchmarks.md.
 */
import { parseArgs } from 'node:util'
import { resolve } from 'node:path'
import { generateDataset, type OutputFormat } from '../../src/generate/generate.js'
import { SCALES, SCALE_NAMES, isScaleName } from '../../src/generate/scales.js'

const USAGE = `usage: npx tsx scripts/generate/main.ts --scale ${SCALE_NAMES.join('|')} --out DIR [--seed N] [--format csv|ndjson|both] [--nights N]

scales:
${SCALE_NAMES.map((n) => {
  const s = SCALES[n]
  return `  ${n.padEnd(7)} ${s.districts} district(s) x ${s.schoolsPerDistrict} schools x ~${s.studentsPerSchool} students, ${s.nights} nights: ${s.note}`
}).join('\n')}

Writes DIR/oneroster/<tenant>/night-<n>/ (manifest.csv + 6 files, all bulk), DIR/ndjson/night-<n>.ndjson
(one sync per district: full on night 1, delta after) and DIR/dataset.json. Same seed, same bytes.`

function fail(message: string): never {
  process.stderr.write(`${message}\n\n${USAGE}\n`)
  process.exit(1)
}

async function main(): Promise<void> {
  let values
  try {
    ;({ values } = parseArgs({
      options: {
        scale: { type: 'string' },
        out: { type: 'string' },
        seed: { type: 'string', default: '1' },
        format: { type: 'string', default: 'both' },
        nights: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }))
  } catch (e) {
    fail(e instanceof Error ? e.message : String(e))
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`)
    return
  }
  const scaleName = values.scale ?? fail('--scale is required')
  if (!isScaleName(scaleName)) fail(`--scale must be one of ${SCALE_NAMES.join(', ')} (got '${scaleName}')`)
  const out = values.out ?? fail('--out is required')
  const seed = Number(values.seed)
  if (!Number.isSafeInteger(seed) || seed < 0) fail(`--seed must be a whole number (got '${values.seed}')`)
  const format = values.format
  if (format !== 'csv' && format !== 'ndjson' && format !== 'both') fail(`--format must be csv, ndjson or both (got '${format}')`)
  let scale = SCALES[scaleName]
  if (values.nights !== undefined) {
    const nights = Number(values.nights)
    if (!Number.isInteger(nights) || nights < 1 || nights > 60)
      fail(`--nights must be a whole number from 1 to 60 (got '${values.nights}')`)
    scale = { ...scale, nights }
  }
  const summary = await generateDataset({
    scale,
    out: resolve(out),
    seed,
    format: format as OutputFormat,
    onProgress: (line) => process.stderr.write(`${line}\n`),
  })
  const t = summary.totals
  const lines = [
    `${scale.name} (seed ${seed}) in ${(summary.elapsedMs / 1000).toFixed(1)} s -> ${resolve(out)}`,
    `  ${summary.districts.length} district(s), ${t.students} students, ${t.teachers} teachers, ${t.sections} sections, ${t.enrollments} enrollments (night 1), ${t.crossSiteStudents} cross-site students`,
    ...summary.perNight.map((n) => {
      const rows = Object.values(n.csvRows).reduce((a, b) => a + b, 0)
      const changes = Object.values(n.changes).reduce((a, b) => a + b, 0)
      const defects = Object.values(n.defects).reduce((a, b) => a + b, 0)
      return `  night ${n.night} (${n.occurredAt}): ${rows} CSV rows, ${n.events} change events, ${changes} changes, ${defects} broken rows`
    }),
    `  ${(summary.bytes.csv / 1e6).toFixed(1)} MB CSV, ${(summary.bytes.ndjson / 1e6).toFixed(1)} MB NDJSON`,
  ]
  process.stdout.write(`${lines.join('\n')}\n`)
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`)
  process.exit(1)
})
