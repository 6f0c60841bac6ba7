/**
 * Times as people read them: each tenant (a district) has a time zone, and every
 * place that shows a time to a person (the CLI's tables, the web page, Excel)
 * shows it as `YYYY-MM-DD HH:mm`, 24-hour, in the zone of the tenant the time
 * belongs to. Machine formats (JSON, CSV, the API) keep ISO instants in UTC.
 *
 * No zone abbreviation follows the time: abbreviations are ambiguous (CST is
 * Central, China and Cuba Standard Time) and would make the shown text harder to
 * search; the zone is named once beside the times instead (a table's note, a
 * column header, a tooltip). In the hour a fall-back repeats, two times read the
 * same; their order in the list tells them apart.
 *
 * Only Intl: the web page bundles this module too.
 */
import { dictOf, ownValue } from '../dict.js'

const formatters = new Map<string, Intl.DateTimeFormat>()

function formatterOf(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone)
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    })
    formatters.set(zone, f)
  }
  return f
}

/**
 * An IANA time zone name spelled as the time zone database spells it (`america/chicago` →
 * `America/Chicago`), or null when Intl does not know it. A link keeps the name given
 * (`Asia/Kolkata`, which Intl would answer with the older `Asia/Calcutta`).
 */
export function canonicalTimeZone(name: string): string | null {
  if (name.trim() === '') return null
  try {
    const resolved = new Intl.DateTimeFormat('en-US', { timeZone: name }).resolvedOptions().timeZone
    return resolved.toLowerCase() === name.toLowerCase() ? resolved : name
  } catch {
    return null
  }
}

/** The zone of the machine this runs on (Node honours the TZ environment variable). */
export function systemTimeZone(): string {
  return new Intl.DateTimeFormat().resolvedOptions().timeZone
}

/** An ISO instant as `YYYY-MM-DD HH:mm` in `zone`; '' stays '', text that is not an instant is shown as it is. */
export function localTime(iso: string, zone: string): string {
  if (iso === '') return ''
  const ms = Date.parse(iso)
  if (Number.isNaN(ms)) return iso
  const part = new Map(
    formatterOf(zone)
      .formatToParts(ms)
      .map((p) => [p.type, p.value]),
  )
  return `${part.get('year')}-${part.get('month')}-${part.get('day')} ${part.get('hour')}:${part.get('minute')}`
}

/**
 * The instant moved by `zone`'s offset at that instant: a Date whose UTC fields read as the
 * local wall-clock time, for a spreadsheet cell (Excel has no zones and shows a date's UTC fields).
 */
export function wallClock(iso: string, zone: string): Date | null {
  const ms = Date.parse(iso)
  if (Number.isNaN(ms)) return null
  const [date = '', time = ''] = localTime(iso, zone).split(' ')
  const [y, mo, d] = date.split('-').map(Number)
  const [h, mi] = time.split(':').map(Number)
  const minute = Math.floor(ms / 60_000) * 60_000
  return new Date(ms + Date.UTC(y ?? 0, (mo ?? 1) - 1, d ?? 1, h ?? 0, mi ?? 0) - minute)
}

/** The tenants' zones as JSON carries them (`GET /api/v1/me`): the default, and the tenants configured otherwise. */
export interface TimeZonesJson {
  /** The zone of every tenant not listed. */
  default: string
  tenants: Record<string, string>
}

/** Which time zone each tenant's times are shown in. */
export class TimeZones {
  private readonly byTenant: ReadonlyMap<string, string>

  /** `fallback` for every tenant not in `byTenant`; names are checked by the config (canonicalTimeZone). */
  constructor(
    readonly fallback: string,
    byTenant: Iterable<readonly [string, string]> = [],
  ) {
    this.byTenant = new Map(byTenant)
  }

  static fromJson(json: TimeZonesJson): TimeZones {
    return new TimeZones(
      json.default,
      Object.keys(json.tenants).map((t) => [t, ownValue(json.tenants, t) ?? json.default] as const),
    )
  }

  zoneOf(tenant: string): string {
    return this.byTenant.get(tenant) ?? this.fallback
  }

  /** The tenants whose zone is not the fallback, with their zone. */
  configured(): [string, string][] {
    return [...this.byTenant].filter(([, zone]) => zone !== this.fallback)
  }

  /** An instant of `tenant` as its people read it. */
  show(iso: string, tenant: string): string {
    return localTime(iso, this.zoneOf(tenant))
  }

  /** What a caller limited to `tenant` (absent: every tenant) needs to show its times. */
  toJson(tenant?: string): TimeZonesJson {
    const tenants = tenant === undefined ? this.configured() : this.configured().filter(([t]) => t === tenant)
    return { default: this.fallback, tenants: dictOf(tenants) }
  }

  /** One line naming the zone the times of these tenants are shown in (tenants in name order): for a table of times. */
  note(tenants: Iterable<string>): string {
    const zones = new Map<string, string[]>()
    for (const tenant of [...new Set(tenants)].sort()) {
      const zone = this.zoneOf(tenant)
      zones.set(zone, [...(zones.get(zone) ?? []), tenant])
    }
    if (zones.size <= 1) return `Times in ${[...zones.keys()][0] ?? this.fallback}.`
    return `Times in each tenant's zone: ${[...zones].map(([zone, ts]) => `${ts.join(', ')} in ${zone}`).join('; ')}.`
  }
}
