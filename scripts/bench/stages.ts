/**
 * Which children each stage runs, and how their answers become rows: a row's
 * figure and baseline may come from two children (each with its own RSS), or
 * from one child that measured both.
 */
import { mkdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { ScaleName } from '../../src/generate/scales.js'
import { runChild, type ChildRun } from './run-child.js'
import { costMeasure } from './stats.js'
import type { ChildSpec, Measure, ResultRow, RowPart, StageName, StageOutcome, Variant } from './types.js'

interface Step {
  readonly variant: Variant
  readonly part?: string
  readonly repeatable: boolean
}

const PLAN: Readonly<Record<StageName, readonly Step[]>> = {
  fold: [
    { variant: 'baseline', repeatable: true },
    { variant: 'figure', repeatable: true },
  ],
  import: [
    { variant: 'baseline', part: 'reader', repeatable: true },
    { variant: 'baseline', part: 'csv-parse', repeatable: true },
    { variant: 'figure', repeatable: true },
  ],
  projection: [
    { variant: 'prep', repeatable: false },
    { variant: 'baseline', repeatable: true },
    { variant: 'figure', repeatable: true },
  ],
  // One child measures both sides here; repeated, each row keeps the median of each side (the broker makes them the noisiest).
  processor: [{ variant: 'both', repeatable: true }],
  stream: [{ variant: 'both', repeatable: true }],
  query: [{ variant: 'both', repeatable: false }],
  export: [
    { variant: 'baseline', part: 'xlsx', repeatable: true },
    { variant: 'figure', part: 'xlsx', repeatable: true },
    { variant: 'baseline', part: 'csv', repeatable: true },
    { variant: 'figure', part: 'csv', repeatable: true },
  ],
  responsive: [{ variant: 'both', repeatable: false }],
}

export interface StageContext {
  readonly scale: ScaleName
  readonly datasetDir: string
  /** This run's scratch directory. */
  readonly runDir: string
  readonly repeat: number
  readonly brokers?: string
  readonly registry?: string
  readonly cpuProfDir?: string
  readonly heapMb?: number
  /** The tiny scale's dataset, when the fold's instructions per event are to be counted under callgrind. */
  readonly instructionsDatasetDir?: string
  readonly echo: boolean
  readonly log: (line: string) => void
}

interface Sided {
  measure: Measure
  rss: number
}

/** The middle run by speed (rate, p50 latency, or cost); of an even number, the faster of the two middle ones. */
function median(runs: readonly Sided[], kind: RowPart['kind']): Sided {
  const speed = (s: Sided): number =>
    kind === 'rate' ? (s.measure.rate ?? 0) : kind === 'cost' ? -(s.measure.value ?? 0) : -(s.measure.p50 ?? 0)
  const sorted = [...runs].sort((a, b) => speed(a) - speed(b))
  return sorted[Math.floor(sorted.length / 2)]!
}

function ratioOf(
  kind: RowPart['kind'],
  figure: Measure | null,
  baseline: Measure | null,
  on: 'p50' | 'p95' | 'p99' = 'p50',
): number | null {
  if (figure === null || baseline === null) return null
  if (kind === 'rate') return baseline.rate ? (figure.rate ?? 0) / baseline.rate : null
  if (kind === 'cost') return figure.value ? (baseline.value ?? 0) / figure.value : null
  return figure[on] ? (baseline[on] ?? 0) / figure[on] : null
}

export async function runStage(stage: StageName, ctx: StageContext): Promise<StageOutcome> {
  const started = performance.now()
  const stageDir = join(ctx.runDir, stage)
  await mkdir(stageDir, { recursive: true })
  const facts: Record<string, string> = {}
  const notes: string[] = []
  const rows = new Map<string, { part: RowPart; figure: Sided[]; baseline: Sided[] }>()
  try {
    for (const step of PLAN[stage]) {
      const runs = step.repeatable ? ctx.repeat : 1
      for (let rep = 1; rep <= runs; rep++) {
        const name = `${stage}-${step.part ? `${step.part}-` : ''}${step.variant}${runs > 1 ? `-${rep}` : ''}`
        const workDir = join(stageDir, name)
        await mkdir(workDir, { recursive: true })
        const spec: ChildSpec = {
          stage,
          variant: step.variant,
          ...(step.part ? { part: step.part } : {}),
          scale: ctx.scale,
          datasetDir: ctx.datasetDir,
          workDir,
          stageDir,
          ...(ctx.brokers ? { brokers: ctx.brokers } : {}),
          ...(ctx.registry ? { registry: ctx.registry } : {}),
          ...(ctx.cpuProfDir ? { cpuProfDir: ctx.cpuProfDir } : {}),
          ...(ctx.heapMb ? { heapMb: ctx.heapMb } : {}),
        }
        ctx.log(`  ${name} ...`)
        const run: ChildRun = await runChild(spec, {
          logPath: join(stageDir, `${name}.log`),
          cpuProfDir: ctx.cpuProfDir === undefined ? undefined : join(ctx.cpuProfDir, name),
          echo: ctx.echo,
        })
        ctx.log(`  ${name}: ${run.wallSeconds.toFixed(1)} s, peak RSS ${(run.peakRss / 2 ** 20).toFixed(0)} MiB`)
        const { result } = run
        Object.assign(facts, result.facts ?? {})
        for (const n of result.notes ?? []) if (!notes.includes(n)) notes.push(n)
        if (result.skipped) {
          return { stage, rows: [], facts, notes, skipped: result.skipped, wallSeconds: (performance.now() - started) / 1000 }
        }
        for (const part of result.rows) {
          const entry = rows.get(part.key) ?? { part, figure: [], baseline: [] }
          if (part.figure) entry.figure.push({ measure: part.figure, rss: part.figureRss ?? run.peakRss })
          if (part.baseline) entry.baseline.push({ measure: part.baseline, rss: part.baselineRss ?? run.peakRss })
          rows.set(part.key, entry)
        }
      }
    }
    if (stage === 'fold' && ctx.instructionsDatasetDir !== undefined) {
      const part = await foldInstructions(ctx, ctx.instructionsDatasetDir, stageDir)
      rows.set(part.key, {
        part,
        figure: [{ measure: part.figure!, rss: 0 }],
        baseline: [{ measure: part.baseline!, rss: 0 }],
      })
    }
  } catch (e) {
    return {
      stage,
      rows: finish(stage, rows),
      facts,
      notes,
      failed: e instanceof Error ? e.message : String(e),
      wallSeconds: (performance.now() - started) / 1000,
    }
  }
  if (ctx.repeat > 1)
    notes.push(`${stage}: each repeatable measurement ran ${ctx.repeat} times; the table shows the median run, peak RSS the highest.`)
  return { stage, rows: finish(stage, rows), facts, notes, wallSeconds: (performance.now() - started) / 1000 }
}

/** Instructions counted by callgrind: the `summary:` line of its output file. */
async function callgrindInstructions(path: string): Promise<number> {
  const m = /^summary:\s+(\d+)/m.exec(await readFile(path, 'utf8'))
  if (m === null) throw new Error(`no instruction count in ${path}`)
  return Number(m[1])
}

/**
 * Times each fold folds the tiny nights under callgrind, each from an empty state: the
 * minimal fold's work on them once is a few percent of the child's fixed instructions
 * (node, tsx, decoding), about as much as those vary from one child to the next.
 */
const FOLD_ROUNDS = 5

/**
 * Instructions per event of synclog's fold and of the minimal fold, on the tiny scale's
 * events: each fold under callgrind (FOLD_ROUNDS times), less a child that decodes the same
 * events and folds none (node, tsx, reading and decoding; the fold stage loads both folds
 * either way), divided by the events folded.
 */
async function foldInstructions(ctx: StageContext, datasetDir: string, stageDir: string): Promise<RowPart> {
  /** One fold child on the tiny nights, named `name`; under callgrind when `callgrindOut` is given. */
  const foldChild = async (name: string, variant: 'figure' | 'baseline', foldNothing: boolean, callgrindOut?: string) => {
    const workDir = join(stageDir, name)
    await mkdir(workDir, { recursive: true })
    ctx.log(`  ${name}${callgrindOut ? ' (callgrind)' : ''} ...`)
    const run = await runChild(
      {
        stage: 'fold',
        variant,
        scale: 'tiny',
        datasetDir,
        workDir,
        stageDir,
        foldRounds: FOLD_ROUNDS,
        ...(foldNothing ? { foldNothing } : {}),
      },
      { logPath: join(stageDir, `${name}.log`), echo: ctx.echo, ...(callgrindOut ? { callgrindOut } : {}) },
    )
    ctx.log(`  ${name}: ${run.wallSeconds.toFixed(1)} s`)
    return run
  }
  const counted = async (variant: 'figure' | 'baseline', foldNothing: boolean): Promise<{ instructions: number; events: number }> => {
    const name = foldNothing ? 'fold-instructions-nothing' : `fold-instructions-${variant}`
    const out = join(stageDir, `${name}.callgrind`)
    const run = await foldChild(name, variant, foldNothing, out)
    const events = run.result.rows.find((r) => r.key === 'fold')?.[variant]?.count ?? 0
    return { instructions: await callgrindInstructions(out), events }
  }
  // One run outside callgrind first: tsx compiles what changed into its cache then, not inside the first
  // counted run (whose count the compile would swell by more than the minimal fold's whole work).
  await foldChild('fold-instructions-warmup', 'figure', true)
  const nothing = await counted('figure', true)
  const folds = [await counted('figure', false), await counted('baseline', false)]
  for (const c of folds)
    if (c.instructions <= nothing.instructions)
      throw new Error(`callgrind counted fewer instructions with a fold (${c.instructions}) than without (${nothing.instructions})`)
  const [figure, baseline] = folds.map((c) =>
    costMeasure(c.instructions - nothing.instructions, c.events, {
      'instructions with the fold': c.instructions,
      'instructions without': nothing.instructions,
    }),
  )
  return {
    key: 'fold-instructions',
    label: 'fold: instructions per event, callgrind, tiny scale (synclog / minimal fold)',
    kind: 'cost',
    unit: 'instructions/event',
    figure: figure!,
    baseline: baseline!,
  }
}

function finish(stage: StageName, rows: Map<string, { part: RowPart; figure: Sided[]; baseline: Sided[] }>): ResultRow[] {
  return [...rows.values()].map(({ part, figure, baseline }) => {
    const f = figure.length > 0 ? median(figure, part.kind) : null
    const b = baseline.length > 0 ? median(baseline, part.kind) : null
    return {
      stage,
      key: part.key,
      label: part.label,
      kind: part.kind,
      unit: part.unit,
      figure: f?.measure ?? null,
      baseline: b?.measure ?? null,
      ratio: ratioOf(part.kind, f?.measure ?? null, b?.measure ?? null, part.ratioOn),
      ...(part.ratioOn === undefined ? {} : { ratioOn: part.ratioOn }),
      figureRss: figure.length > 0 ? Math.max(...figure.map((s) => s.rss)) : null,
      baselineRss: baseline.length > 0 ? Math.max(...baseline.map((s) => s.rss)) : null,
    }
  })
}
