/** Facts about the machine and the code a run measured, for the report. */
import { execFileSync } from 'node:child_process'
import { cpus, loadavg, release, totalmem, type as osType, availableParallelism } from 'node:os'
import { fmtBytes } from './stats.js'
import { packageVersion } from './packages.js'

function git(args: readonly string[]): string | null {
  try {
    return execFileSync('git', [...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
  } catch {
    return null
  }
}

export function loadAverage(): string {
  return loadavg()
    .map((n) => n.toFixed(2))
    .join(' / ')
}

export function machineFacts(): Record<string, string> {
  const cpu = cpus()
  const commit = git(['rev-parse', '--short=12', 'HEAD'])
  const dirty = git(['status', '--porcelain'])
  return {
    CPU: `${cpu[0]?.model.trim() ?? '?'} (${cpu.length} logical cores, ${availableParallelism()} available to Node)`,
    RAM: fmtBytes(totalmem()),
    OS: `${osType()} ${release()}`,
    Node: process.version,
    packages: ['@clickhouse/client', 'chdb', 'kafkajs', 'exceljs', 'csv-parse', 'csv-stringify', 'zod', 'avsc']
      .map((p) => `${p} ${packageVersion(p)}`)
      .join(', '),
    code: commit === null ? 'not a git checkout' : `${commit}${dirty ? ' with uncommitted changes' : ''}`,
  }
}

/** 1-minute load average per core: above ~0.5 the machine was busy with something else. */
export function loadPerCore(): number {
  return (loadavg()[0] ?? 0) / Math.max(1, cpus().length)
}
