/**
 * The HTTP server's settings as an operator writes them (config file, environment,
 * `serve` flags), and the text a token may read of what the server wrote: sync
 * messages with no server path and no OS user, and for a school token no district
 * numbers.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config/config.js'
import { SYNC_STATUSES } from '../../src/events/sync-log-event.js'
import { publicSyncMessage, withoutServerPaths, type ServerIdentity } from '../../src/http/public-text.js'
import { DEFAULT_HTTP_LIMITS, defaultMaxConnections, httpSettingsOf, maxConnectionsAllowed } from '../../src/http/server-limits.js'
import { isProxyAddress, parseTrustProxy } from '../../src/config/trust-proxy.js'
import { Prng } from '../../src/generate/prng.js'

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'synclog-http-settings-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

const noFile = (): Record<string, string> => ({ SYNCLOG_CONFIG: join(dir, 'absent.json') })

describe('the HTTP settings', () => {
  it('default to bounded timeouts, no trusted proxy and a connection limit sized from the open-file limit', () => {
    const config = loadConfig({ data: dir }, noFile())
    const settings = httpSettingsOf(config, undefined)
    expect(settings.limits).toEqual(DEFAULT_HTTP_LIMITS)
    expect(settings.trustProxy).toBe(false)
    for (let files = 64; files < 2_000_000; files = Math.ceil(files * 1.37)) {
      const limit = defaultMaxConnections(files)
      expect(limit, String(files)).toBeLessThanOrEqual(maxConnectionsAllowed(files)!)
      expect(limit).toBeGreaterThanOrEqual(16)
      expect(limit).toBeLessThanOrEqual(1024)
      if (files >= 2 * 16 + 256) expect(limit * 2 + 256).toBeLessThanOrEqual(files)
    }
  })

  it('are read from the config file, then the environment, then the flags', async () => {
    const file = join(dir, 'synclog.config.json')
    await writeFile(
      file,
      JSON.stringify({
        http: {
          headersTimeoutSeconds: 4,
          requestTimeoutSeconds: 9,
          idleTimeoutSeconds: 3,
          keepAliveTimeoutSeconds: 2,
          maxConnections: 77,
          trustProxy: ['10.0.0.0/8'],
        },
      }),
    )
    const fromFile = httpSettingsOf(loadConfig({ data: dir, config: file }, {}), undefined)
    expect(fromFile).toEqual({
      limits: { headersTimeoutMs: 4000, requestTimeoutMs: 9000, idleTimeoutMs: 3000, keepAliveTimeoutMs: 2000, maxConnections: 77 },
      trustProxy: ['10.0.0.0/8'],
    })
    const env = { SYNCLOG_HTTP_REQUEST_TIMEOUT: '12.5', SYNCLOG_HTTP_MAX_CONNECTIONS: '88', SYNCLOG_TRUST_PROXY: '127.0.0.1, ::1' }
    const fromEnv = httpSettingsOf(loadConfig({ data: dir, config: file }, env), undefined)
    expect(fromEnv.limits).toMatchObject({ requestTimeoutMs: 12_500, maxConnections: 88 })
    expect(fromEnv.trustProxy).toEqual(['127.0.0.1', '::1'])
    const fromFlags = httpSettingsOf(
      loadConfig({ data: dir, config: file, requestTimeout: '2', maxConnections: '5', trustProxy: 'false' }, env),
      undefined,
    )
    expect(fromFlags.limits).toMatchObject({ requestTimeoutMs: 2000, headersTimeoutMs: 2000, maxConnections: 5 })
    expect(fromFlags.trustProxy).toBe(false)
  })

  it('refuse every value that is not a timeout or a connection count, naming the key', () => {
    const bad = ['0', '-1', 'abc', '1e9', 'NaN', '', ' ']
    for (const value of bad) {
      for (const [env, key] of [
        ['SYNCLOG_HTTP_REQUEST_TIMEOUT', 'http.requestTimeoutSeconds'],
        ['SYNCLOG_HTTP_HEADERS_TIMEOUT', 'http.headersTimeoutSeconds'],
        ['SYNCLOG_HTTP_IDLE_TIMEOUT', 'http.idleTimeoutSeconds'],
        ['SYNCLOG_HTTP_MAX_CONNECTIONS', 'http.maxConnections'],
      ] as const) {
        if (value === '' && env === 'SYNCLOG_HTTP_MAX_CONNECTIONS') continue
        expect(() => loadConfig({ data: dir }, { ...noFile(), [env]: value }), `${env}=${value}`).toThrow(key)
      }
    }
  })
})

describe('the trusted proxies', () => {
  it('accept addresses, CIDR ranges and the named ranges, from a list or a comma-separated text', () => {
    const prng = new Prng('proxies')
    const good: string[] = ['loopback', 'linklocal', 'uniquelocal', '::1', 'fd00::/8', '::ffff:10.0.0.1']
    for (let i = 0; i < 300; i++) {
      const v4 = Array.from({ length: 4 }, () => prng.below(256)).join('.')
      good.push(prng.chance(0.5) ? v4 : `${v4}/${prng.below(33)}`)
      const v6 = Array.from({ length: 8 }, () => prng.below(65_536).toString(16)).join(':')
      good.push(prng.chance(0.5) ? v6 : `${v6}/${prng.below(129)}`)
    }
    for (const entry of good) expect(isProxyAddress(entry), entry).toBe(true)
    expect(parseTrustProxy(good.join(','))).toEqual(good)
    expect(parseTrustProxy(good)).toEqual(good)
  })

  it('refuse true, hop counts and anything that is not an address, saying what to give instead', () => {
    expect(() => parseTrustProxy(true)).toThrow(/believe every client/)
    expect(() => parseTrustProxy('true')).toThrow(/believe every client/)
    for (const hops of [1, 2, '1', '3', 99])
      expect(() => parseTrustProxy(hops), String(hops)).toThrow(/hop count .* cannot tell a proxy from a client/)
    const prng = new Prng('not-proxies')
    const bad = [
      '256.0.0.1',
      '10.0.0.0/33',
      '::1/129',
      '10.0.0',
      'localhost',
      'proxy.example',
      '10.0.0.1/',
      '/8',
      '10.0.0.1/a',
      '*',
      'all',
      '0x7f.0.0.1',
    ]
    for (let i = 0; i < 200; i++) bad.push(`${prng.below(1000)}.${prng.below(1000)}.${prng.below(1000)}.${256 + prng.below(1000)}`)
    for (const entry of bad) {
      expect(isProxyAddress(entry), entry).toBe(false)
      expect(() => parseTrustProxy(`127.0.0.1,${entry}`), entry).toThrow('is not an IP address')
      expect(() => loadConfig({ data: dir }, { ...noFile(), SYNCLOG_TRUST_PROXY: entry }), entry).toThrow('http.trustProxy')
    }
    for (const off of [undefined, null, false, '', 'false', 0, '0']) expect(parseTrustProxy(off)).toBe(false)
  })
})

const identity: ServerIdentity = { directories: ['/var/lib/synclog', '/home/dana'], userName: 'dana' }

describe('sync messages as tokens read them', () => {
  it('cut every absolute path to its last segment, and name no server directory or user', () => {
    const prng = new Prng('paths')
    const segment = (): string => prng.pick(['exports', 'night1', 'sis', 'dana', 'data dir', 'a.b', 'x_y-z', '2024', 'ÉCOLE', 'bundle.zip'])
    for (let i = 0; i < 400; i++) {
      const parts = Array.from({ length: 1 + prng.below(5) }, segment).filter((p) => !p.includes(' '))
      const file = prng.pick(['night2.zip', 'users.csv', 'bundle', 'events.ndjson'])
      const root = prng.pick(['/', '/home/dana/', '/var/lib/synclog/', '/tmp/', '~/', 'C:\\Users\\dana\\', 'D:\\sis\\'])
      const sep = root.includes('\\') ? '\\' : '/'
      const path = `${root}${parts.join(sep)}${parts.length > 0 ? sep : ''}${file}`
      const message = prng.pick([
        `cannot read the bundle ${path}: ENOENT`,
        `cannot open the bundle ${path}: EACCES: permission denied, open '${path}'`,
        `the zip ${path} holds users.csv more than once`,
        `(${path}) failed`,
        `${path}`,
      ])
      const shown = withoutServerPaths(message, identity)
      expect(shown, message).not.toMatch(/\/home|\/var\/lib|\/tmp\/|C:\\|D:\\|~\//)
      expect(shown, message).not.toMatch(/(^|[^A-Za-z])dana([^A-Za-z]|$)/)
      expect(shown.includes(file) || shown.includes('a server path'), `${message} → ${shown}`).toBe(true)
    }
  })

  it('leave text without paths as it was', () => {
    for (const text of [
      'sync 2024-09-01T02:00:00Z/abc of this tenant is On Hold: approve or reject it first',
      'would delete 12 of 400 user records (3.0% > 1%)',
      'see https://example.org/x/y',
      'a/b and 3/4',
      'approved by Dana (IT)',
      'users.csv line 4: too many columns',
    ]) {
      expect(withoutServerPaths(text, identity)).toBe(text)
    }
  })

  it('tell a school token what happened in words with no number, path or name, and others who decided only by a chosen name', () => {
    const school = { tenant: 'd', school: { id: 's', side: 'either' as const } }
    const messages = [
      'would delete 865 of 4080 user records (21.2% > 10%)',
      'cannot read the bundle /home/dana/x.zip: ENOENT',
      'approved by dana',
      'rejected by Dana (IT)',
    ]
    for (const status of SYNC_STATUSES) {
      for (const message of messages) {
        const shown = publicSyncMessage({ status, message }, school, identity)
        expect(shown, `${status}: ${message}`).not.toMatch(/\d|\/|dana|Dana/)
      }
      expect(publicSyncMessage({ status, message: '' }, school, identity)).toBe('')
    }
    expect(publicSyncMessage({ status: 'Completed', message: 'approved by dana' }, { tenant: 'd' }, identity)).toBe(
      'approved by an operator',
    )
    expect(publicSyncMessage({ status: 'Rejected', message: 'rejected by Dana (IT)' }, {}, identity)).toBe('rejected by Dana (IT)')
    expect(publicSyncMessage({ status: 'On Hold', message: messages[0]! }, { tenant: 'd' }, identity)).toBe(messages[0])
  })
})
