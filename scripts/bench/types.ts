/** What stage runs hand back to the harness. Plain JSON: it crosses the child-process boundary. */
import type { ScaleName } from '../../src/generate/scales.js'

export const STAGES = ['fold', 'import', 'projection', 'processor', 'stream', 'query', 'export', 'responsive'] as const
export type StageName = (typeof STAGES)[number]

/** A child runs the measured code (`figure`), its limit (`baseline`), both (stages that share costly setup), or a preparation. */
export type Variant = 'figure' | 'baseline' | 'both' | 'prep'

/** One measurement: a rate, a latency distribution, or a cost per unit. */
export interface Measure {
  /** Units processed (rows, events) or samples taken (latencies). */
  readonly count: number
  /** Wall seconds of the timed region (sum over samples for latencies). */
  readonly seconds: number
  /** CPU seconds (user + system) of the process during the timed region, when known. */
  readonly cpuSeconds?: number
  /** Units per second (rates). */
  readonly rate?: number
  /** Latency percentiles in ms. */
  readonly p50?: number
  readonly p95?: number
  readonly p99?: number
  /** A cost per unit (instructions per event, bytes per record, messages per event): lower is better. */
  readonly value?: number
  /** Anything else worth printing in the details (bytes written, rows read, ...). */
  readonly extra?: Readonly<Record<string, string | number>>
}

export type MeasureKind = 'rate' | 'latency' | 'cost'

/** One row of a stage's table, from one or two children. */
export interface RowPart {
  /** Stable id of the row within the stage. */
  readonly key: string
  readonly label: string
  readonly kind: MeasureKind
  /** e.g. 'events/s', 'rows/s', 'B/record'. */
  readonly unit: string
  readonly figure?: Measure
  readonly baseline?: Measure
  /** Peak RSS in bytes, when the child measured it itself (otherwise the harness's sample of the child is used). */
  readonly figureRss?: number
  readonly baselineRss?: number
  /** Which latency the ratio compares (default p50). */
  readonly ratioOn?: 'p50' | 'p95' | 'p99'
}

export interface ChildResult {
  readonly rows: readonly RowPart[]
  readonly facts?: Readonly<Record<string, string>>
  readonly notes?: readonly string[]
  /** Set when the stage could not run here (e.g. no Java for Kafka): the reason. */
  readonly skipped?: string
}

export interface ChildSpec {
  readonly stage: StageName
  readonly variant: Variant
  /** For stages with several measured parts (export: xlsx, csv). */
  readonly part?: string
  readonly scale: ScaleName
  readonly datasetDir: string
  /** This child's own scratch directory (chDB data, output files). */
  readonly workDir: string
  /** Shared with the other children of the stage (e.g. the projection's prepared events). */
  readonly stageDir: string
  readonly brokers?: string
  readonly registry?: string
  /** When profiling: where processes this child starts (the stream pipelines) write their CPU profiles. */
  readonly cpuProfDir?: string
  /** V8 heap limit (--max-old-space-size, MB) of this child and the processes it starts; default Node's. */
  readonly heapMb?: number
  /** fold under callgrind: parse the events but fold none (the run whose instructions are subtracted). */
  readonly foldNothing?: boolean
  /** fold under callgrind: fold the nights this many times, each from an empty state (default 1). */
  readonly foldRounds?: number
}

/** A finished row of the report. */
export interface ResultRow {
  readonly stage: StageName
  readonly key: string
  readonly label: string
  readonly kind: MeasureKind
  readonly unit: string
  readonly figure: Measure | null
  readonly baseline: Measure | null
  /** Speed relative to the baseline: figure rate / baseline rate, or baseline latency (cost) / figure latency (cost). */
  readonly ratio: number | null
  readonly ratioOn?: 'p50' | 'p95' | 'p99'
  readonly figureRss: number | null
  readonly baselineRss: number | null
}

export interface StageOutcome {
  readonly stage: StageName
  readonly rows: ResultRow[]
  readonly facts: Record<string, string>
  readonly notes: string[]
  readonly skipped?: string
  readonly failed?: string
  readonly wallSeconds: number
}
