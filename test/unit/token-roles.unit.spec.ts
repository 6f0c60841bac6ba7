/**
 * Token roles: what each role may do beyond reading, the words of a refusal, what
 * GET /api/v1/me reports, and token files written before roles existed.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  ApiTokens,
  PERMISSIONS,
  TOKEN_FILE_NAME,
  allows,
  meOf,
  refusal,
  type ApiTokenInfo,
  type Permission,
  type TokenRole,
} from '../../src/http/api-tokens.js'
import type { Scope } from '../../src/clickhouse/types.js'

const EVERY_TENANT: Scope = {}
const TENANT: Scope = { tenant: 'district-a' }
const SCHOOL: Scope = { tenant: 'district-a', school: { id: 'sch-1', side: 'either' } }

const tokenOf = (role: TokenRole, scope: Scope, name = `${role}-token`): ApiTokenInfo => ({
  name,
  scope,
  role,
  createdAt: '2026-01-01T00:00:00.000Z',
})
const allowed = (token: ApiTokenInfo): Permission[] => PERMISSIONS.filter((p) => allows(token, p))

describe('what each role may do beyond reading', () => {
  it('lets a viewer do nothing but read', () => {
    expect(allowed(tokenOf('viewer', EVERY_TENANT))).toEqual([])
    expect(allowed(tokenOf('viewer', TENANT))).toEqual([])
  })

  it('lets a reviewer approve and reject, and nothing more', () => {
    expect(allowed(tokenOf('reviewer', EVERY_TENANT))).toEqual(['review'])
    expect(allowed(tokenOf('reviewer', TENANT))).toEqual(['review'])
  })

  it('lets an importer import, and nothing more', () => {
    expect(allowed(tokenOf('importer', TENANT))).toEqual(['import'])
  })

  it('lets an operator of every tenant do everything, SQL included', () => {
    expect(allowed(tokenOf('operator', EVERY_TENANT))).toEqual(['review', 'import', 'sql'])
  })

  it('keeps SQL from an operator of one tenant, since the embedded store cannot scope arbitrary SQL', () => {
    expect(allowed(tokenOf('operator', TENANT))).toEqual(['review', 'import'])
  })

  it('keeps decisions from a school token whatever its role, since a hold is about the whole district', () => {
    expect(allows(tokenOf('reviewer', SCHOOL), 'review')).toBe(false)
    expect(allows(tokenOf('operator', SCHOOL), 'review')).toBe(false)
  })
})

describe('the words of a refusal', () => {
  it('names the token, its role and the roles that may, and how to make one', () => {
    const text = refusal(tokenOf('viewer', TENANT, 'front-desk'), 'review')
    expect(text).toContain("token 'front-desk' is a viewer")
    expect(text).toContain('approve or reject syncs')
    expect(text).toContain('reviewer or operator')
    expect(text).toContain('synclog token create --role')
  })

  it('tells a school reviewer that decisions need a district token', () => {
    const text = refusal(tokenOf('reviewer', SCHOOL, 'school-reviewer'), 'review')
    expect(text).toContain('one school')
    expect(text).toContain('--tenant <district> --role reviewer')
  })

  it("tells a tenant operator that SQL needs every tenant's scope", () => {
    expect(refusal(tokenOf('operator', TENANT), 'sql')).toContain('SQL needs a token of every tenant')
  })

  it('names the importer and operator roles for an import', () => {
    expect(refusal(tokenOf('reviewer', TENANT), 'import')).toContain('importer or operator')
  })
})

describe('what GET /api/v1/me reports', () => {
  it('gives the role and the permissions the page shows its buttons by, never a secret', () => {
    const me = meOf(tokenOf('reviewer', TENANT, 'reviewer-a'))
    expect(me).toEqual({
      name: 'reviewer-a',
      scope: TENANT,
      role: 'reviewer',
      permissions: ['review'],
      createdAt: '2026-01-01T00:00:00.000Z',
    })
  })
})

describe('token files', () => {
  let dir = ''
  let tokens: ApiTokens
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'synclog-roles-'))
    tokens = ApiTokens.inDataDir(dir)
  })
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('reads a token stored before roles existed as operator for every tenant and viewer otherwise, and it still authenticates', async () => {
    const { token: everyTenant } = await tokens.create('old-operator', EVERY_TENANT)
    const { token: tenant } = await tokens.create('old-district', TENANT)
    const { token: school } = await tokens.create('old-school', SCHOOL)
    const path = join(dir, TOKEN_FILE_NAME)
    const file = JSON.parse(await readFile(path, 'utf8')) as { tokens: Record<string, unknown>[] }
    for (const t of file.tokens) delete t['role']
    await writeFile(path, JSON.stringify(file), { mode: 0o600 })

    expect((await tokens.list()).map((t) => [t.name, t.role])).toEqual([
      ['old-operator', 'operator'],
      ['old-district', 'viewer'],
      ['old-school', 'viewer'],
    ])
    expect((await tokens.authenticate(everyTenant))?.role).toBe('operator')
    expect((await tokens.authenticate(tenant))?.role).toBe('viewer')
    expect((await tokens.authenticate(school))?.role).toBe('viewer')
  })

  it('stores the role given at creation and reads it back', async () => {
    const { token } = await tokens.create('reviewer-a', TENANT, 'reviewer')
    await tokens.create('importer-all', EVERY_TENANT, 'importer')
    expect((await tokens.authenticate(token))?.role).toBe('reviewer')
    expect((await tokens.list()).map((t) => [t.name, t.role])).toEqual([
      ['reviewer-a', 'reviewer'],
      ['importer-all', 'importer'],
    ])
    const stored = JSON.parse(await readFile(join(dir, TOKEN_FILE_NAME), 'utf8')) as { tokens: { role?: string }[] }
    expect(stored.tokens.map((t) => t.role)).toEqual(['reviewer', 'importer'])
  })

  it('refuses a token file with a role it does not know, naming the file', async () => {
    await tokens.create('reviewer-a', TENANT, 'reviewer')
    const path = join(dir, TOKEN_FILE_NAME)
    await writeFile(path, (await readFile(path, 'utf8')).replace('"reviewer"', '"superuser"'), { mode: 0o600 })
    await expect(tokens.list()).rejects.toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringContaining(path) as unknown })
  })
})
