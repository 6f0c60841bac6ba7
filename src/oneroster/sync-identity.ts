/**
 * How a OneRoster bundle becomes a sync's identity, for `import` and `publish` alike:
 * `<tenant>.<YYYYMMDDTHHmmssZ>.<first 8 hex of the bundle's fingerprint>`.
 */
import { createHash } from 'node:crypto'
import { bundleFingerprint } from './read-bundle.js'
import type { BundleLimits } from './bundle-limits.js'

export function syncIdFor(tenant: string, fingerprint: string, now: Date): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z')
  return `${tenant}.${stamp}.${fingerprint.slice(0, 8)}`
}

/**
 * The bundle's content fingerprint; for an unreadable path a one-off value
 * (the reader turns such input into a Failed sync, which only needs an id).
 */
export async function inputFingerprint(path: string, now: Date, limits?: BundleLimits): Promise<string> {
  try {
    return await bundleFingerprint(path, limits)
  } catch {
    return createHash('sha256').update(`unreadable:${path}:${now.toISOString()}`).digest('hex')
  }
}
