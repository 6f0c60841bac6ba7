/** Where a running `synclog serve` answers the CLI: a Unix socket in its data directory. */
import { join } from 'node:path'

/** Longest path a Unix socket may have (sun_path holds 108 bytes with the final NUL). */
export const SOCKET_PATH_MAX = 107

export function serviceSocketPath(dataDir: string): string {
  return join(dataDir, 'synclog.sock')
}
