import { parse } from 'csv-parse/sync'
import { describe, expect, it } from 'vitest'
import { splitCsvLine } from '../../src/oneroster/csv-line.js'
import { openCsvTable, type CsvItem } from '../../src/oneroster/csv-rows.js'
import { physicalLineBatches } from '../../src/oneroster/physical-lines.js'

const MAX = 64 * 1024

async function* chunked(bytes: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size)
}

async function linesOf(
  bytes: Buffer,
  chunkSize: number,
  maxLineBytes = 1024,
): Promise<{ line: number; text: string; overLong: boolean }[]> {
  const out = []
  for await (const batch of physicalLineBatches(chunked(bytes, chunkSize), maxLineBytes)) {
    expect(batch.length).toBeGreaterThan(0)
    for (const { line, text, overLong } of batch) out.push({ line, text, overLong })
  }
  return out
}

describe('splitCsvLine', () => {
  it('splits well-formed lines exactly as csv-parse does', () => {
    const lines = [
      'a,b,c',
      '',
      ',',
      'a,,c,',
      '"a","b,c","d""e"',
      '"",""""',
      '" spaced ", untrimmed ,x',
      '"09, 10",=SUM(A1),+1,-1,@x',
      'Zoë,Çelik,日本語,"emoji 🎒"',
      '"a\rb",c',
    ]
    for (const line of lines) {
      const expected = parse(line, { relax_column_count: true, record_delimiter: '\n', skip_empty_lines: false }) as string[][]
      expect(splitCsvLine(line, MAX), line).toEqual({ ok: true, fields: expected[0] ?? [''] })
    }
  })

  it('reports a quote in an unquoted value, a character after a closing quote and an unclosed quote, naming the field', () => {
    expect(splitCsvLine('a,b"c,d', MAX)).toMatchObject({ ok: false, column: 1, problem: 'malformed', fields: ['a'] })
    expect(splitCsvLine('a,"b"c,d', MAX)).toMatchObject({
      ok: false,
      column: 1,
      problem: 'malformed',
      message: 'unexpected character "c" after a closing quote',
    })
    expect(splitCsvLine('a,b,"c', MAX)).toMatchObject({ ok: false, column: 2, problem: 'malformed', fields: ['a', 'b'] })
    expect(splitCsvLine('a, "b"', MAX)).toMatchObject({ ok: false, column: 1 })
  })

  it('refuses a value longer than the limit, quoted or not', () => {
    expect(splitCsvLine('a,bbbbb,c', 4)).toMatchObject({ ok: false, column: 1, problem: 'too-long' })
    expect(splitCsvLine('a,"bb""bb",c', 4)).toMatchObject({ ok: false, column: 1, problem: 'too-long' })
    expect(splitCsvLine('a,"bbbbbbbbbbbb', 4)).toMatchObject({ ok: false, column: 1, problem: 'too-long' })
    expect(splitCsvLine('a,"bb""b",c', 4)).toEqual({ ok: true, fields: ['a', 'bb"b', 'c'] })
  })
})

describe('physicalLineBatches', () => {
  const text = '\uFEFFh1,h2\r\na,b\r\n\r\nc,d\ne,f'

  it('numbers lines from 1, drops the BOM and the CR of CRLF, whatever the chunk size', async () => {
    const expected = [
      { line: 1, text: 'h1,h2', overLong: false },
      { line: 2, text: 'a,b', overLong: false },
      { line: 3, text: '', overLong: false },
      { line: 4, text: 'c,d', overLong: false },
      { line: 5, text: 'e,f', overLong: false },
    ]
    for (const size of [1, 2, 3, 5, 1000]) expect(await linesOf(Buffer.from(text), size), `chunk ${size}`).toEqual(expected)
  })

  it('keeps only the beginning of an over-long line and goes on with the next line', async () => {
    const bytes = Buffer.from(`short\n${'x'.repeat(50)}\nnext`)
    expect(await linesOf(bytes, 7, 10)).toEqual([
      { line: 1, text: 'short', overLong: false },
      { line: 2, text: 'x'.repeat(10), overLong: true },
      { line: 3, text: 'next', overLong: false },
    ])
  })

  it('keeps a multi-byte character split between chunks whole', async () => {
    expect(await linesOf(Buffer.from('Zoë,日本\n'), 1)).toEqual([{ line: 1, text: 'Zoë,日本', overLong: false }])
  })
})

describe('openCsvTable', () => {
  it('reads the header and then rows and unreadable rows in file order', async () => {
    const table = await openCsvTable('t.csv', chunked(Buffer.from('a,b\n1,2\n3\n"4,5\n6,7\n'), 4))
    expect(table.columns).toEqual(['a', 'b'])
    const items: CsvItem[] = []
    for await (const batch of table.rows()) items.push(...batch)
    expect(items).toEqual([
      { kind: 'row', line: 2, values: ['1', '2'] },
      { kind: 'unreadable', line: 3, column: '', message: 'expected 2 values as in the header, found 1', values: ['3'] },
      expect.objectContaining({ kind: 'unreadable', line: 4, column: 'a' }),
      { kind: 'row', line: 5, values: ['6', '7'] },
    ])
  })

  it('refuses a header with a broken quote', async () => {
    await expect(openCsvTable('t.csv', chunked(Buffer.from('a,"b\n1,2\n'), 64))).rejects.toMatchObject({
      code: 'INPUT_UNREADABLE',
      message: expect.stringContaining('t.csv'),
    })
  })
})
