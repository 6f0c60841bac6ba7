/**
 * A real spreadsheet opens synclog's CSV: LibreOffice headless (Debian's
 * libreoffice-calc-nogui) converts the corpus CSV to xlsx with formula evaluation on,
 * and openpyxl reads what it made. Skipped with a note when soffice is absent, except
 * under CI=true (where .ci/run installs it).
 */
import { execFile } from 'node:child_process'
import { createWriteStream, existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { writeCsv } from '../../src/export/csv-writer.js'
import { HAS_OPENPYXL, checkSpreadsheet, dangerousValues } from '../support/dangerous-cells.js'

const run = promisify(execFile)
/** soffice on PATH, as Debian installs it. */
const SOFFICE = (process.env['PATH'] ?? '')
  .split(delimiter)
  .map((d) => join(d, 'soffice'))
  .find((p) => existsSync(p))
const MISSING = 'LibreOffice is needed to open the CSV as a spreadsheet would: apt-get install libreoffice-calc-nogui python3-openpyxl'
const SKIP = (!SOFFICE || !HAS_OPENPYXL) && process.env['CI'] !== 'true'
if (SKIP) console.warn(`csv-libreoffice tests skipped: ${MISSING}`)

/**
 * CSV import options: comma, double quote, UTF-8 (76), from line 1; 7th token false (quoted
 * fields are not forced to text); 13th token true (evaluate formulas, LibreOffice 7.6+;
 * older versions always do).
 */
const CSV_IMPORT = 'CSV:44,34,76,1,,,false,true,,,false,,true'

let dir = ''
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'synclog-csv-libreoffice-'))
})
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true })
})

it.skipIf(SKIP)(
  'opens every dangerous value as text in LibreOffice: no formula cell, no cell starting with =, numbers still numbers',
  async () => {
    const corpus = dangerousValues()
    const csv = join(dir, 'corpus.csv')
    const rows = corpus.map((value, n) => ({ n, value, other: corpus[(n * 11 + 5) % corpus.length]!, tail: 'end' }))
    await writeCsv(
      createWriteStream(csv),
      rows,
      [
        ['n', 'Row'],
        ['value', 'Value'],
        ['other', 'Other value'],
        ['tail', 'Tail'],
      ],
      { end: true },
    )

    await run(
      SOFFICE ?? 'soffice',
      [
        `-env:UserInstallation=${pathToFileURL(join(dir, 'profile')).href}`,
        '--headless',
        `--infilter=${CSV_IMPORT}`,
        '--convert-to',
        'xlsx',
        '--outdir',
        join(dir, 'out'),
        csv,
      ],
      { timeout: 90_000 },
    )
    const check = await checkSpreadsheet('xlsx', join(dir, 'out', 'corpus.xlsx'))

    expect(check.failures).toEqual([])
    expect(check.rows).toBe(corpus.length + 1)
    expect(check.numbers).toBe(corpus.length)
  },
  120_000,
)
