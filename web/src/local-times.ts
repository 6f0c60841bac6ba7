/**
 * Times on the page: each tenant's in its own time zone, as the server names them
 * when the reader signs in (GET /api/v1/me), in the one form synclog shows times
 * in (`YYYY-MM-DD HH:mm`, src/export/local-time.ts), so the Date search matches
 * what the reader sees. The zone and the ISO instant are in the element's tooltip.
 */
import { TimeZones, type TimeZonesJson } from '../../src/export/local-time.js'

let zones = new TimeZones('UTC')

/** The zones of the tenants the signed-in token may see. */
export function useTimeZones(json: TimeZonesJson): void {
  zones = TimeZones.fromJson(json)
}

/** An ISO instant of `tenant` as the page shows it ('' stays ''). */
export function shownTime(iso: string, tenant: string): string {
  return zones.show(iso, tenant)
}

/** The zone `tenant`'s times are shown in. */
export function zoneOf(tenant: string): string {
  return zones.zoneOf(tenant)
}
