/**
 * Where a running `synclog serve` answers the CLI: a Unix socket in its data directory, or,
 * when the directory's path is too long for one, a loopback address named in an owner-only
 * file there (endpoint-file.ts).
 */
import { join } from 'node:path'

/** Longest path a Unix socket may have (sun_path holds 108 bytes with the final NUL). */
export const SOCKET_PATH_MAX = 107

export function serviceSocketPath(dataDir: string): string {
  return join(dataDir, 'synclog.sock')
}

export function serviceEndpointFilePath(dataDir: string): string {
  return join(dataDir, 'synclog.endpoint')
}

/** Whether a socket can be made (and reached) at this path. */
export function socketPathFits(path: string): boolean {
  return Buffer.byteLength(path) <= SOCKET_PATH_MAX
}
