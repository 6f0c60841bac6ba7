/**
 * Every input-sized limit over a generated corpus: each input is refused exactly
 * when it passes its limit, the refusal names the file (entry, line) and the
 * limit, and no more than the limit is ever read. Limits are set low so that the
 * inputs stay small; the CLI tests (hostile-sizes.e2e) use the defaults.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEFAULT_LIMITS, parseSize, rawLimits, LimitsSchema, type InputLimits } from '../../src/config/limits.js'
import { openBundleSource } from '../../src/oneroster/bundle-source.js'
import { openCsvTable, type CsvItem } from '../../src/oneroster/csv-rows.js'
import { readChangeEventsNdjson } from '../../src/ndjson/read-ndjson.js'
import { isSynclogError } from '../../src/errors.js'
import { writeZip } from '../support/zip-builder.js'
import { Prng } from '../../src/generate/prng.js'

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'synclog-limits-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

/** Seeded floats in [0, 1). */
function prng(seed: number): () => number {
  const rng = new Prng(seed)
  return () => rng.next()
}

async function* chunked(bytes: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size)
}

async function readAll(stream: AsyncIterable<Buffer>): Promise<number> {
  let n = 0
  for await (const chunk of stream) n += chunk.length
  return n
}

const limits = (over: Partial<InputLimits>): InputLimits => ({ ...DEFAULT_LIMITS, ...over })

describe('zip limits', () => {
  it('refuses exactly the zips over a limit, on what they declare or on what they inflate, naming the entry and the limit', async () => {
    const random = prng(11)
    const MiB = 1024 * 1024
    for (let i = 0; i < 120; i++) {
      const kind = (['ratio', 'liar', 'file', 'total', 'entries', 'honest'] as const)[i % 6]!
      const path = join(dir, `z${i}.zip`)
      const set = limits({ zipRatio: 50, fileBytes: 4 * MiB, bundleBytes: 6 * MiB, zipEntries: 20 })
      const noisy = (bytes: number): Buffer =>
        Buffer.from(Array.from({ length: bytes }, () => 'abcdefghijklmnopqrstuvwxyz0123456789,\n'[Math.floor(random() * 38)]).join(''))
      let expected: RegExp | null = null
      switch (kind) {
        case 'ratio':
          await writeZip(path, [{ name: 'users.csv', content: Buffer.alloc(MiB + 1 + Math.floor(random() * 2 * MiB), 0x61) }])
          expected = /users\.csv in the zip .* expands \d+:1 .*limit zipRatio \(50:1\)/
          break
        case 'liar': {
          const real = 1000 + Math.floor(random() * 50_000)
          await writeZip(path, [{ name: 'users.csv', content: noisy(real), claim: { uncompressed: Math.floor(real * random()) } }])
          expected = /users\.csv in the zip .* inflates to more than the \d+ bytes its header declares/
          break
        }
        case 'file':
          await writeZip(path, [
            { name: 'users.csv', content: noisy(1000), claim: { uncompressed: 4 * MiB + 1 + Math.floor(random() * MiB) } },
          ])
          expected = /users\.csv in the zip .* more than the limit fileBytes \(4 MiB\)/
          break
        case 'total': {
          const copies = 10 + Math.floor(random() * 10)
          await writeZip(path, [
            { name: 'a.csv', content: noisy(700_000) },
            ...Array.from({ length: copies }, (_, k) => ({ name: `b${k}.csv`, content: '', sameDataAs: 'a.csv' })),
          ])
          expected = /the files of the zip .* more than the limit bundleBytes \(6 MiB\)/
          break
        }
        case 'entries':
          await writeZip(
            path,
            Array.from({ length: 21 + Math.floor(random() * 30) }, (_, k) => ({ name: `f${k}.csv`, content: 'x', stored: true })),
          )
          expected = /holds \d+ entries, more than the limit zipEntries \(20\)/
          break
        case 'honest':
          await writeZip(path, [{ name: 'users.csv', content: noisy(Math.floor(random() * 100_000)) }])
          break
      }
      let error: unknown = null
      let inflated = 0
      try {
        const source = await openBundleSource(path, set)
        try {
          for (const name of source.entries.keys()) inflated += await readAll(await source.open(name))
        } finally {
          await source.close()
        }
      } catch (e) {
        error = e
      }
      if (expected === null) {
        expect(error, `case ${i} (${kind})`).toBeNull()
      } else {
        expect(isSynclogError(error), `case ${i} (${kind})`).toBe(true)
        expect((error as Error).message, `case ${i} (${kind})`).toMatch(expected)
      }
      expect(inflated).toBeLessThanOrEqual(set.bundleBytes)
    }
  })
})

