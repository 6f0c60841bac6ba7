/** Change events written as JSON lines by a SIS's own exporter, bad lines included. */
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { expect, it } from 'vitest'
import { smallDistrict, sync } from '../support/sis.js'
import { jsonLines, synclog, tempDir } from '../support/cli.js'

it('folds every readable line of an NDJSON file and reports each bad line by number and field', async () => {
  const dir = await tempDir('ingest')
  const events = smallDistrict(sync(), { students: 3 }).end()
  const lines = events.map((e) => JSON.stringify(e))
  lines.splice(3, 0, '{not json', JSON.stringify({ ...events[2], type: 'RecordChanged', op: 'upsert-ish' }))
  const file = join(dir, 'events.ndjson')
  await writeFile(file, `${lines.join('\n')}\n`)

  const run = await synclog(['ingest', file, '--data', join(dir, 'data')])
  expect(run.code).toBe(0)
  expect(run.stderr).toContain(`${file}:4:`)
  expect(run.stderr).toMatch(new RegExp(`${file.replace(/[.]/g, '\\.')}:5: op`))
  expect(run.stdout).toMatch(/\tCompleted\n/)
  expect(run.stdout).toContain(`${events.length} events folded`)

  const created = jsonLines(
    (await synclog(['log', '--action', 'Created Roster', '--from', '2000-01-01', '--format', 'json', '--data', join(dir, 'data')])).stdout,
  )
  expect(created.map((r) => r.sourcedId).sort()).toEqual(['e-stu1', 'e-stu2', 'e-stu3'])
})
