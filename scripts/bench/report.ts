/** The results as a table (console and BENCHMARKS.md). */
import { fmtBytes, fmtCount, fmtMs, fmtSeconds } from './stats.js'
import { gapSection, type GapProfile } from './gap-profiles.js'
import type { Measure, ResultRow, StageName, StageOutcome } from './types.js'

/** What each stage's figure and baseline are, in one line each (docs/benchmarks.md says why). */
export const STAGE_DEFINITIONS: Readonly<Record<StageName, { figure: string; baseline: string }>> = {
  fold: {
    figure:
      "synclog's fold (step + evolve) over every night's change events, decoded before the timed part; also read + decode + fold, and the heap per committed roster record",
    baseline:
      'the minimal fold of scripts/bench/minimal-fold.ts (a Map per entity type, tracked fields compared, one action per change, deletion by absence, sync counts) over the same decoded events; read + decode alone (NDJSON line -> parseNdjsonLine) for the row with decoding',
  },
  import: {
    figure: 'readOneRosterBundle + applyEvent over every bundle of every night (night 2+ diffed against the state)',
    baseline:
      "synclog's reader alone (readOneRosterBundle iterated to the end, rows counted, no fold); csv-parse (stream API) over the same CSV files for the second row",
  },
  projection: {
    figure: "SyncLogStore.write of the fold's output in batches of 20,000 events into chDB",
    baseline:
      'the same rows mapped by hand to arrays and sent as one INSERT ... FORMAT JSONCompactEachRow per table through the same client',
  },
  processor: {
    figure:
      "synclog's processor alone (ProcessorService) over an input topic filled beforehand, from its group's start to every input offset committed; messages and bytes it produced per input event, read back (read_committed) from every output topic",
    baseline:
      'raw kafkajs over the same input topic: consume a batch, send one message per input event and the offsets in one transaction, commit',
  },
  stream: {
    figure: 'synclog processor + projector (as `synclog run all`) on the real broker; visible = final status written to chDB',
    baseline: 'raw kafkajs: consume the same messages, produce them unchanged, consume them again',
  },
  query: {
    figure: 'the SyncLogStore read the CLI/API issues (FINAL, scope, order, page, mapping)',
    baseline: 'the same WHERE predicate as a bare SELECT count() without FINAL, same client',
  },
  export: {
    figure: 'writeLogXlsx / writeCsv of N synthetic log rows',
    baseline: 'raw exceljs streaming WorkbookWriter (no styles) / csv-stringify stream of the same rows',
  },
  responsive: {
    figure:
      "GET /api/v1/log (the page's first log page) from a real `synclog serve`, alone, during an import and during an analyst's query; a chDB connection per lane",
    baseline: 'the same service and requests with one chDB connection for everything (SYNCLOG_CHDB_CONNECTIONS=one)',
  },
}

export interface RunReport {
  readonly title: string
  readonly provisional: string | null
  readonly warnings: readonly string[]
  readonly command: string
  readonly scale: string
  readonly scaleDescription: string
  readonly startedAt: string
  readonly wallSeconds: number
  readonly machine: Readonly<Record<string, string>>
  readonly dataset: Readonly<Record<string, string>>
  readonly stages: readonly StageOutcome[]
  /** Where the time of each missed speed target goes (gap-profiles.ts). */
  readonly gaps: readonly GapProfile[]
}

function tailOf(row: ResultRow): 'p95' | 'p99' {
  return row.stage === 'stream' ? 'p99' : 'p95'
}

export function cell(row: ResultRow, m: Measure | null): string {
  if (m === null) return '–'
  if (row.kind === 'rate') return `${fmtCount(m.rate ?? 0)} ${row.unit}`
  if (row.kind === 'cost') return `${fmtCount(m.value ?? Number.NaN)} ${row.unit}`
  const tail = tailOf(row)
  return `p50 ${fmtMs(m.p50 ?? Number.NaN)} · ${tail} ${fmtMs(m[tail] ?? Number.NaN)}`
}

export function ratioText(r: number | null, on?: 'p50' | 'p95' | 'p99', kind?: ResultRow['kind']): string {
  if (r === null || !Number.isFinite(r)) return '–'
  const x = r >= 10 ? r.toFixed(0) : r >= 1 ? r.toFixed(2) : r.toPrecision(2)
  const at = on === undefined || on === 'p50' ? '' : ` at ${on}`
  const [worse, better] = kind === 'cost' ? ['more', 'less'] : ['slower', 'faster']
  if (r < 0.95) return `${x}×${at} (${(1 / r).toFixed(1 / r >= 10 ? 0 : 1)}× ${worse})`
  if (r > 1.05) return `${x}×${at} (${better})`
  return `${x}×${at}`
}

function rssText(row: ResultRow): string {
  if (row.figureRss !== null && row.figureRss === row.baselineRss) return `${fmtBytes(row.figureRss)} (same process)`
  return `${fmtBytes(row.figureRss)} / ${fmtBytes(row.baselineRss)}`
}

function escapeCell(text: string): string {
  return text.replace(/\|/g, '\\|')
}

