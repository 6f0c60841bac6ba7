/**
 * The lint rule that keeps ids off plain objects catches the reported bugs if
 * they come back (the by-school summary keyed by school id, counts keyed by
 * entity, metadata keyed by column name, onboarded schools keyed by tenant) and
 * leaves the safe forms alone (Maps, literal-union keys, arrays, own-property
 * guards). Runs the rule through ESLint with type information on files in a temp dir.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ESLint } from 'eslint'
import tseslint from 'typescript-eslint'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import noIdKeyedObjects from '../../eslint-rules/no-id-keyed-objects.js'

/** Code as it was before the fix, one reported bug per file. */
const REINTRODUCED: Record<string, string> = {
  'summary-by-school.ts': `
    type Counts = { total: number }
    export function bySchool(rows: { schoolId: string; total: number }[]) {
      const out: Record<string, { schoolName: string; counts: Counts }> = {}
      for (const row of rows) {
        const school = out[row.schoolId] ?? { schoolName: '', counts: { total: 0 } }
        school.counts.total += row.total
        out[row.schoolId] = school
      }
      return out
    }`,
  'add-into.ts': `
    export function addInto(target: Record<string, number>, entity: string, n: number): void {
      const sum = target[entity] ?? 0
      target[entity] = sum + n
    }`,
  'metadata.ts': `
    export function metadata(columns: { key: string; at: number }[], values: string[]): Readonly<Record<string, string>> {
      const out: Record<string, string> = {}
      for (const { key, at } of columns) out[key] = values[at] ?? ''
      return out
    }`,
  'onboarded.ts': `
    export function onboarded(options: { onboardedSchools?: Readonly<Record<string, readonly string[]>> }, tenant: string) {
      return options.onboardedSchools?.[tenant]
    }`,
  'in-operator.ts': `
    const LABELS = { sync: 'Sync', app: 'App' } as Record<string, string>
    export const isFilter = (key: string): boolean => key in LABELS`,
}

/** The fixed forms, which must pass. */
const SAFE = `
  type Entity = 'org' | 'user'
  const FIELD: Record<Entity, string> = { org: 'o', user: 'u' }
  const TYPES: Readonly<Record<string, string>> = { '.js': 'text/javascript' }
  export function safe(entity: Entity, id: string, ids: string[], i: number, rows: Map<string, number>, json: Record<string, number>) {
    const a = FIELD[entity]
    const b = ids[i]
    const c = rows.get(id)
    const d = Object.hasOwn(TYPES, id) ? TYPES[id] : undefined
    const e = Object.hasOwn(json, id) && json[id]
    const f = Object.fromEntries([[id, 1]])
    const g = Object.entries(json).map(([k, v]) => k + v)
    if (Object.hasOwn(json, id)) json[id] = 2
    return [a, b, c, d, e, f, g]
  }`

let dir = ''
let eslint: ESLint

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'synclog-lint-'))
  await writeFile(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        strict: true,
        noUncheckedIndexedAccess: true,
        lib: ['ES2022'],
        types: [],
      },
      include: ['*.ts'],
    }),
  )
  for (const [name, code] of Object.entries(REINTRODUCED)) await writeFile(join(dir, name), code)
  await writeFile(join(dir, 'safe.ts'), SAFE)
  eslint = new ESLint({
    cwd: dir,
    overrideConfigFile: true,
    overrideConfig: [
      {
        files: ['**/*.ts'],
        languageOptions: { parser: tseslint.parser, parserOptions: { project: './tsconfig.json', tsconfigRootDir: dir } },
        plugins: { synclog: { rules: { 'no-id-keyed-objects': noIdKeyedObjects } } },
        rules: { 'synclog/no-id-keyed-objects': 'error' },
      },
    ],
  })
}, 60_000)

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true })
})

async function problems(file: string): Promise<{ line: number; message: string }[]> {
  const [result] = await eslint.lintFiles([join(dir, file)])
  return (result?.messages ?? []).map((m) => ({ line: m.line, message: m.message }))
}

describe('the no-id-keyed-objects lint rule', () => {
  it.each(Object.keys(REINTRODUCED))(
    'fails lint when %s indexes a plain object by an id again',
    async (file) => {
      const found = await problems(file)
      expect(found.length, JSON.stringify(found)).toBeGreaterThan(0)
      for (const p of found) expect(p.message).toMatch(/__proto__|Object\.hasOwn|Map/)
    },
    60_000,
  )

  it('flags both the read and the write of the reported by-school summary', async () => {
    expect((await problems('summary-by-school.ts')).map((p) => p.line)).toEqual([6, 8])
  }, 60_000)

  it('passes Maps, literal-union keys, array indexes and Object.hasOwn-guarded lookups', async () => {
    expect(await problems('safe.ts')).toEqual([])
  }, 60_000)
})
