/**
 * The HTTP API's pieces that need no data: API tokens on disk, how errors become
 * answers (including a store that is down), and the token CLI's scope flags.
 * The API over real data is test/e2e/http-api.e2e.spec.ts.
 */
import { readFile, rm, stat, writeFile } from 'node:fs/promises'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SynclogError } from '../../src/errors.js'
import { scopeOfFlags } from '../../src/cli/commands/token.js'
import { ApiTokens, TOKEN_FILE_NAME } from '../../src/http/api-tokens.js'
import { problemOf } from '../../src/http/http-errors.js'
import type { ReadStore } from '../../src/http/read-store.js'
import { buildServer } from '../../src/http/server.js'
import { silentLogger } from '../support/silent-logger.js'

let dir: string

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'synclog-http-unit-'))
})

afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('API tokens', () => {
  it('authenticates a created token to its name and scope, and nothing else', async () => {
    const tokens = new ApiTokens(join(dir, 'a', TOKEN_FILE_NAME), () => new Date('2024-09-01T06:00:00Z'))
    const { token, info } = await tokens.create('nightly', { tenant: 'd1', school: { id: 's1', side: 'home' } })
    expect(info).toEqual({
      name: 'nightly',
      scope: { tenant: 'd1', school: { id: 's1', side: 'home' } },
      role: 'viewer',
      createdAt: '2024-09-01T06:00:00.000Z',
    })
    expect(await tokens.authenticate(token)).toEqual(info)
    expect(await tokens.authenticate(token.slice(0, -1) + (token.endsWith('A') ? 'B' : 'A'))).toBeNull()
    expect(await tokens.authenticate('')).toBeNull()
  })

  it('writes the file with mode 0600 and only a hash of each token', async () => {
    const path = join(dir, 'b', TOKEN_FILE_NAME)
    const { token } = await new ApiTokens(path).create('ops', {})
    expect((await stat(path)).mode & 0o777).toBe(0o600)
    const text = await readFile(path, 'utf8')
    expect(text).not.toContain(token)
    expect(text).toMatch(/"hash": "sha256:[0-9a-f]{64}"/)
  })

  it('refuses a second token of the same name, a bad name and a school without its tenant', async () => {
    const tokens = new ApiTokens(join(dir, 'c', TOKEN_FILE_NAME))
    await tokens.create('one', { tenant: 'd1' })
    await expect(tokens.create('one', { tenant: 'd2' })).rejects.toThrow("a token named 'one' exists")
    await expect(tokens.create('has space', {})).rejects.toThrow('--name must be')
    await expect(tokens.create('x', { school: { id: 's', side: 'either' } })).rejects.toThrow('needs its tenant')
  })

  it('forgets a revoked token at once, even in a reader that cached the file', async () => {
    const path = join(dir, 'd', TOKEN_FILE_NAME)
    const { token } = await new ApiTokens(path).create('temp', { tenant: 'd1' })
    const server = new ApiTokens(path)
    expect(await server.authenticate(token)).not.toBeNull()
    await new ApiTokens(path).revoke('temp')
    expect(await server.authenticate(token)).toBeNull()
    await expect(new ApiTokens(path).revoke('temp')).rejects.toThrow("no token named 'temp'")
  })

  it('reports a damaged token file as a configuration error naming the file', async () => {
    const path = join(dir, 'e', TOKEN_FILE_NAME)
    await new ApiTokens(path).create('x', {})
    await writeFile(path, '{"version":1,"tokens":[{"name":"x"}]}')
    await expect(new ApiTokens(path).authenticate(`slk_${'A'.repeat(43)}`)).rejects.toMatchObject({ code: 'CONFIG_INVALID' })
    await expect(new ApiTokens(path).list()).rejects.toThrow(path)
  })
})

