/**
 * npx tsx scripts/bench/profile-summary.ts FILE.cpuprofile|DIR [--top N] [--during FUNCTION]
 *
 * Where a measurement's CPU went, from a V8 profile written by `npm run bench -- --cpu-prof`:
 * self time by module (synclog's folders, each package, node internals, GC) and by function.
 * Given a directory (one measurement's profiles), it reads the main thread's profile (thread
 * id 0 in the file name; tsx's module loader runs on thread 1).
 */
import { readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { mainThreadProfile, summarize, type Profile } from './cpu-profile.js'

function main(): void {
  const { values, positionals } = parseArgs({
    options: { top: { type: 'string', default: '25' }, during: { type: 'string' } },
    allowPositionals: true,
  })
  const file = positionals[0]
  if (file === undefined) {
    process.stderr.write('usage: npx tsx scripts/bench/profile-summary.ts FILE.cpuprofile|DIR [--top N] [--during FUNCTION]\n')
    process.exit(1)
  }
  const top = Number(values.top)
  const path = statSync(file).isDirectory() ? join(file, mainThreadProfile(file)) : file
  const { total, byModule, byFunction } = summarize(JSON.parse(readFileSync(path, 'utf8')) as Profile, values.during)
  const pct = (us: number): string => `${((100 * us) / total).toFixed(1).padStart(5)} %`
  const ms = (us: number): string => `${(us / 1000).toFixed(0).padStart(7)} ms`
  const lines = [`${path}: ${(total / 1e6).toFixed(2)} s of samples`, '', 'self time by module:']
  for (const [m, us] of byModule.slice(0, top)) lines.push(`  ${pct(us)} ${ms(us)}  ${m}`)
  lines.push('', 'self time by function:')
  for (const [f, us] of byFunction.slice(0, top)) lines.push(`  ${pct(us)} ${ms(us)}  ${f}`)
  process.stdout.write(`${lines.join('\n')}\n`)
}

main()
