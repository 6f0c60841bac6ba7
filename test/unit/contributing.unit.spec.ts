/**
 * docs/contributing.md walks through three changes (a OneRoster field, an export format, a
 * log filter) and names the files each touches. These tests hold the walk-throughs to the
 * code: every file they name exists, and the concepts they describe are spelled out only in
 * the files they name. (That a new format or filter really needs nothing else is shown by
 * output-formats.unit.spec.ts and log-filter.unit.spec.ts, which add one in the test.)
 */
import { readFileSync, readdirSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { describe, expect, it } from 'vitest'
import { formatNames } from '../../src/export/formats/index.js'

const ROOT = join(import.meta.dirname, '..', '..')
const DOC = readFileSync(join(ROOT, 'docs', 'contributing.md'), 'utf8')

/** The text of the section under `## <title>`, up to the next `## `. */
function section(title: string): string {
  const start = DOC.indexOf(`\n## ${title}\n`)
  if (start < 0) throw new Error(`docs/contributing.md has no section "## ${title}"`)
  const end = DOC.indexOf('\n## ', start + 4)
  return DOC.slice(start, end < 0 ? undefined : end)
}

/** Repository paths the text names in backticks (placeholders such as `<name>` left out). */
function namedPaths(text: string): string[] {
  const paths = [...text.matchAll(/`((?:src|test|schemas|scripts|docs|web|eslint-rules)\/[^`\s]+)`/g)].map((m) => m[1]!)
  return [...new Set(paths.filter((p) => !p.includes('<') && !p.includes('*')))]
}

function filesUnder(dir: string): string[] {
  return readdirSync(join(ROOT, dir)).flatMap((name) => {
    const path = join(dir, name)
    return statSync(join(ROOT, path)).isDirectory() ? filesUnder(path) : [path]
  })
}

/** Files of src/ and schemas/ (and web/src/) whose text matches `pattern`. */
function filesMentioning(pattern: RegExp, dirs: readonly string[]): string[] {
  return dirs
    .flatMap(filesUnder)
    .filter((f) => pattern.test(readFileSync(join(ROOT, f), 'utf8')))
    .map((f) => relative('.', f))
    .sort()
}

describe('the contributing guide', () => {
  it('names only files that exist', () => {
    // The export format walk-through adds this module, as an example.
    const paths = namedPaths(DOC).filter((p) => p !== 'src/export/formats/tsv.ts')
    expect(paths.length).toBeGreaterThan(20)
    const missing = paths.filter((p) => {
      try {
        statSync(join(ROOT, p.replace(/[#:].*$/, '')))
        return false
      } catch {
        return true
      }
    })
    expect(missing).toEqual([])
  })

  it('lists every file where a user field is spelled out, apart from the data generators', () => {
    const named = new Set(namedPaths(section('Adding a OneRoster field')))
    for (const field of ['middleName', 'enabledUser']) {
      const elsewhere = filesMentioning(new RegExp(`\\b${field}\\b`), ['src', 'schemas']).filter(
        (f) => !named.has(f) && !f.startsWith('src/generate/') && !f.startsWith('src/demo/'),
      )
      expect(elsewhere, `${field} is spelled out in files the walk-through does not name`).toEqual([])
    }
  })

  it('keeps every format name in its module, apart from a command choosing its default', () => {
    expect(section('Adding an export format')).toContain('src/export/formats/index.ts')
    const names = new Set(formatNames(['syncs', 'summary', 'daily', 'logPage', 'drillDown', 'log', 'report']))
    expect([...names]).toEqual(expect.arrayContaining(['table', 'json', 'csv', 'xlsx', 'clever']))
    for (const name of names) {
      const literal = new RegExp(`['"]${name}['"]`)
      const elsewhere = filesMentioning(literal, ['src', 'web/src'])
        .filter((f) => !f.startsWith('src/export/formats/'))
        .filter((f) =>
          readFileSync(join(ROOT, f), 'utf8')
            .split('\n')
            .some((line) => literal.test(line) && !/default|DEFAULT|\bparseFormat\(/.test(line)),
        )
      if (name === 'xlsx' || name === 'clever') expect(elsewhere, `'${name}' is named outside its format module`).toEqual([])
    }
  })

  it('says where each filter, each format and each outcome rule is defined, and those files exist', () => {
    expect(namedPaths(section('Adding a filter'))).toContain('src/clickhouse/log-filter.ts')
    expect(namedPaths(section('Adding an export format'))).toContain('src/export/formats/index.ts')
    expect(section('Where an outcome rule lives')).toContain('src/processor/outcome-rules.ts')
    statSync(join(ROOT, 'src/processor/outcome-rules.ts'))
  })
})
