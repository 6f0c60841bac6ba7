/**
 * Memory and CPU of processes, read from the kernel: RSS is sampled from
 * /proc/<pid>/status (so a child busy in a synchronous loop is still sampled),
 * and the kernel's own high-water mark (VmHWM / ru_maxrss) backs the samples up.
 */
import { readFileSync } from 'node:fs'

function statusField(pid: number, field: string): number | null {
  try {
    const text = readFileSync(`/proc/${pid}/status`, 'utf8')
    const m = new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, 'm').exec(text)
    return m ? Number(m[1]) * 1024 : null
  } catch {
    return null
  }
}

/** Current RSS of a process in bytes, or null once it is gone. */
export function rssOf(pid: number): number | null {
  return statusField(pid, 'VmRSS')
}

/** The process's peak RSS so far (VmHWM) in bytes, or null once it is gone. */
export function peakRssOf(pid: number): number | null {
  return statusField(pid, 'VmHWM')
}

/** Samples a process's RSS every `intervalMs` until stopped; `peak` is the highest value seen (sample or VmHWM). */
export class RssSampler {
  peak = 0
  samples = 0
  private readonly timer: NodeJS.Timeout

  constructor(
    private readonly pid: number,
    intervalMs = 100,
  ) {
    this.sample()
    this.timer = setInterval(() => this.sample(), intervalMs)
    this.timer.unref()
  }

  sample(): void {
    const rss = rssOf(this.pid)
    const hwm = peakRssOf(this.pid)
    if (rss !== null) this.samples++
    this.peak = Math.max(this.peak, rss ?? 0, hwm ?? 0)
  }

  stop(): number {
    this.sample()
    clearInterval(this.timer)
    return this.peak
  }
}

/** CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat; null once it is gone. */
export function cpuSecondsOf(pid: number): number | null {
  try {
    // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th, in clock ticks.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS
  } catch {
    return null
  }
}

/** Linux's USER_HZ: the unit of the CPU times in /proc (100 on every common build). */
const CLOCK_TICKS = 100

/** This process's peak RSS (ru_maxrss) in bytes. */
export function ownPeakRss(): number {
  return process.resourceUsage().maxRSS * 1024
}

/** CPU seconds (user + system) this process has used since `since` (a process.cpuUsage() value). */
export function cpuSecondsSince(since: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(since)
  return (d.user + d.system) / 1e6
}

/** A timed region: wall seconds and CPU seconds of this process. */
export class Stopwatch {
  private wall = 0
  private cpu = 0
  private startedAt: number | null = null
  private cpuAt: NodeJS.CpuUsage | null = null

  start(): this {
    this.startedAt = performance.now()
    this.cpuAt = process.cpuUsage()
    return this
  }

  stop(): this {
    if (this.startedAt === null || this.cpuAt === null) throw new Error('Stopwatch.stop() without start()')
    this.wall += (performance.now() - this.startedAt) / 1000
    this.cpu += cpuSecondsSince(this.cpuAt)
    this.startedAt = null
    this.cpuAt = null
    return this
  }

  /** Times `fn` into this stopwatch (accumulates). */
  async time<T>(fn: () => Promise<T>): Promise<T> {
    this.start()
    try {
      return await fn()
    } finally {
      this.stop()
    }
  }

  get seconds(): number {
    return this.wall
  }

  get cpuSeconds(): number {
    return this.cpu
  }
}
