/**
 * What a token may read of the text the server wrote. Sync messages are written
 * for the operator at the console (a failure names the bundle's path, a hold counts
 * the district's records, a decision names who took it); through the API they name
 * no server path and no OS user, and a school token's name nothing beyond its
 * school: it reads what happened, not the district's numbers.
 */
import { homedir, userInfo } from 'node:os'
import type { Scope, SyncHeader } from '../clickhouse/types.js'
import type { SyncStatus } from '../events/sync-log-event.js'
import type { ReadStore } from './read-store.js'

/** What of the machine the server runs on must not reach a token. */
export interface ServerIdentity {
  /** Directories whose names are never shown (the data directory, the home directory). */
  readonly directories: readonly string[]
  /** The OS user the server runs as. */
  readonly userName: string
}

export function serverIdentity(dataDir?: string): ServerIdentity {
  let userName = ''
  try {
    userName = userInfo().username
  } catch {
    // No passwd entry (a container's arbitrary uid): there is no name to hide.
  }
  return { directories: [dataDir, homedir()].filter((d): d is string => d !== undefined && d.length > 1), userName }
}

const SERVER_PATH = 'a server path'
/** A POSIX absolute path (or `~/…`) not inside a word or URL, and a Windows one. */
const POSIX_PATH = /(?<![\w.:~/\\-])~?(?:\/[^\s/'"`:;,()<>[\]{}|]+)+\/?/g
const WINDOWS_PATH = /(?<![\w])[A-Za-z]:\\(?:[^\s\\'"`:;,()<>|]+\\?)*/g

function lastSegment(path: string): string {
  const parts = path.split(/[\\/]/).filter((p) => p !== '' && p !== '~')
  return parts[parts.length - 1] ?? ''
}

/** `text` with the server's directories (and anything under them) named only as "a server path". */
export function withoutServerDirectories(text: string, identity: ServerIdentity): string {
  let out = text
  for (const dir of [...identity.directories].sort((a, b) => b.length - a.length)) out = out.split(dir).join(SERVER_PATH)
  return out
}

/**
 * `text` with every absolute path cut to its last segment (a bundle's file name),
 * and a path to a server directory or ending in the user's name replaced whole.
 * For text the server wrote (a quoted URL path would be cut too).
 */
export function withoutServerPaths(text: string, identity: ServerIdentity): string {
  const cut = (path: string): string => {
    const last = lastSegment(path)
    const isDirectory = identity.directories.some((d) => path.replace(/[\\/]+$/, '') === d)
    return last === '' || last === identity.userName || isDirectory ? SERVER_PATH : last
  }
  return withoutServerDirectories(text.replace(POSIX_PATH, cut).replace(WINDOWS_PATH, cut), identity)
}

const DECISION = /^(approved|rejected|preview applied|preview discarded) by (.*)$/s

/** A sync's message as the API shows it to a token with this scope. */
export function publicSyncMessage(
  run: { readonly status: SyncStatus; readonly message: string },
  scope: Scope,
  identity: ServerIdentity,
): string {
  if (run.message === '') return ''
  if (scope.school !== undefined) return schoolMessage(run.status)
  const decision = DECISION.exec(run.message)
  if (decision !== null && decision[2] === identity.userName) return `${decision[1]} by an operator`
  return withoutServerPaths(run.message, identity)
}

/** A school token's message: what happened, in words that hold no district numbers, paths or names. */
function schoolMessage(status: SyncStatus): string {
  switch (status) {
    case 'On Hold':
      return 'On Hold: the district-wide changes pass a hold threshold; an operator approves or rejects the sync'
    case 'Preview':
      return 'a preview of district-wide changes, not applied'
    case 'Failed':
      return "the sync failed; the district's operator sees why"
    case 'Rejected':
      return 'rejected by an operator'
    case 'Completed':
    case 'Completed with Errors':
      return 'approved by an operator'
    case 'Running':
      return ''
  }
}

/**
 * A sync as the API shows it to a token with this scope: its message (publicSyncMessage) and
 * its reviewer. A school token sees that an operator decided, not who or why (the reason
 * speaks of the district's changes); anyone sees a decision made from the server's own
 * account (the CLI's default `--by`) as made by "an operator".
 */
function publicHeader<T extends SyncHeader>(run: T, scope: Scope, identity: ServerIdentity): T {
  const message = publicSyncMessage(run, scope, identity)
  if (run.reviewedBy === '') return { ...run, message }
  if (scope.school !== undefined) return { ...run, message, reviewedBy: 'an operator', reviewReason: '' }
  const reviewedBy = run.reviewedBy === identity.userName ? 'an operator' : run.reviewedBy
  return { ...run, message, reviewedBy, reviewReason: withoutServerPaths(run.reviewReason, identity) }
}

/** The store as the API reads it: sync messages fit for the caller's scope (see publicSyncMessage). */
export function withPublicMessages(store: ReadStore, identity: ServerIdentity): ReadStore {
  return {
    ...bound(store),
    listSyncs: async (scope, filter) => (await store.listSyncs(scope, filter)).map((run) => publicHeader(run, scope, identity)),
    getSync: async (scope, syncId) => {
      const run = await store.getSync(scope, syncId)
      return run === null ? null : publicHeader(run, scope, identity)
    },
    summary: async (scope, syncId, opts) => {
      const summary = await store.summary(scope, syncId, opts)
      return summary === null ? null : publicHeader(summary, scope, identity)
    },
  }
}

/** Every method of the store, bound to it (a class instance's methods live on its prototype, which a spread would drop). */
function bound(store: ReadStore): ReadStore {
  return {
    listSyncs: store.listSyncs.bind(store),
    getSync: store.getSync.bind(store),
    summary: store.summary.bind(store),
    queryLog: store.queryLog.bind(store),
    streamLog: store.streamLog.bind(store),
    countLog: store.countLog.bind(store),
    drillDown: store.drillDown.bind(store),
    recordHistory: store.recordHistory.bind(store),
    dailyRollups: store.dailyRollups.bind(store),
    reportRows: store.reportRows.bind(store),
    rosterAt: store.rosterAt.bind(store),
    listSchools: store.listSchools.bind(store),
    compareSyncs: store.compareSyncs.bind(store),
    causeGroups: store.causeGroups.bind(store),
  }
}
