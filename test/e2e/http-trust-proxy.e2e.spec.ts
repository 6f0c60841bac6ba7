/**
 * The session cookie behind a TLS reverse proxy: `Secure` exactly when the
 * request came through a proxy the `trustProxy` setting names and that proxy
 * says the client spoke HTTPS; a client that is not a trusted proxy cannot make
 * the server believe any X-Forwarded-* header. Real server, real token file and
 * store; every request comes from 127.0.0.1.
 */
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openClickHouse, type ClickHouse } from '../../src/clickhouse/open.js'
import { migrate } from '../../src/clickhouse/migrations.js'
import { SyncLogStore } from '../../src/clickhouse/sync-log-store.js'
import { loadConfig } from '../../src/config/config.js'
import { ApiTokens } from '../../src/http/api-tokens.js'
import { buildServer } from '../../src/http/server.js'
import type { TrustProxy } from '../../src/config/trust-proxy.js'
import { silentLogger } from '../support/silent-logger.js'
import { tempDir } from '../support/cli.js'
import { Prng } from '../../src/generate/prng.js'

let dir: string
let ch: ClickHouse
let store: SyncLogStore
let tokens: ApiTokens
let token: string

beforeAll(async () => {
  dir = await tempDir('trust-proxy')
  const logger = silentLogger()
  ch = await openClickHouse({ dataDir: join(dir, 'data'), logger })
  await migrate(ch.client, logger)
  store = new SyncLogStore(ch.client, logger)
  tokens = ApiTokens.inDataDir(join(dir, 'data'))
  token = (await tokens.create('browser', { tenant: 'district-a' })).token
}, 60_000)

afterAll(async () => {
  await ch?.close()
  if (dir) await rm(dir, { recursive: true, force: true })
})

/** The setting as an operator writes it (SYNCLOG_TRUST_PROXY), through the config loader. */
function trustFrom(text: string): TrustProxy {
  return loadConfig({ data: join(dir, 'data') }, { SYNCLOG_CONFIG: join(dir, 'none.json'), SYNCLOG_TRUST_PROXY: text }).http.trustProxy
}

const SETTINGS: { readonly text: string; readonly trustsLoopback: boolean }[] = [
  { text: '', trustsLoopback: false },
  { text: 'false', trustsLoopback: false },
  { text: '127.0.0.1', trustsLoopback: true },
  { text: 'loopback', trustsLoopback: true },
  { text: '127.0.0.0/8', trustsLoopback: true },
  { text: '10.0.0.5, 127.0.0.1', trustsLoopback: true },
  { text: '10.0.0.0/8', trustsLoopback: false },
  { text: '192.168.1.1,172.16.0.0/12,fd00::/8', trustsLoopback: false },
  { text: 'uniquelocal', trustsLoopback: false },
]

const PROTOS = [
  'https',
  'http',
  'HTTPS',
  'Https',
  ' https ',
  'https, http',
  'http, https',
  'http,https',
  'https,https',
  'ws',
  'wss',
  'httpss',
  'https;',
  '',
]
const FORWARDED_FOR = ['10.0.0.1', '127.0.0.1', '10.1.2.3, 127.0.0.1', '::1', 'fd00::1', '192.168.1.1', 'unknown', '']

/** What the cookie must be: Secure when a trusted proxy's last word is https. */
function secureExpected(trustsLoopback: boolean, proto: string | undefined): boolean {
  if (!trustsLoopback || proto === undefined || proto === '') return false
  return (proto.split(',').pop() ?? '').trim().toLowerCase() === 'https'
}

describe('the session cookie behind a reverse proxy', () => {
  it('is Secure exactly when a trusted proxy forwards HTTPS, whatever an untrusted client claims', async () => {
    const prng = new Prng('trust-proxy')
    let checked = 0
    for (const setting of SETTINGS) {
      const server = await buildServer({ store, tokens, logger: silentLogger(), version: 'test', trustProxy: trustFrom(setting.text) })
      try {
        const base = await server.app.listen({ host: '127.0.0.1', port: 0 })
        for (let i = 0; i < 40; i++) {
          const proto = i === 0 ? undefined : prng.pick(PROTOS)
          const forwardedFor = prng.pick(FORWARDED_FOR)
          const headers: Record<string, string> = { 'content-type': 'application/json' }
          if (proto !== undefined) headers['x-forwarded-proto'] = proto
          if (forwardedFor !== '') headers['x-forwarded-for'] = forwardedFor
          if (prng.chance(0.3)) headers['x-forwarded-host'] = 'evil.example'
          const label = `trustProxy=${JSON.stringify(setting.text)} proto=${JSON.stringify(proto)} for=${JSON.stringify(forwardedFor)}`

          const signIn = await fetch(`${base}/api/v1/session`, { method: 'POST', headers, body: JSON.stringify({ token }) })
          expect(signIn.status, label).toBe(200)
          const cookie = signIn.headers.get('set-cookie') ?? ''
          expect(cookie, label).toMatch(/^synclog_session=slk_/)
          expect(/;\s*Secure(;|$)/.test(cookie), label).toBe(secureExpected(setting.trustsLoopback, proto))

          const { 'content-type': _json, ...forwarded } = headers
          const signOut = await fetch(`${base}/api/v1/session`, {
            method: 'DELETE',
            headers: { ...forwarded, cookie: cookie.split(';')[0]! },
          })
          expect(signOut.status, label).toBe(204)
          expect(/;\s*Secure(;|$)/.test(signOut.headers.get('set-cookie') ?? ''), `sign-out ${label}`).toBe(
            secureExpected(setting.trustsLoopback, proto),
          )
          checked++
        }
      } finally {
        await server.app.close()
      }
    }
    expect(checked).toBe(SETTINGS.length * 40)
  })

  it('trusts no proxy unless told to', () => {
    expect(loadConfig({ data: join(dir, 'data') }, { SYNCLOG_CONFIG: join(dir, 'none.json') }).http.trustProxy).toBe(false)
  })
})
