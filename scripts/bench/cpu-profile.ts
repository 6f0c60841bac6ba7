/**
 * Reading V8 CPU profiles (`--cpu-prof`): self time summed by module (synclog's folders, each
 * package, node internals, GC) and by function, and which file of a directory is the main
 * thread's (thread id 0 in its name; tsx's module loader runs on thread 1).
 */
import { readdirSync } from 'node:fs'

export interface ProfileNode {
  readonly id: number
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number }
  readonly children?: readonly number[]
}

export interface Profile {
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

/**
 * Sample indexes from the first to the last sample taken inside `fnName` (by name, anywhere
 * on the stack): the window a measured function ran in, garbage collection in it included
 * (V8 files GC samples under a root of their own, not under the function that allocated).
 */
function windowOf(
  profile: Profile,
  parentOf: ReadonlyMap<number, number>,
  byId: ReadonlyMap<number, ProfileNode>,
  fnName: string,
): [number, number] {
  const inside = new Map<number, boolean>()
  const isInside = (id: number): boolean => {
    const known = inside.get(id)
    if (known !== undefined) return known
    const node = byId.get(id)
    const parent = parentOf.get(id)
    const answer = node?.callFrame.functionName === fnName || (parent !== undefined && isInside(parent))
    inside.set(id, answer)
    return answer
  }
  let first = -1
  let last = -1
  profile.samples.forEach((id, i) => {
    if (!isInside(id)) return
    if (first < 0) first = i
    last = i
  })
  if (first < 0) throw new Error(`no sample inside ${fnName}()`)
  return [first, last]
}

/** Self time by module and by function; with `during`, only the samples of the window that function ran in. */
export function summarize(
  profile: Profile,
  during?: string,
): { total: number; byModule: [string, number][]; byFunction: [string, number][] } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const parentOf = new Map<number, number>()
  for (const n of profile.nodes) for (const c of n.children ?? []) parentOf.set(c, n.id)
  const [from, to] = during === undefined ? [0, profile.samples.length - 1] : windowOf(profile, parentOf, byId, during)
  const self = new Map<number, number>()
  for (let i = from; i <= to; i++) {
    const id = profile.samples[i]!
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0))
  }
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

export function mainThreadProfile(dir: string): string {
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'))
  const main = files.find((f) => /^CPU\.\d+\.\d+\.\d+\.0\./.test(f)) ?? files[0]
  if (main === undefined) throw new Error(`no .cpuprofile in ${dir}`)
  return main
}
