/**
 * npx tsx scripts/bench/profile-summary.ts FILE.cpuprofile|DIR [--top N]
 *
 * Where a measurement's CPU went, from a V8 profile written by `npm run bench -- --cpu-prof`:
 * self time by module (synclog's folders, each package, node internals, GC) and by function.
 * Given a directory (one measurement's profiles), it reads the main thread's profile (thread
 * id 0 in the file name; tsx's module loader runs on thread 1).
 */
import { readFileSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs } from 'node:util'

interface ProfileNode {
  readonly id: number
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number }
  readonly children?: readonly number[]
}

interface Profile {
  readonly nodes: readonly ProfileNode[]
  readonly samples: readonly number[]
  readonly timeDeltas: readonly number[]
}

/** A short name for where code lives: src/<folder>, a package, node internals, or a V8 pseudo-frame. */
export function moduleOf(url: string, functionName: string): string {
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)'
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)
  if (pkg) return pkg[1]!
  const src = /\/(src|scripts)\/([^/]+)\//.exec(url)
  if (src) return `${src[1]}/${src[2]}`
  if (url.startsWith('node:')) return 'node:internal'
  return url
    .replace(/^file:\/\//, '')
    .split('/')
    .slice(-2)
    .join('/')
}

export function summarize(profile: Profile): { total: number; byModule: [string, number][]; byFunction: [string, number][] } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const self = new Map<number, number>()
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)))
  const modules = new Map<string, number>()
  const functions = new Map<string, number>()
  let total = 0
  for (const [id, us] of self) {
    const node = byId.get(id)
    if (!node) continue
    total += us
    const { functionName, url, lineNumber } = node.callFrame
    const mod = moduleOf(url, functionName)
    modules.set(mod, (modules.get(mod) ?? 0) + us)
    const fn = `${functionName || '(anonymous)'}  ${url === '' ? '' : `${url.replace(/^.*\/(node_modules|src|scripts)\//, '$1/')}:${lineNumber + 1}`}`
    functions.set(fn, (functions.get(fn) ?? 0) + us)
  }
  const sorted = (m: Map<string, number>): [string, number][] => [...m].sort((a, b) => b[1] - a[1])
  return { total, byModule: sorted(modules), byFunction: sorted(functions) }
}

function mainThreadProfile(dir: string): string {
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'))
  const main = files.find((f) => /^CPU\.\d+\.\d+\.\d+\.0\./.test(f)) ?? files[0]
  if (main === undefined) throw new Error(`no .cpuprofile in ${dir}`)
  return main
}

function main(): void {
  const { values, positionals } = parseArgs({ options: { top: { type: 'string', default: '25' } }, allowPositionals: true })
  const file = positionals[0]
  if (file === undefined) {
    process.stderr.write('usage: npx tsx scripts/bench/profile-summary.ts FILE.cpuprofile|DIR [--top N]\n')
    process.exit(1)
  }
  const top = Number(values.top)
  const path = statSync(file).isDirectory() ? join(file, mainThreadProfile(file)) : file
  const { total, byModule, byFunction } = summarize(JSON.parse(readFileSync(path, 'utf8')) as Profile)
  const pct = (us: number): string => `${((100 * us) / total).toFixed(1).padStart(5)} %`
  const ms = (us: number): string => `${(us / 1000).toFixed(0).padStart(7)} ms`
  const lines = [`${path}: ${(total / 1e6).toFixed(2)} s of samples`, '', 'self time by module:']
  for (const [m, us] of byModule.slice(0, top)) lines.push(`  ${pct(us)} ${ms(us)}  ${m}`)
  lines.push('', 'self time by function:')
  for (const [f, us] of byFunction.slice(0, top)) lines.push(`  ${pct(us)} ${ms(us)}  ${f}`)
  process.stdout.write(`${lines.join('\n')}\n`)
}

main()
