/**
 * Which reverse proxies the server believes: Fastify's `trustProxy`, as a setting.
 * Off by default, so a client cannot claim HTTPS or another address with an
 * `X-Forwarded-*` header. On, it names the proxies (addresses, CIDR ranges or
 * proxy-addr's `loopback`, `linklocal`, `uniquelocal`); only a request whose
 * peer is one of them has its forwarded headers read (the session cookie is then
 * `Secure` behind a TLS proxy). A hop count is refused: it trusts whatever peer
 * connects, so a client reaching the server directly could spoof the headers
 * (Fastify itself treats one as trusting nothing).
 */
import { isIP } from 'node:net'

/** false, or the trusted proxies' addresses and ranges. */
export type TrustProxy = false | readonly string[]

const NAMED_RANGES = ['loopback', 'linklocal', 'uniquelocal']

/** An address, a CIDR range (`10.0.0.0/8`, `fd00::/8`) or a named range. */
export function isProxyAddress(entry: string): boolean {
  if (NAMED_RANGES.includes(entry)) return true
  const slash = entry.indexOf('/')
  if (slash === -1) return isIP(entry) !== 0
  const version = isIP(entry.slice(0, slash))
  const bits = entry.slice(slash + 1)
  if (version === 0 || !/^\d{1,3}$/.test(bits)) return false
  return Number(bits) <= (version === 4 ? 32 : 128)
}

/**
 * The setting from a config file, the environment or a flag: `false` (or empty)
 * or a comma-separated list / JSON array of proxies. Throws a message naming what
 * is wrong; `true` and hop counts are refused, as they trust every peer.
 */
export function parseTrustProxy(value: unknown): TrustProxy {
  if (value === undefined || value === null || value === false || value === '' || value === 'false' || value === 0 || value === '0')
    return false
  if (value === true || value === 'true') {
    throw new Error(
      "true would believe every client's X-Forwarded-* headers; give the proxy's address (127.0.0.1 for a proxy on the same machine)",
    )
  }
  if (typeof value === 'number' || (typeof value === 'string' && /^\d+$/.test(value.trim()))) {
    throw new Error(
      `a hop count (${String(value)}) cannot tell a proxy from a client; give the proxy's address (127.0.0.1 for a proxy on the same machine) or CIDR range`,
    )
  }
  const entries =
    typeof value === 'string'
      ? value
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s !== '')
      : Array.isArray(value) && value.every((v) => typeof v === 'string')
        ? (value as string[]).map((s) => s.trim())
        : null
  if (entries === null || entries.length === 0)
    throw new Error(`expected false or a list of proxy addresses (got ${JSON.stringify(value)})`)
  const bad = entries.filter((e) => !isProxyAddress(e))
  if (bad.length > 0) {
    throw new Error(
      `${bad.map((b) => JSON.stringify(b)).join(', ')} ${bad.length === 1 ? 'is' : 'are'} not an IP address, a CIDR range (10.0.0.0/8) or one of ${NAMED_RANGES.join(', ')}`,
    )
  }
  return entries
}

/** The setting in words, for the start line of the server log. */
export function describeTrustProxy(trust: TrustProxy): string {
  if (trust === false) return 'no proxy trusted (X-Forwarded-* ignored)'
  return `proxies trusted: ${trust.join(', ')}`
}
