/** Terminal escaping of untrusted text, and the path checks and mkdir -p behind --data and --out. */
import { execFileSync } from 'node:child_process'
import { lstatSync } from 'node:fs'
import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { terminalJson, terminalText } from '../../src/export/terminal-text.js'
import { writeFileAtomically } from '../../src/export/atomic-file.js'
import { checkDataDir, checkOutputFile } from '../../src/paths/check-path.js'
import { makeDirectory } from '../../src/paths/make-directory.js'

const RAW = /[\p{Cc}\p{Zl}\p{Zp}\p{Cf}]/u

/** Every code point a terminal may act on or hide, alone and around text. */
function dangerous(): string[] {
  const out: string[] = []
  for (let c = 0; c <= 0x10ffff; c++) {
    if (c >= 0xd800 && c <= 0xdfff) continue
    const ch = String.fromCodePoint(c)
    if (RAW.test(ch) && ch !== '\u200c' && ch !== '\u200d') out.push(ch)
  }
  return out
}

describe('terminalText', () => {
  const chars = dangerous()

  it('shows every control, separator and invisible format character as an escape', () => {
    expect(chars.length).toBeGreaterThan(200)
    for (const ch of chars) {
      const shown = terminalText(`a${ch}b`)
      expect(shown, JSON.stringify(ch)).not.toMatch(RAW)
      expect(shown.startsWith('a\\') && shown.endsWith('b'), shown).toBe(true)
    }
  })

  it('keeps line feeds when asked, and leaves ordinary text, joiners and emoji as they are', () => {
    expect(terminalText('one\ntwo\x1b[2J', { keepNewlines: true })).toBe('one\ntwo\\x1b[2J')
    for (const text of ['Zoë Ñúñez', 'أحمد', 'मेहता', 'می‌خواهم', '👩‍👩‍👧', 'O\'Brien, "Jr."', 'C:\\path']) expect(terminalText(text)).toBe(text)
  })

  it('writes JSON that parses back to the exact value and holds no raw control', () => {
    for (const ch of chars) {
      const value = { [`k${ch}`]: `v${ch}w`, n: [ch] }
      const json = terminalJson(JSON.stringify(value, null, 2))
      expect(json, JSON.stringify(ch)).not.toMatch(/(?!\n)[\p{Cc}\p{Zl}\p{Zp}\p{Cf}]/u)
      expect(JSON.parse(json)).toEqual(value)
    }
  })
})

describe('paths', () => {
  let dir: string
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'synclog-paths-unit-'))
    await writeFile(join(dir, 'file'), 'x')
    await symlink(join(dir, 'nowhere'), join(dir, 'dangling'))
    await symlink(join(dir, 'file'), join(dir, 'link'))
    execFileSync('mkfifo', [join(dir, 'fifo')])
  })
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('makes nested directories, and ends with an error under /proc/self or past a dangling link instead of spinning', async () => {
    await makeDirectory(join(dir, 'a', 'b', 'c'))
    expect(lstatSync(join(dir, 'a', 'b', 'c')).isDirectory()).toBe(true)
    for (const bad of [
      '/proc/self/synclog/x',
      '/proc/self/synclog',
      join(dir, 'dangling', 'x'),
      join(dir, 'file', 'x'),
      join(dir, 'fifo', 'x'),
    ]) {
      await expect(makeDirectory(bad), bad).rejects.toThrow(/cannot create the directory/)
    }
  })

  it('accepts a data directory that exists or can be made, and refuses the rest by name', () => {
    expect(checkDataDir(join(dir, 'new', 'data'))).toBe(join(dir, 'new', 'data'))
    for (const bad of [
      '',
      '/dev/null',
      join(dir, 'file'),
      join(dir, 'fifo'),
      join(dir, 'dangling'),
      '/proc/self/x',
      '/sys/x',
      join(dir, 'file', 'x'),
    ]) {
      expect(() => checkDataDir(bad), bad).toThrow(/^--data /)
    }
  })

  it('never replaces a link, a FIFO or a device with the atomic writer', async () => {
    expect(checkOutputFile(join(dir, 'out.csv'))).toBe(join(dir, 'out.csv'))
    for (const target of ['link', 'fifo', 'dangling']) {
      const path = join(dir, target)
      const before = lstatSync(path)
      await expect(
        writeFileAtomically(path, async (out) => {
          out.write('x')
        }),
      ).rejects.toThrow(/only replaces regular files/)
      expect(lstatSync(path).mode).toBe(before.mode)
    }
    // A link planted where the temp file goes is removed, not written through.
    await symlink(join(dir, 'file'), join(dir, 'planted.csv.tmp'))
    await writeFileAtomically(join(dir, 'planted.csv'), async (out) => {
      out.write('new')
    })
    expect(lstatSync(join(dir, 'file')).size).toBe(1)
  })
})