describe("the token command's scope flags", () => {
  it('makes no tenant an operator scope, a tenant a district scope, and a school a school scope on either side by default', () => {
    expect(scopeOfFlags({})).toEqual({})
    expect(scopeOfFlags({ tenant: 'd1' })).toEqual({ tenant: 'd1' })
    expect(scopeOfFlags({ tenant: 'd1', school: 's1' })).toEqual({ tenant: 'd1', school: { id: 's1', side: 'either' } })
    expect(scopeOfFlags({ tenant: 'd1', school: 's1', side: 'serving' })).toEqual({ tenant: 'd1', school: { id: 's1', side: 'serving' } })
  })

  it('refuses a school without a tenant, a side without a school, and an unknown side', () => {
    expect(() => scopeOfFlags({ school: 's1' })).toThrow('--school needs --tenant')
    expect(() => scopeOfFlags({ tenant: 'd1', side: 'home' })).toThrow('--side needs --school')
    expect(() => scopeOfFlags({ tenant: 'd1', school: 's1', side: 'left' })).toThrow('--side must be one of home, serving, either')
  })
})

describe('errors as HTTP answers', () => {
  it('maps usage to 400, an unknown sync to 404 and an unavailable store to 503 with Retry-After', () => {
    expect(problemOf(new SynclogError('USAGE', 'limit must be …'), 'r1').problem).toMatchObject({
      status: 400,
      code: 'BAD_PARAMETER',
      message: 'limit must be …',
    })
    expect(problemOf(new SynclogError('SYNC_NOT_FOUND', 'no sync x'), 'r1').problem).toMatchObject({ status: 404, code: 'SYNC_NOT_FOUND' })
    for (const code of ['STORE_UNAVAILABLE', 'DATA_DIR_LOCKED'] as const) {
      const { problem, level } = problemOf(new SynclogError(code, 'ClickHouse at 10.0.0.7:8123 refused'), 'r2')
      expect(problem).toMatchObject({ status: 503, code: 'UNAVAILABLE', headers: { 'retry-after': '5' } })
      expect(problem.message).not.toContain('10.0.0.7')
      expect(level).toBe('warn')
    }
  })

  it('answers anything unexpected with a 500 that names the request and hides the cause', () => {
    for (const err of [new SynclogError('STORE_FAILED', 'SELECT secret FROM x'), new TypeError('x is undefined at /src/http/a.ts:1:2')]) {
      const { problem, level } = problemOf(err, 'req-9')
      expect(problem).toMatchObject({ status: 500, code: 'INTERNAL' })
      expect(problem.message).toContain('req-9')
      expect(problem.message).not.toMatch(/secret|\.ts/)
      expect(level).toBe('error')
    }
  })

  it('answers 503 with Retry-After when the store is down, and 500 when the token file is damaged', async () => {
    const down = (): never => {
      throw new SynclogError('STORE_UNAVAILABLE', 'ClickHouse at 10.0.0.7:8123 refused')
    }
    const store: ReadStore = {
      listSyncs: down,
      getSync: down,
      summary: down,
      queryLog: down,
      drillDown: down,
      recordHistory: down,
      dailyRollups: down,
      reportRows: down,
      rosterAt: down,
      countLog: down,
      listSchools: down,
      compareSyncs: down,
      causeGroups: down,
      // eslint-disable-next-line require-yield
      async *streamLog() {
        down()
      },
    }
    const path = join(dir, 'f', TOKEN_FILE_NAME)
    const { token } = await new ApiTokens(path).create('ops', {})
    const server = await buildServer({ store, tokens: new ApiTokens(path), logger: silentLogger(), version: 'test' })
    try {
      const headers = { authorization: `Bearer ${token}` }
      for (const url of [
        '/api/v1/syncs',
        '/api/v1/log',
        '/api/v1/log/count',
        '/api/v1/schools',
        '/api/v1/log.csv',
        '/api/v1/log.xlsx',
        '/api/v1/syncs/x/report.csv',
        '/api/v1/syncs/x/causes',
        '/api/v1/syncs/x/compare/y',
      ]) {
        const answer = await server.app.inject({ method: 'GET', url, headers })
        expect(answer.statusCode, url).toBe(503)
        expect(answer.headers['retry-after'], url).toBe('5')
        expect(answer.headers['content-disposition'], url).toBeUndefined()
        expect(answer.json(), url).toEqual({
          error: { code: 'UNAVAILABLE', message: expect.stringMatching(/^the sync-log store is unavailable/) },
        })
      }
      await writeFile(path, 'not json')
      const damaged = await server.app.inject({ method: 'GET', url: '/api/v1/me', headers })
      expect(damaged.statusCode).toBe(500)
      expect(damaged.json().error.message).not.toContain(path)
    } finally {
      await server.app.close()
    }
  })
})