export function resultTable(stages: readonly StageOutcome[]): string {
  const lines = ['| stage | figure | baseline | ratio | peak RSS (figure / baseline) |', '|---|---|---|---|---|']
  for (const s of stages) {
    if (s.skipped) lines.push(`| ${s.stage} | skipped: ${escapeCell(s.skipped)} | | | |`)
    else if (s.failed) lines.push(`| ${s.stage} | **failed**: ${escapeCell(s.failed.split('\n')[0] ?? '')} | | | |`)
    for (const r of s.rows)
      lines.push(
        `| ${escapeCell(r.label)} | ${cell(r, r.figure)} | ${cell(r, r.baseline)} | ${ratioText(r.ratio, r.ratioOn, r.kind)} | ${rssText(r)} |`,
      )
  }
  return lines.join('\n')
}

interface Target {
  readonly what: string
  readonly target: string
  /** The row a speed target is judged on (its stage is profiled when the target is missed). */
  readonly speedRow?: string
  /** The figure the target is about, as text, and whether it meets the target; null when the run has no such figure. */
  readonly judge: (rows: ReadonlyMap<string, ResultRow>, stages: readonly StageOutcome[]) => { text: string; met: boolean } | null
}

function ratioTarget(what: string, key: string, atLeast: number): Target {
  return {
    what,
    target: `≥ ${atLeast}×`,
    speedRow: key,
    judge: (rows) => {
      const row = rows.get(key)
      const r = row?.ratio
      if (row === undefined || r === null || r === undefined) return null
      const cpu = cpuRatio(row)
      return { text: ratioText(r) + (cpu === null ? '' : `; by CPU time ${ratioText(cpu)}`), met: r >= atLeast }
    },
  }
}

/** A rate row's ratio by CPU time instead of wall time (steadier on a busy machine), when both sides know theirs. */
function cpuRatio(row: ResultRow): number | null {
  const f = row.figure
  const b = row.baseline
  if (row.kind !== 'rate' || !f?.cpuSeconds || !b?.cpuSeconds) return null
  return f.count / f.cpuSeconds / (b.count / b.cpuSeconds)
}

function costTarget(what: string, key: string, atMost: number, unit: string): Target {
  return {
    what,
    target: `≤ ${atMost} ${unit}`,
    judge: (rows) => {
      const v = rows.get(key)?.figure?.value
      return v === undefined || !Number.isFinite(v) ? null : { text: `${fmtCount(v)} ${unit}`, met: v <= atMost }
    },
  }
}

/** The goals the core is held to, each as measured by one row of the run. */
const TARGETS: readonly Target[] = [
  ratioTarget('fold, events already decoded, against the minimal fold', 'fold', 0.3),
  ratioTarget("OneRoster import against synclog's reader alone", 'import', 0.4),
  ratioTarget('stream processor against the raw transactional loop', 'processor', 0.5),
  ratioTarget('stream end to end against the raw pipe', 'stream-throughput', 0.4),
  costTarget('messages produced per input event (processor)', 'processor-messages', 1.2, 'messages/event'),
  costTarget('heap per committed roster record (fold)', 'fold-memory', 450, 'B/record'),
  {
    what: 'slowest query p95 (the target holds at medium scale)',
    target: '≤ 100 ms',
    judge: (_rows, stages) => {
      const query = stages.find((s) => s.stage === 'query')?.rows ?? []
      const p95s = query.map((r) => ({ r, p95: r.figure?.p95 })).filter((x): x is { r: ResultRow; p95: number } => x.p95 !== undefined)
      if (p95s.length === 0) return null
      const worst = p95s.reduce((a, b) => (b.p95 > a.p95 ? b : a))
      return { text: `${fmtMs(worst.p95)} (${worst.r.label})`, met: p95s.every((x) => x.p95 <= 100) }
    },
  },
]

/** Every row of the run, by its key. */
function rowsByKey(stages: readonly StageOutcome[]): Map<string, ResultRow> {
  const rows = new Map<string, ResultRow>()
  for (const s of stages) for (const r of s.rows) rows.set(r.key, r)
  return rows
}

/** The speed targets this run measured and missed: what each is, and the row it is judged on. */
export function missedSpeedTargets(stages: readonly StageOutcome[]): { what: string; row: ResultRow }[] {
  const rows = rowsByKey(stages)
  const missed: { what: string; row: ResultRow }[] = []
  for (const t of TARGETS) {
    const row = t.speedRow === undefined ? undefined : rows.get(t.speedRow)
    if (row !== undefined && t.judge(rows, stages)?.met === false) missed.push({ what: t.what, row })
  }
  return missed
}

/** Each target, the run's figure for it, and whether it is met; "not measured" when the run skipped its stage. */
export function targetsTable(stages: readonly StageOutcome[], scale: string): string {
  const rows = rowsByKey(stages)
  const lines = ['| target | goal | this run | met? |', '|---|---|---|---|']
  for (const t of TARGETS) {
    const judged = t.judge(rows, stages)
    const met = judged === null ? '–' : judged.met ? 'met' : '**missed**'
    lines.push(`| ${escapeCell(t.what)} | ${t.target} | ${escapeCell(judged?.text ?? 'not measured in this run')} | ${met} |`)
  }
  lines.push(
    '',
    'A goal is judged on the wall-time ratio; the ratio by CPU time (CPU seconds of the measuring process) is given beside it, as a busy machine moves it less.',
  )
  if (scale !== 'medium') lines.push(`Measured at scale ${scale}; the query goal is set at medium scale.`)
  return lines.join('\n')
}

