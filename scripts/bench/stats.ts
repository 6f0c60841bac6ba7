/** Percentiles and the number formats of the report. */
import type { Measure } from './types.js'

/** The p-th percentile (0..100) of `values` by the nearest-rank method; NaN for none. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)))
  return sorted[rank - 1]!
}

export function rateMeasure(count: number, seconds: number, cpuSeconds?: number, extra?: Measure['extra']): Measure {
  return { count, seconds, cpuSeconds, rate: seconds > 0 ? count / seconds : 0, ...(extra ? { extra } : {}) }
}

/** A cost of `count` units in all, as a cost per unit (`value`). */
export function costMeasure(total: number, count: number, extra?: Measure['extra']): Measure {
  return { count, seconds: 0, value: count > 0 ? total / count : Number.NaN, ...(extra ? { extra } : {}) }
}

export function latencyMeasure(samplesMs: readonly number[], extra?: Measure['extra']): Measure {
  return {
    count: samplesMs.length,
    seconds: samplesMs.reduce((a, b) => a + b, 0) / 1000,
    p50: percentile(samplesMs, 50),
    p95: percentile(samplesMs, 95),
    p99: percentile(samplesMs, 99),
    ...(extra ? { extra } : {}),
  }
}

/** 1234567 -> "1.23 M", 12345 -> "12.3 k", 123 -> "123". */
export function fmtCount(n: number): string {
  if (!Number.isFinite(n)) return '–'
  const abs = Math.abs(n)
  if (abs >= 1e9) return `${(n / 1e9).toFixed(2)} G`
  if (abs >= 1e6) return `${(n / 1e6).toFixed(abs >= 1e8 ? 0 : abs >= 1e7 ? 1 : 2)} M`
  if (abs >= 1e4) return `${(n / 1e3).toFixed(abs >= 1e5 ? 0 : 1)} k`
  if (abs >= 100) return n.toFixed(0)
  if (abs >= 10) return n.toFixed(1)
  return n.toFixed(2)
}

export function fmtMs(ms: number): string {
  if (!Number.isFinite(ms)) return '–'
  if (ms >= 10_000) return `${(ms / 1000).toFixed(1)} s`
  if (ms >= 1000) return `${(ms / 1000).toFixed(2)} s`
  if (ms >= 100) return `${ms.toFixed(0)} ms`
  if (ms >= 10) return `${ms.toFixed(1)} ms`
  return `${ms.toFixed(2)} ms`
}

export function fmtBytes(b: number | null | undefined): string {
  if (b === null || b === undefined || !Number.isFinite(b) || b <= 0) return '–'
  if (b >= 1024 ** 3) return `${(b / 1024 ** 3).toFixed(2)} GiB`
  return `${(b / 1024 ** 2).toFixed(0)} MiB`
}

export function fmtSeconds(s: number): string {
  if (s >= 120) return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`
  return `${s.toFixed(s >= 10 ? 0 : 1)} s`
}