describe('CSV limits', () => {
  it('refuses a header over csvColumns naming the file, the line and the limit, and accepts one at the limit', async () => {
    const random = prng(5)
    for (let i = 0; i < 300; i++) {
      const max = 1 + Math.floor(random() * 200)
      const columns = Math.max(1, max - 3 + Math.floor(random() * 7))
      const header = Array.from({ length: columns }, (_, k) => `metadata.c${k}`).join(',')
      const open = openCsvTable(
        'users.csv',
        chunked(Buffer.from(`\n${header}\n`), 1 + Math.floor(random() * 64)),
        limits({ csvColumns: max }),
      )
      if (columns <= max) await expect(open).resolves.toMatchObject({ columns: expect.any(Array) })
      else
        await expect(open).rejects.toMatchObject({
          code: 'INPUT_LIMIT_EXCEEDED',
          message: `users.csv: the header row (line 2) has ${columns} columns, more than the limit csvColumns (${max}); raise it with limits.csvColumns in synclog.config.json or the environment variable SYNCLOG_LIMIT_CSV_COLUMNS`,
        })
    }
  })

  it('makes a row unreadable exactly when its line or a value passes the limit, names the line, and reads the rows after it', async () => {
    const random = prng(7)
    const set = limits({ csvLineBytes: 256, csvFieldChars: 64 })
    const lines: string[] = ['a,b,c']
    const expected: [number, unknown][] = []
    for (let i = 0; i < 400; i++) {
      const field = Math.floor(random() * 100)
      const quoted = random() < 0.3
      const value = 'v'.repeat(field)
      const fill = Math.floor(random() * 250)
      const line = `${i},${quoted ? `"${value}"` : value},${'w'.repeat(fill)}`
      lines.push(line)
      // A line over both limits is reported by the first one met while reading it.
      const longLine = Buffer.byteLength(line) > 256
      const longValue = field > 64 || fill > 64
      expected.push([
        i + 2,
        longLine && longValue
          ? expect.stringMatching(/^csv(LineBytes|FieldChars)$/)
          : longLine
            ? 'csvLineBytes'
            : longValue
              ? 'csvFieldChars'
              : null,
      ])
    }
    const table = await openCsvTable('t.csv', chunked(Buffer.from(`${lines.join('\n')}\n`), 100), set)
    const items: CsvItem[] = []
    for await (const batch of table.rows()) items.push(...batch)
    expect(items.map((it) => [it.line, it.kind === 'row' ? null : (/limit (csv\w+)/.exec(it.message)?.[1] ?? it.message)])).toEqual(
      expected,
    )
  })

  it('reads a quote left open up to the end of the file as one unreadable line', async () => {
    const table = await openCsvTable('t.csv', chunked(Buffer.from('a,b\n1,2\n3,"open\n4,5'), 3), DEFAULT_LIMITS)
    const items: CsvItem[] = []
    for await (const batch of table.rows()) items.push(...batch)
    expect(items.map((it) => [it.line, it.kind])).toEqual([
      [2, 'row'],
      [3, 'unreadable'],
      [4, 'row'],
    ])
  })
})

describe('NDJSON limits', () => {
  it('skips exactly the lines over ndjsonLineBytes, naming each line and the limit, and reads the others', async () => {
    const random = prng(3)
    const cap = 512
    const lines: string[] = []
    const over: number[] = []
    for (let i = 0; i < 300; i++) {
      const reason = 'r'.repeat(Math.floor(random() * 600))
      const line = JSON.stringify({
        type: 'SyncFailed',
        eventId: `e${i}`,
        tenant: 't',
        syncId: 's',
        app: 'a',
        occurredAt: '2025-01-31T02:00:00Z',
        reason,
      })
      lines.push(line)
      if (Buffer.byteLength(line) > cap) over.push(i + 1)
    }
    const path = join(dir, 'events.ndjson')
    await writeFile(path, `${lines.join('\n')}\n`)
    const issues: number[] = []
    let events = 0
    for await (const item of readChangeEventsNdjson(path, { ...DEFAULT_LIMITS, ndjsonLineBytes: cap })) {
      if (item.kind === 'event') events++
      else {
        expect(item.message).toBe('the line is longer than the limit ndjsonLineBytes (512 bytes); it is skipped unread')
        issues.push(item.line)
      }
    }
    expect(issues).toEqual(over)
    expect(events).toBe(300 - over.length)
  })

  it('refuses an event with more metadata keys than metadataKeys', async () => {
    const path = join(dir, 'meta.ndjson')
    const metadata = Object.fromEntries(Array.from({ length: 11 }, (_, k) => [`k${k}`, 'v']))
    await writeFile(
      path,
      `${JSON.stringify({ type: 'RecordChanged', eventId: 'e', tenant: 't', syncId: 's', app: 'a', occurredAt: '2025-01-31T02:00:00Z', entity: 'org', sourcedId: 'o', op: 'upsert', metadata })}\n`,
    )
    const items = []
    for await (const item of readChangeEventsNdjson(path, { ...DEFAULT_LIMITS, metadataKeys: 10 })) items.push(item)
    expect(items).toEqual([
      { kind: 'issue', line: 1, field: 'metadata', message: '11 metadata keys, more than the limit metadataKeys (10)' },
    ])
  })
})

describe('limit settings', () => {
  it('reads sizes with units, takes the environment over the file, and names a bad key', () => {
    expect(parseSize('64KiB')).toBe(65536)
    expect(parseSize('1.5 GiB')).toBe(1.5 * 1024 ** 3)
    expect(parseSize('12')).toBe(12)
    expect(Number.isNaN(parseSize('lots'))).toBe(true)
    const raw = rawLimits({ csvColumns: 5, zipRatio: 10 }, { SYNCLOG_LIMIT_ZIP_RATIO: '30', SYNCLOG_LIMIT_CSV_LINE_BYTES: '2MiB' })
    expect(LimitsSchema.parse(raw)).toMatchObject({
      csvColumns: 5,
      zipRatio: 30,
      csvLineBytes: 2 * 1024 * 1024,
      fileBytes: DEFAULT_LIMITS.fileBytes,
    })
    expect(LimitsSchema.safeParse(rawLimits({ csvLineBytes: 'huge' }, {})).success).toBe(false)
  })
})
