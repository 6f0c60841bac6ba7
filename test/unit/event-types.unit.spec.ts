/**
 * The change-event types are generated from schemas/change-event.avsc. The checked-in
 * module must be what the generator writes from the schema as it is now: a schema change
 * without `npm run gen:types` fails here, and so does a hand edit of the generated file.
 */
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { generatedChangeEventTypes, readChangeEventSchema, renderChangeEventTypes, TYPES_FILE } from '../../scripts/event-types.js'

const root = fileURLToPath(new URL('../..', import.meta.url))

describe('the generated change-event types', () => {
  it('are what the generator writes from the schema now (run npm run gen:types after a schema change)', async () => {
    const checkedIn = await readFile(`${root}/${TYPES_FILE}`, 'utf8')
    expect(checkedIn).toBe(await generatedChangeEventTypes(root))
  })

  it('follow a field added to the schema: a new entity field becomes a member and an empty value', () => {
    const schema = readChangeEventSchema(root)
    const user = schema.fields.find((f) => f.name === 'payload')
    const branches = Array.isArray(user?.type) ? (user.type as { name?: string; fields?: { name: string; type: unknown }[] }[]) : []
    const fields = branches.find((b) => b.name === 'UserChanged')?.fields?.find((f) => f.name === 'fields')?.type as { fields: unknown[] }
    fields.fields.push({ name: 'preferredFirstName', type: ['null', 'string'], default: null, doc: 'The name the student goes by.' })
    const text = renderChangeEventTypes(schema)
    expect(text).toContain('  /** The name the student goes by. */\n  readonly preferredFirstName: string | null\n}')
    expect(text).toContain('grades: [], preferredFirstName: null },')
  })
})
