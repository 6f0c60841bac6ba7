/**
 * Where the remaining time goes, for each speed target a run misses: after every
 * measurement, the stage's figure runs once more under V8's CPU profiler (which slows
 * JavaScript, so these runs give shares of time, never figures); the busy samples of the
 * measured process's main thread are summed by module and by function and printed next
 * to what would close the gap.
 */
import { mkdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { mainThreadProfile, summarize, type Profile } from './cpu-profile.js'
import { runChild } from './run-child.js'
import type { ChildSpec, ResultRow, StageName } from './types.js'

/** How a stage's figure is profiled, and what the profile says would close its gap. */
interface Profiled {
  /** The child that runs the figure ('both' when one child measures figure and baseline). */
  readonly variant: 'figure' | 'both'
  /** Where the measured process writes its profile, under the run's profile directory. */
  readonly profileDir: string
  /** Count only the window this function ran in (the timed part of a child that also reads its input). */
  readonly during?: string
  /** What closing the gap takes, read from the profile and the code (kept in step with docs/benchmarks.md). */
  readonly closing: string
}

const PROFILED: Partial<Record<StageName, Profiled>> = {
  fold: {
    variant: 'figure',
    profileDir: '.',
    during: 'synclogFold',
    closing:
      'The minimal fold keeps each record as it arrived and writes one small action per change: one map write per event. ' +
      'synclog also validates every field, checks duplicates, resolves references at the end of the sync, counts each record ' +
      'under its school, writes a 29-column row naming the student, section and schools, and copies what it commits into ' +
      "compact records and their indexes. Sampled by thread with perf (the small nights, once), a third of the main thread's " +
      "time is hash-map work (about forty map operations per record: the sync's event ids and candidates, the overlay and its " +
      'indexes, the row facts, the committed tables and their indexes), most of it cache misses in maps of tens of thousands ' +
      'of entries; much of the rest is the objects a record needs on its way (validated record, candidate, row, committed ' +
      'copy), which survive until the sync ends and are copied by the young-generation collector. As much CPU again goes to ' +
      "V8's optimizing compiler on its helper threads (about 200 compilations, 1.3 s of compile time, during a fold of " +
      'about a second, as its functions meet new object shapes and are compiled again), which on two cores competes with ' +
      "the collector for the second core. What would close it: fewer maps per record (one per-sync table holding a record's candidate, outcome and " +
      'row facts together, its references resolved to their entries once); committing the record the sync built instead of ' +
      'copying it (the copy is about 14% of the fold, measured by leaving it out).',
  },
  import: {
    variant: 'figure',
    profileDir: '.',
    during: 'runImport',
    closing:
      "The import is synclog's reader plus the fold over every row of every night; nights 2 and 3 are full exports, mostly " +
      'unchanged. An unchanged row is recognised before validation (one lookup, one comparison), yet in the fold it still ' +
      'costs more than half of what a new row does: its event id and a candidate are kept until the end of the sync (the ' +
      "event id alone is looked up and added in a set of the whole night's ids, the lookup a cache miss), where its " +
      "references are checked against the state (a committed record's parent may be gone: a user's org deleted by an " +
      'earlier sync) and it is counted under its school. What would close it: an unchanged row kept as its id alone (its ' +
      'record is the committed one), and the fold gap above.',
  },
  processor: {
    variant: 'both',
    profileDir: 'stream-processor-child',
    closing:
      'The processor no longer waits on the broker with nothing to do: the input position goes out first, each run of ' +
      'sync-log events is encoded while the send before it is at the broker, and up to four partitions are folded at once, ' +
      "so one tenant's fold runs during another's transaction. " +
      'Beyond the fold (src/processor: the fold gap above), the busy time is kafkajs building record batches and copying ' +
      'buffers (node:internal and kafkajs: each message gets a zero-filled 512-byte buffer of its own, grown and copied when ' +
      'the message is larger, then copied into its batch, the batch into the request, the request into the socket) and Avro ' +
      "encoding and decoding. synclog's own part of the Avro work is small: events are read by a reader generated per record " +
      'from the schema, and sync-log events and changelog entries are written by a writer compiled from the schema, ' +
      'straight into shared slabs that frame them, without copying the event. The processor ' +
      "produces about twice the raw loop's bytes per input event (the bytes row above), and kafkajs's per-message cost " +
      'grows past 512 bytes. What would close it: smaller sync-log events (every message repeats its ' +
      "row's tenant, sync, app, district and school names: ids in their place, a change of the sync-log contract; " +
      'gzip-compressed batches, of every topic or of the changelog alone, were tried and left the rate as it was), and ' +
      'the fold gap above.',
  },
  stream: {
    variant: 'both',
    profileDir: 'stream-services-child',
    closing:
      'End to end is the processor above plus the projector, which decodes every sync-log event and inserts it into ' +
      'ClickHouse (sync_log with its skip indexes, and the copy sorted by student), in one process on the two cores the ' +
      'broker and chDB also use. In one profiled run the main thread was 90 % busy while a night went through: kafkajs ' +
      'encoding produce requests about 14 %, garbage collection 14 %, the fold 20 %, Avro encoding 8 % and decoding 8 %, ' +
      'the projector 6 % (its rows now go to ClickHouse as JSON arrays, JSONCompactEachRow, which halved its write time). ' +
      'Its socket writes (`writeBuffer`) vary between runs from 2 % to 13 % of the busy time: the main thread waiting for a ' +
      'core while in the write. Splitting the services into two processes (the two-process row) gives the projector a ' +
      "thread of its own, but a sync's rows reach the projector only once its SyncEnded is folded, so over the few large " +
      'syncs of a night the two mostly take turns. What would close it: the processor gap above, the processor on a ' +
      'thread of its own in the one-process service, and fewer bytes through the broker (smaller sync-log events).',
  },
}

export interface GapProfile {
  readonly what: string
  readonly stage: StageName
  /** Busy seconds of the profiled main thread (idle samples left out). */
  readonly busySeconds: number
  readonly byModule: readonly [string, number][]
  readonly byFunction: readonly [string, number][]
  readonly during?: string
  readonly closing: string
}

export interface GapContext {
  readonly runDir: string
  readonly baseSpec: Omit<ChildSpec, 'stage' | 'variant' | 'workDir' | 'stageDir'>
  readonly log: (line: string) => void
}

/** Busy samples only: a stream process waiting on the broker is idle, not slow. */
function busyShares(
  profile: Profile,
  during: string | undefined,
): { busy: number; byModule: [string, number][]; byFunction: [string, number][] } {
  const { byModule, byFunction } = summarize(profile, during)
  const busyModules = byModule.filter(([m]) => m !== '(idle)')
  const busy = busyModules.reduce((n, [, us]) => n + us, 0)
  return { busy, byModule: busyModules, byFunction: byFunction.filter(([f]) => !f.startsWith('(idle)')) }
}

/** Profiles the figure of each missed target's stage (once per stage) and reads where its time went. */
export async function profileGaps(missed: readonly { what: string; row: ResultRow }[], ctx: GapContext): Promise<GapProfile[]> {
  const out: GapProfile[] = []
  const done = new Set<StageName>()
  for (const { what, row } of missed) {
    const how = PROFILED[row.stage]
    if (how === undefined || done.has(row.stage)) continue
    done.add(row.stage)
    const stageDir = join(ctx.runDir, 'gap-profiles', row.stage)
    const workDir = join(stageDir, 'work')
    const profiles = join(stageDir, 'profiles')
    await mkdir(workDir, { recursive: true })
    ctx.log(`  ${row.stage} figure under the CPU profiler (where the remaining time goes) ...`)
    try {
      await runChild(
        { ...ctx.baseSpec, stage: row.stage, variant: how.variant, workDir, stageDir, cpuProfDir: profiles },
        { logPath: join(stageDir, 'child.log'), cpuProfDir: profiles },
      )
      const dir = join(profiles, how.profileDir)
      const profile = JSON.parse(await readFile(join(dir, mainThreadProfile(dir)), 'utf8')) as Profile
      const { busy, byModule, byFunction } = busyShares(profile, how.during)
      out.push({
        what,
        stage: row.stage,
        busySeconds: busy / 1e6,
        byModule,
        byFunction,
        ...(how.during ? { during: how.during } : {}),
        closing: how.closing,
      })
    } catch (e) {
      ctx.log(`  profiling ${row.stage} failed: ${e instanceof Error ? e.message : String(e)}`)
    }
  }
  return out
}

/** A function as the table shows it: its name and file (tsx runs synclog's code transpiled, so its line numbers say nothing). */
function functionLabel(f: string): string {
  return f
    .replace(/\s+/g, ' ')
    .replace(/^(.*(?:src|scripts)\/\S+\.ts):\d+$/, '$1')
    .trim()
    .replace(/\|/g, '\\|')
}

const pct = (us: number, total: number): string => `${((100 * us) / total).toFixed(1)} %`

/** The report's section: per missed target, the top modules and functions by busy time, then what would close it. */
export function gapSection(gaps: readonly GapProfile[]): string {
  const out: string[] = []
  for (const g of gaps) {
    const total = g.busySeconds * 1e6
    out.push(
      `### ${g.what}`,
      '',
      `Profiled: the ${g.stage} figure once more under \`--cpu-prof\`, ${g.busySeconds.toFixed(2)} s busy on its main thread (idle time left out${g.during === undefined ? '' : `; only while \`${g.during}\` ran`}).`,
      '',
      '| share | module |',
      '|---|---|',
      ...g.byModule.slice(0, 8).map(([m, us]) => `| ${pct(us, total)} | \`${m}\` |`),
      '',
      '| share | function (self time) |',
      '|---|---|',
      ...g.byFunction.slice(0, 12).map(([f, us]) => `| ${pct(us, total)} | \`${functionLabel(f)}\` |`),
      '',
      `**What would close it.** ${g.closing}`,
      '',
    )
  }
  return out.join('\n')
}
