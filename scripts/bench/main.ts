/**
 * npm run bench -- --scale small [--stage fold,import,projection,processor,stream,query,export] [--out BENCHMARKS.md] [--instructions]
 *
 * Measures every stage of synclog next to its baseline, on the same generated
 * data, in the same run, each measurement in a fresh process; prints the table
 * and, with --out, writes it with the machine, the command and the scale.
 * What is measured and why: docs/benchmarks.md.
 */
import { execFileSync } from 'node:child_process'
import { mkdir, rm, writeFile } from 'node:fs/promises'
import { join, relative, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { SCALES, SCALE_NAMES, isScaleName, type ScaleName } from '../../src/generate/scales.js'
import { BENCH_SCALES } from './bench-scales.js'
import { csvDataRows, ensureDataset, ndjsonEvents } from './dataset.js'
import { loadAverage, loadPerCore, machineFacts } from './machine.js'
import { profileGaps } from './gap-profiles.js'
import { missedSpeedTargets, renderMarkdown, resultTable, targetsTable, type RunReport } from './report.js'
import { runChild } from './run-child.js'
import { runStage } from './stages.js'
import { fmtBytes, fmtSeconds } from './stats.js'
import { STAGES, type StageName, type StageOutcome } from './types.js'

const USAGE = `usage: npm run bench -- [--scale ${SCALE_NAMES.join('|')}] [--stage ${STAGES.join(',')}] [--out BENCHMARKS.md]
                        [--seed N] [--repeat N] [--provisional [REASON]] [--brokers HOST:PORT --registry URL]
                        [--heap MB] [--instructions] [--cpu-prof] [--no-gap-profiles] [--keep] [--verbose]

  --scale        data size (default small); see docs/benchmarks.md
  --stage        stages to run, comma-separated, in this order (default all)
  --out FILE     write the report (BENCHMARKS.md) there
  --seed N       generator seed (default 1); datasets are cached in .cache/bench/data
  --repeat N     run each figure and baseline N times and keep the median (default 1)
  --provisional  head the report as provisional (with REASON if given)
  --brokers, --registry   use these Kafka/registry endpoints instead of scripts/services.sh
  --heap MB      V8 heap limit of every measuring process (--max-old-space-size); the large import runs within 4096
  --instructions also count the fold's instructions per event under valgrind's callgrind (tiny scale's
                 events, whatever --scale; adds a few minutes)
  --cpu-prof     write a V8 CPU profile of every measurement into .cache/bench/runs/<run>/profiles
  --no-gap-profiles  do not re-run the figure of a missed speed target under the CPU profiler to say
                 where its time goes (done by default, after every measurement)
  --keep         keep the run's scratch directory (.cache/bench/runs/<run>)
  --verbose      copy the children's stderr to ours`

function fail(message: string): never {
  process.stderr.write(`${message}\n\n${USAGE}\n`)
  process.exit(1)
}

interface Options {
  scale: ScaleName
  stages: StageName[]
  out?: string
  seed: number
  repeat: number
  provisional: string | null
  brokers?: string
  registry?: string
  cpuProf: boolean
  gapProfiles: boolean
  heapMb?: number
  instructions: boolean
  keep: boolean
  verbose: boolean
}

const DEFAULT_PROVISIONAL =
  'Measured on a shared machine while other heavy jobs were running; the timings are noise-prone. Re-run it on a quiet machine before quoting any figure:'

function parseOptions(argv: readonly string[]): Options {
  let parsed
  try {
    parsed = parseArgs({
      args: [...argv],
      options: {
        scale: { type: 'string', default: 'small' },
        stage: { type: 'string' },
        out: { type: 'string' },
        seed: { type: 'string', default: '1' },
        repeat: { type: 'string', default: '1' },
        provisional: { type: 'boolean' },
        brokers: { type: 'string' },
        registry: { type: 'string' },
        'cpu-prof': { type: 'boolean' },
        'no-gap-profiles': { type: 'boolean' },
        heap: { type: 'string' },
        instructions: { type: 'boolean' },
        keep: { type: 'boolean' },
        verbose: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: true,
      strict: true,
    })
  } catch (e) {
    fail(e instanceof Error ? e.message : String(e))
  }
  const v = parsed.values
  if (v.help) {
    process.stdout.write(`${USAGE}\n`)
    process.exit(0)
  }
  // A reason after --provisional arrives as a positional.
  if (parsed.positionals.length > 0 && !v.provisional) fail(`unexpected argument '${parsed.positionals[0]}'`)
  const scale = v.scale ?? 'small'
  if (!isScaleName(scale)) fail(`--scale must be one of ${SCALE_NAMES.join(', ')} (got '${scale}')`)
  const wanted =
    v.stage === undefined
      ? [...STAGES]
      : v.stage
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean)
  for (const s of wanted) if (!(STAGES as readonly string[]).includes(s)) fail(`unknown stage '${s}'; stages are ${STAGES.join(', ')}`)
  const seed = Number(v.seed)
  if (!Number.isSafeInteger(seed) || seed < 0) fail(`--seed must be a whole number (got '${v.seed}')`)
  const repeat = Number(v.repeat)
  if (!Number.isInteger(repeat) || repeat < 1 || repeat > 20) fail(`--repeat must be a whole number from 1 to 20 (got '${v.repeat}')`)
  if ((v.brokers === undefined) !== (v.registry === undefined)) fail('--brokers and --registry go together')
  const heapMb = v.heap === undefined ? undefined : Number(v.heap)
  if (heapMb !== undefined && (!Number.isInteger(heapMb) || heapMb < 256))
    fail(`--heap must be a number of megabytes, at least 256 (got '${v.heap}')`)
  return {
    scale,
    stages: STAGES.filter((s) => wanted.includes(s)),
    out: v.out,
    seed,
    repeat,
    provisional: v.provisional ? parsed.positionals.join(' ') || `${DEFAULT_PROVISIONAL} \`${cleanCommand(argv)}\`.` : null,
    brokers: v.brokers,
    registry: v.registry,
    cpuProf: v['cpu-prof'] === true,
    gapProfiles: v['no-gap-profiles'] !== true,
    heapMb,
    instructions: v.instructions === true,
    keep: v.keep === true,
    verbose: v.verbose === true,
  }
}

function hasValgrind(): boolean {
  try {
    execFileSync('valgrind', ['--version'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

function quote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, "'\\''")}'`
}

/** The command without what only serves this run (provisional, profiling, keeping scratch, echoing). */
function cleanCommand(argv: readonly string[]): string {
  const drop = new Set(['--provisional', '--cpu-prof', '--keep', '--verbose'])
  const kept: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!
    if (drop.has(a)) {
      if (a === '--provisional') while (i + 1 < argv.length && !argv[i + 1]!.startsWith('--')) i++
      continue
    }
    kept.push(a)
  }
  return ['npm run bench --', ...kept.map(quote)].join(' ')
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2)
  const opts = parseOptions(argv)
  const log = (line: string): void => void process.stderr.write(`${line}\n`)
  const root = resolve('.cache', 'bench')
  const startedAt = new Date()
  const started = performance.now()
  const loadStart = loadAverage()
  const busyAtStart = loadPerCore()
  const runId = startedAt
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z')
  const runDir = join(root, 'runs', runId)
  await mkdir(runDir, { recursive: true })
  const cpuProfDir = opts.cpuProf ? join(runDir, 'profiles') : undefined
  if (cpuProfDir) await mkdir(cpuProfDir, { recursive: true })

  log(`bench: scale ${opts.scale}, stages ${opts.stages.join(', ')}; scratch ${runDir}`)
  const genStarted = performance.now()
  const { dir: datasetDir, dataset, generated } = await ensureDataset(join(root, 'data'), opts.scale, opts.seed, log)
  const genSeconds = (performance.now() - genStarted) / 1000
  const t = dataset.totals
  if (opts.instructions && !hasValgrind()) fail('--instructions needs valgrind (its callgrind tool) on the PATH')
  const instructionsDatasetDir =
    opts.instructions && opts.stages.includes('fold') ? (await ensureDataset(join(root, 'data'), 'tiny', opts.seed, log)).dir : undefined
  const idle = await runChild(
    { stage: 'fold', variant: 'prep', scale: opts.scale, datasetDir, workDir: runDir, stageDir: runDir, idle: true },
    { logPath: join(runDir, 'idle.log') },
  )

  const outcomes: StageOutcome[] = []
  for (const stage of opts.stages) {
    log(`stage ${stage}`)
    const outcome = await runStage(stage, {
      scale: opts.scale,
      datasetDir,
      runDir,
      repeat: opts.repeat,
      brokers: opts.brokers,
      registry: opts.registry,
      cpuProfDir,
      heapMb: opts.heapMb,
      instructionsDatasetDir,
      echo: opts.verbose,
      log,
    })
    outcomes.push(outcome)
    if (outcome.skipped) log(`stage ${stage} skipped: ${outcome.skipped}`)
    if (outcome.failed) log(`stage ${stage} FAILED: ${outcome.failed}`)
    log(`stage ${stage} done in ${fmtSeconds(outcome.wallSeconds)}`)
  }

  const gaps = opts.gapProfiles
    ? await profileGaps(missedSpeedTargets(outcomes), {
        runDir,
        baseSpec: {
          scale: opts.scale,
          datasetDir,
          ...(opts.brokers ? { brokers: opts.brokers } : {}),
          ...(opts.registry ? { registry: opts.registry } : {}),
          ...(opts.heapMb ? { heapMb: opts.heapMb } : {}),
        },
        log,
      })
    : []

  const wallSeconds = (performance.now() - started) / 1000
  const busyAtEnd = loadPerCore()
  const warnings: string[] = []
  if (Math.max(busyAtStart, busyAtEnd) > 0.5) {
    warnings.push(
      `The machine was busy with other work (1-minute load average ${loadStart} at the start, ${loadAverage()} at the end, on ${machineFacts().CPU}); expect noisy timings.`,
    )
  }
  if (opts.cpuProf)
    warnings.push(
      'Every measurement ran under the V8 CPU profiler (--cpu-prof), which slows JavaScript by a few percent to tens of percent; use this run for the profiles, not for the figures.',
    )
  const bs = BENCH_SCALES[opts.scale]
  const scale = SCALES[opts.scale]
  const report: RunReport = {
    title: 'synclog benchmarks',
    provisional: opts.provisional,
    warnings,
    command: ['npm run bench --', ...argv.map(quote)].join(' '),
    scale: opts.scale,
    scaleDescription: `${scale.districts} district(s) x ${scale.schoolsPerDistrict} schools, ${scale.nights} nights; query log ${bs.queryRows.toLocaleString('en-US')} rows; export ${bs.exportRows.toLocaleString('en-US')} rows`,
    startedAt: startedAt.toISOString(),
    wallSeconds,
    machine: {
      ...machineFacts(),
      'load average (1/5/15 min)': `${loadStart} at the start, ${loadAverage()} at the end`,
      'an idle child process': `${fmtBytes(idle.peakRss)} peak RSS (node + tsx: the floor under every RSS figure)`,
    },
    dataset: {
      roster:
        `${dataset.districts.length} district(s), ${t.students.toLocaleString('en-US')} students, ${t.teachers.toLocaleString('en-US')} teachers, ` +
        `${t.sections.toLocaleString('en-US')} sections, ${t.enrollments.toLocaleString('en-US')} enrollments on night 1, ${t.crossSiteStudents} cross-site students (seed ${opts.seed})`,
      nights:
        `${dataset.nights}: ${csvDataRows(dataset).toLocaleString('en-US')} CSV data rows in all, ${ndjsonEvents(dataset).toLocaleString('en-US')} change events in all ` +
        `(night 2: ${Object.values(dataset.perNight[1]?.changes ?? {}).reduce((a, b) => a + b, 0)} changes, ${Object.values(dataset.perNight[1]?.defects ?? {}).reduce((a, b) => a + b, 0)} broken rows)`,
      generation: generated
        ? `generated in ${fmtSeconds(genSeconds)} (${((dataset.bytes.csv + dataset.bytes.ndjson) / 1e6).toFixed(0)} MB)`
        : `reused from ${relative(resolve(import.meta.dirname, '../..'), datasetDir)}`,
    },
    stages: outcomes,
    gaps,
  }

  process.stdout.write(
    `\n${resultTable(outcomes)}\n\n${targetsTable(outcomes, opts.scale)}\n\nscale ${opts.scale}, ${fmtSeconds(wallSeconds)} wall; ${warnings.join(' ')}\n`,
  )
  if (opts.out !== undefined) {
    await writeFile(opts.out, renderMarkdown(report), 'utf8')
    log(`wrote ${resolve(opts.out)}`)
  }
  if (!opts.keep && !opts.cpuProf) await rm(runDir, { recursive: true, force: true })
  else log(`kept ${runDir}`)
  if (outcomes.some((o) => o.failed)) process.exitCode = 1
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`)
  process.exit(1)
})
