/**
 * Files written whole or not at all (state snapshots, the import journal, the service's
 * endpoint file, API tokens, export checkpoints), and the lock that keeps two token
 * commands from losing each other's change. Real files.
 */
import { lstat, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ApiTokens } from '../../src/http/api-tokens.js'
import { replaceFile } from '../../src/paths/replace-file.js'

let dir = ''
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'synclog-replace-'))
})
afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('replaceFile', () => {
  it('replaces a file by renaming a complete new one over it, leaving no temp file behind', async () => {
    const path = join(dir, 'state.json')
    await writeFile(path, 'old')
    const before = await stat(path)
    await replaceFile(path, 'new')
    expect(await readFile(path, 'utf8')).toBe('new')
    expect((await stat(path)).ino).not.toBe(before.ino)
    expect(await readdir(dir)).toEqual(['state.json'])
  })

  it('writes a secret owner-only', async () => {
    const path = join(dir, 'secret.json')
    await replaceFile(path, 'secret', { mode: 0o600 })
    expect((await stat(path)).mode & 0o777).toBe(0o600)
  })

  it('refuses to write through a symbolic link planted in its place, and leaves its target alone', async () => {
    const target = join(dir, 'elsewhere')
    await writeFile(target, 'untouched')
    const path = join(dir, 'synclog.endpoint')
    await symlink(target, path)
    await expect(replaceFile(path, 'x')).rejects.toMatchObject({
      code: 'PATH_UNUSABLE',
      message: expect.stringContaining('only replaces regular files'),
    })
    expect(await readFile(target, 'utf8')).toBe('untouched')
    expect((await lstat(path)).isSymbolicLink()).toBe(true)
  })
})

describe('the API token file', () => {
  it('keeps every token when token commands change it at the same time', async () => {
    const tokens = new ApiTokens(join(dir, 'api-tokens.json'))
    const names = Array.from({ length: 8 }, (_, i) => `reader-${i}`)
    await Promise.all(names.map((name) => tokens.create(name, { tenant: 'district-a' })))
    expect((await tokens.list()).map((t) => t.name).sort()).toEqual(names)
    expect(await readdir(dir)).toEqual(['api-tokens.json'])
  })
})