function measureDetail(row: ResultRow, m: Measure | null): string {
  if (m === null) return '–'
  const parts = [
    row.kind === 'rate'
      ? `${m.count} ${row.unit.replace('/s', '')} in ${m.seconds.toFixed(2)} s`
      : row.kind === 'cost'
        ? `${fmtCount(m.value ?? Number.NaN)} ${row.unit} over ${m.count} units`
        : `${m.count} samples, p99 ${fmtMs(m.p99 ?? Number.NaN)}`,
  ]
  if (m.cpuSeconds !== undefined && m.seconds > 0 && m.count > 0)
    parts.push(`CPU ${m.cpuSeconds.toFixed(2)} s (${Math.round((100 * m.cpuSeconds) / m.seconds)} % of wall)`)
  for (const [k, v] of Object.entries(m.extra ?? {})) parts.push(`${k}: ${v}`)
  return parts.join('; ')
}

/**
 * For a rate whose figure does the baseline's work plus its own on the same units: the rate of
 * that extra work alone, units / (figure seconds - baseline seconds) (e.g. the fold without decoding).
 */
export function extraWorkRate(row: ResultRow): number | null {
  const f = row.figure
  const b = row.baseline
  if (row.kind !== 'rate' || f === null || b === null || f.count !== b.count || f.seconds <= b.seconds) return null
  return f.count / (f.seconds - b.seconds)
}

export function detailsTable(stages: readonly StageOutcome[]): string {
  const lines = ['| row | figure | baseline |', '|---|---|---|']
  for (const s of stages) {
    for (const r of s.rows) {
      const extra = extraWorkRate(r)
      const figure =
        measureDetail(r, r.figure) + (extra === null ? '' : `; the work beyond the baseline alone: ${fmtCount(extra)} ${r.unit}`)
      lines.push(`| ${escapeCell(r.label)} | ${escapeCell(figure)} | ${escapeCell(measureDetail(r, r.baseline))} |`)
    }
  }
  return lines.join('\n')
}

function factsList(facts: Readonly<Record<string, string>>): string {
  return Object.entries(facts)
    .map(([k, v]) => `- **${k}**: ${v}`)
    .join('\n')
}

export function renderMarkdown(r: RunReport): string {
  const stageFacts: Record<string, string> = {}
  const notes: string[] = []
  for (const s of r.stages) {
    Object.assign(stageFacts, s.facts)
    notes.push(...s.notes)
    if (s.failed) notes.push(`${s.stage} failed: ${s.failed}`)
  }
  const out = [`# ${r.title}`, '', '<!-- Generated by scripts/bench/main.ts; do not edit by hand: re-run the command below. -->', '']
  if (r.provisional !== null) out.push(`> **PROVISIONAL.** ${r.provisional}`, '')
  for (const w of r.warnings) out.push(`> **Warning:** ${w}`, '')
  out.push(
    `Command: \`${r.command}\`  `,
    `Scale: **${r.scale}** (${r.scaleDescription})  `,
    `Run: ${r.startedAt}, ${fmtSeconds(r.wallSeconds)} wall in all.`,
    '',
    'Each row measures synclog (figure) and the limit of the tool underneath it (baseline) on the same data in the',
    'same run, each in a fresh process. **ratio** is figure speed ÷ baseline speed (rates: figure/baseline; latencies:',
    "baseline/figure at p50), so 1× means as fast as the baseline. Peak RSS is the measuring process's high-water mark.",
    'What each stage measures and why its baseline is the right one: [docs/benchmarks.md](docs/benchmarks.md).',
    '',
    resultTable(r.stages),
    '',
    '## Targets',
    '',
    targetsTable(r.stages, r.scale),
    '',
    ...(r.gaps.length === 0
      ? []
      : [
          '## Where the remaining time goes',
          '',
          'For each speed target missed above, its figure ran once more after every measurement, under the V8 CPU profiler (so these runs give shares of time, not figures).',
          '',
          gapSection(r.gaps),
        ]),
    '## Machine',
    '',
    factsList(r.machine),
    '',
    '## Data',
    '',
    factsList({ ...r.dataset, ...stageFacts }),
    '',
    '## What was timed',
    '',
    ...r.stages.map(
      (s) =>
        `- **${s.stage}** (${fmtSeconds(s.wallSeconds)}): figure = ${STAGE_DEFINITIONS[s.stage].figure}; baseline = ${STAGE_DEFINITIONS[s.stage].baseline}.`,
    ),
    '',
    '## Details',
    '',
    detailsTable(r.stages),
    '',
  )
  if (notes.length > 0) out.push('## Notes', '', ...notes.map((n) => `- ${n}`), '')
  return out.join('\n')
}
