/**
 * How much each stage does at each scale. The roster itself (fold, import,
 * projection, stream) comes from the generator's scale; the query and export
 * stages use a synthetic sync log of their own size.
 */
import type { ScaleName } from '../../src/generate/scales.js'

export interface BenchScale {
  /** Rows of the synthetic log the query stage reads. */
  readonly queryRows: number
  /** Tenants of that log. */
  readonly queryTenants: number
  /** Timed runs of each query (after two warm-up runs), figure and baseline alternating. */
  readonly queryRuns: number
  /** Rows the export stage writes (per format). */
  readonly exportRows: number
  /** Small delta syncs published one by one to measure stream latency. */
  readonly latencySyncs: number
  /** Milliseconds between two of them (far below capacity, so the latency is the pipeline's, not a queue's). */
  readonly latencyIntervalMs: number
  /** Records per latency sync. */
  readonly latencySyncRecords: number
}

export const BENCH_SCALES: Readonly<Record<ScaleName, BenchScale>> = {
  tiny: {
    queryRows: 40_000,
    queryTenants: 2,
    queryRuns: 8,
    exportRows: 10_000,
    latencySyncs: 20,
    latencyIntervalMs: 100,
    latencySyncRecords: 10,
  },
  small: {
    queryRows: 1_000_000,
    queryTenants: 4,
    queryRuns: 20,
    exportRows: 100_000,
    latencySyncs: 100,
    latencyIntervalMs: 100,
    latencySyncRecords: 20,
  },
  medium: {
    queryRows: 10_000_000,
    queryTenants: 8,
    queryRuns: 30,
    exportRows: 1_000_000,
    latencySyncs: 200,
    latencyIntervalMs: 100,
    latencySyncRecords: 20,
  },
  large: {
    queryRows: 100_000_000,
    queryTenants: 40,
    queryRuns: 30,
    exportRows: 1_000_000,
    latencySyncs: 300,
    latencyIntervalMs: 100,
    latencySyncRecords: 20,
  },
}
