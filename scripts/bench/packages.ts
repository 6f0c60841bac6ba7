/** Installed package versions, for the report. */
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'

/** The installed version of a package (found from its entry point, so packages whose exports hide package.json work too). */
export function packageVersion(name: string): string {
  const require = createRequire(import.meta.url)
  try {
    let dir = dirname(require.resolve(name))
    for (let i = 0; i < 6; i++) {
      const candidate = join(dir, 'package.json')
      try {
        const pkg = JSON.parse(readFileSync(candidate, 'utf8')) as { name?: string; version?: string }
        if (pkg.name === name && pkg.version !== undefined) return pkg.version
      } catch {
        // not here; look further up
      }
      dir = dirname(dir)
    }
  } catch {
    // not installed
  }
  return '?'
}
