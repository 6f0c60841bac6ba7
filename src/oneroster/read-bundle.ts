/**
 * A OneRoster 1.1/1.2 CSV bundle (folder or .zip) as the change events of one
 * sync: SyncStarted (modes from the manifest), one RecordChanged or
 * RecordUnreadable per row in dependency order, then SyncEnded; or SyncFailed
 * when the bundle cannot be read as a whole. Problems of the input never throw:
 * they become events the fold records. Only a misuse of this function throws.
 *
 * Every id and instant comes from the options and the input, so reading the same
 * bundle twice gives the same events.
 */
import { basename, resolve } from 'node:path'
import type { ChangeEvent } from '../events/change-event.js'
import { INSTANT_FORM, parseInstant } from '../events/instant.js'
import { SynclogError } from '../errors.js'
import { DEFAULT_LIMITS, type InputLimits } from '../config/limits.js'
import { BundleFileReader, type SyncMeta } from './bundle-file-reader.js'
import { openBundleSource, type BundleSource } from './bundle-source.js'
import { planBundle } from './bundle-plan.js'
import { ProgressMeter } from './progress-meter.js'
import { UserRoles } from './user-roles.js'

export { bundleFingerprint } from './fingerprint.js'

export interface BundleOptions {
  path: string // a folder or a .zip file
  tenant: string
  syncId: string
  app?: string // default 'oneroster-csv'
  occurredAt: string // ISO instant; used as occurredAt of every event of this sync (deterministic) but its last
  /**
   * The instant of the last event (SyncEnded, or SyncFailed), asked for once the bundle has
   * been read: when processing finished. Default: occurredAt.
   */
  endedAt?: () => Promise<string>
  onProgress?: (p: { file: string; rows: number; bytes: number; totalBytes: number }) => void
  /** Things worth telling the operator that do not change the events (a file marked absent but present, a version variant...). */
  onIssue?: (issue: BundleIssue) => void
  /** How much input is accepted (zip sizes, columns, line and value lengths); DEFAULT_LIMITS when absent. */
  limits?: InputLimits
  /** Compute the sync without applying it: it ends in Preview, for a reviewer to apply or discard. */
  preview?: boolean
}

export interface BundleIssue {
  file: string
  line: number | null
  field: string
  message: string
}

export const DEFAULT_APP = 'oneroster-csv'

type EventMeta = Pick<ChangeEvent, 'eventId'> & SyncMeta

function checkOptions(opts: BundleOptions): void {
  const usage = (message: string): SynclogError => new SynclogError('USAGE', `readOneRosterBundle: ${message}`)
  if (opts.path === '') throw usage('path is empty')
  if (opts.tenant === '') throw usage('tenant is empty')
  if (opts.syncId === '') throw usage('syncId is empty')
  if (opts.app === '') throw usage('app is empty')
  if (parseInstant(opts.occurredAt) === null) {
    throw usage(`occurredAt '${opts.occurredAt}' is not ${INSTANT_FORM}`)
  }
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e)
}

/** Yields SyncStarted, then RecordChanged / RecordUnreadable events, then SyncEnded — or SyncFailed (after SyncStarted) when the sync cannot complete. */
export async function* readOneRosterBundle(opts: BundleOptions): AsyncGenerator<ChangeEvent> {
  checkOptions(opts)
  const { path, tenant, syncId, occurredAt } = opts
  const app = opts.app ?? DEFAULT_APP
  const sync: SyncMeta = { tenant, syncId, app, occurredAt }
  const meta = (eventId: string): EventMeta => ({ eventId, tenant, syncId, app, occurredAt })
  // Only a preview says so: the events of an ordinary import stay as they always were.
  const previewed = opts.preview === true ? { preview: true } : {}
  const ended = async (eventId: string): Promise<EventMeta> => {
    const at = (await opts.endedAt?.()) ?? occurredAt
    if (parseInstant(at) === null) throw new SynclogError('USAGE', `readOneRosterBundle: endedAt '${at}' is not ${INSTANT_FORM}`)
    return { ...meta(eventId), occurredAt: at }
  }
  const note = (issue: BundleIssue): void => opts.onIssue?.(issue)

  let source: BundleSource | null = null
  let started = false
  let failure: string | null = null
  try {
    const limits = opts.limits ?? DEFAULT_LIMITS
    source = await openBundleSource(path, limits)
    const plan = await planBundle(source, note, limits)
    started = true
    yield { type: 'SyncStarted', ...meta(`${syncId}:start`), modes: plan.modes, ...previewed }

    const progress = new ProgressMeter(plan.totalBytes, opts.onProgress)
    const reader = new BundleFileReader(source, sync, progress, note, limits)
    let roles: UserRoles | null = null
    for (const planned of plan.files) {
      if (planned.spec.entity === 'user' && plan.rolesFile !== null) {
        roles = new UserRoles()
        for await (const batch of reader.roles(plan.rolesFile, roles)) for (const event of batch) yield event
      }
      // A plain loop rather than `yield*`, which would also wrap the batch in an async iterator of its own.
      for await (const batch of reader.records(planned, { roles })) for (const event of batch) yield event
      if (planned.spec.entity === 'user') roles = null
    }
  } catch (e) {
    // The reason is kept with the sync, which API tokens read: it names the bundle, not where it lies on this machine.
    const full = e instanceof SynclogError ? e.message : `cannot read the bundle ${path}: ${messageOf(e)}`
    failure = [resolve(path), path].filter((p) => basename(p) !== '').reduce((text, p) => text.split(p).join(basename(p)), full)
  } finally {
    await source?.close()
  }
  if (failure === null) {
    yield { type: 'SyncEnded', ...(await ended(`${syncId}:end`)) }
    return
  }
  // Nothing was planned: the sync covers no entity type, and fails.
  if (!started) yield { type: 'SyncStarted', ...meta(`${syncId}:start`), modes: {}, ...previewed }
  yield { type: 'SyncFailed', ...(await ended(`${syncId}:failed`)), reason: failure }
}
