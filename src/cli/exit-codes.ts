import type { SyncStatus } from '../events/sync-log-event.js'

/** Exit codes: 0 done (Completed, Completed with Errors), 1 usage or environment error, 2 a sync Failed, 3 a sync is On Hold. */
export const EXIT = { ok: 0, error: 1, failed: 2, onHold: 3 } as const

export function exitCodeFor(statuses: Iterable<SyncStatus>): number {
  let code: number = EXIT.ok
  for (const s of statuses) {
    if (s === 'Failed') return EXIT.failed
    if (s === 'On Hold') code = EXIT.onHold
  }
  return code
}
