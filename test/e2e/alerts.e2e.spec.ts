/**
 * Alerts on sync status: webhooks configured per tenant, delivered to real HTTP receivers
 * this test starts (node:http), signed, retried with backoff, and recorded in the delivery
 * log that `synclog alerts` and `GET /api/v1/alerts/deliveries` read. The imports are the
 * built CLI's, one process each: a one-shot import delivers before it exits.
 *
 * district-a: night 1 Completed (not a configured status: no alert), night 2 drops one of
 * its two enrollments (On Hold), night 3 is refused while night 2 waits (Failed).
 * district-b: one night with an enrollment of an unknown class (Completed with Errors),
 * to a receiver that answers 500 twice, then 200. district-c: the same night, to a
 * receiver that never answers.
 */
import { rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { synclog, tempDir } from '../support/cli.js'
import { createToken, startServe, type RunningServe } from '../support/browser.js'
import { startReceiver, verifies, type Receiver, type Received } from '../support/webhook-receiver.js'
import { ENROLLMENTS, csv, district11, writeFolder, type BundleFiles } from '../fixtures/oneroster/bundles.js'

const SECRET_A = 'secret-of-district-a'
const SECRET_B = 'secret-of-district-b'
const PUBLIC_URL = 'https://synclog.example.org'

/** Night 1 without the student's enrollment e2: over night 1, a full sync deleting 1 of 2 enrollments (50 % > 10 %). */
const withoutE2: BundleFiles = {
  ...district11(),
  'enrollments.csv': ENROLLMENTS.split('\n')
    .filter((l) => !l.startsWith('e2,'))
    .join('\n'),
}
/** Night 1 with an enrollment of a class no file has: that enrollment is Skipped. */
const withUnknownClass: BundleFiles = {
  ...district11(),
  'enrollments.csv': `${ENROLLMENTS}${csv('e3,,,k-missing,sch1,u-s1,student,false,2024-08-20,')}`,
}

/** What district11 holds, counted from its files: every record New on a first import. */
const FIRST_NIGHT_TOTALS: Record<string, number> = { org: 2, academicSession: 2, course: 1, class: 1, user: 2, enrollment: 2 }

let dir = ''
let data = ''
let ok: Receiver
let flaky: Receiver
let silent: Receiver
const syncs: Record<string, string> = {}
let serve: RunningServe | undefined

async function importNight(name: string, files: BundleFiles, tenant: string): Promise<{ code: number | null; syncId: string }> {
  const folder = await writeFolder(join(dir, `${tenant}-${name}`), files)
  const run = await synclog(['import', folder, '--tenant', tenant, '--format', 'json', '--data', data], {
    timeoutMs: 120_000,
    env: { SYNCLOG_TEST_HOOK_SECRET: SECRET_B },
  })
  if (run.code !== 0 && run.code !== 2 && run.code !== 3)
    throw new Error(`import ${name} --tenant ${tenant} exited with ${run.code}: ${run.stderr}`)
  return { code: run.code, syncId: String((JSON.parse(run.stdout) as { syncId: string }).syncId) }
}

/** What a receiver got, one request per delivery id, as a receiver dedupes (an answer slower than the timeout is sent again). */
function deliveries(r: Receiver): Received[] {
  const seen = new Set<unknown>()
  return r.received.filter((x) => !seen.has(x.headers['x-synclog-delivery']) && seen.add(x.headers['x-synclog-delivery']))
}

function bodies(r: Receiver): Record<string, unknown>[] {
  return deliveries(r).map((x) => JSON.parse(x.body) as Record<string, unknown>)
}

beforeAll(async () => {
  dir = await tempDir('alerts')
  data = join(dir, 'data')
  ok = await startReceiver(() => 204)
  flaky = await startReceiver((n) => (n <= 2 ? 500 : 200))
  silent = await startReceiver(() => null)
  await writeFolder(data, {})
  await writeFile(
    join(data, 'synclog.config.json'),
    JSON.stringify({
      publicUrl: `${PUBLIC_URL}/`,
      alerts: {
        'district-a': [{ url: ok.url, secret: SECRET_A }],
        'district-b': [{ url: flaky.url, secretEnv: 'SYNCLOG_TEST_HOOK_SECRET', statuses: ['Completed with Errors'] }],
        'district-c': [{ url: silent.url, secret: 'secret-of-district-c' }],
      },
      alertDelivery: { attempts: 3, firstRetrySeconds: 0.05, maxRetrySeconds: 0.2, timeoutSeconds: 3, exitWaitSeconds: 30 },
    }),
  )
  const a1 = await importNight('night1', district11(), 'district-a')
  expect(a1.code, 'night 1 completes').toBe(0)
  syncs['a1'] = a1.syncId
  const a2 = await importNight('night2', withoutE2, 'district-a')
  expect(a2.code, 'night 2 goes On Hold').toBe(3)
  syncs['a2'] = a2.syncId
  const a3 = await importNight('night3', district11(), 'district-a')
  expect(a3.code, 'night 3 fails while night 2 waits').toBe(2)
  syncs['a3'] = a3.syncId
  syncs['b1'] = (await importNight('night1', withUnknownClass, 'district-b')).syncId
  syncs['c1'] = (await importNight('night1', withUnknownClass, 'district-c')).syncId
}, 300_000)

afterAll(async () => {
  if (serve !== undefined) await serve.stop()
  await Promise.all([ok?.close(), flaky?.close(), silent?.close()])
  if (dir !== '') await rm(dir, { recursive: true, force: true })
}, 60_000)

describe('webhooks on sync status', () => {
  it('sends nothing for a status the webhook did not ask for, and one signed delivery per held and failed sync', () => {
    const sent = bodies(ok)
    expect(sent.map((b) => [b['syncId'], b['status']])).toEqual([
      [syncs['a2'], 'On Hold'],
      [syncs['a3'], 'Failed'],
    ])
    for (const x of deliveries(ok)) {
      expect(x.headers['content-type']).toBe('application/json')
      expect(verifies(x, SECRET_A), 'the signature verifies with the secret').toBe(true)
      expect(verifies(x, 'another secret')).toBe(false)
      expect(x.headers['x-synclog-delivery']).toBe((JSON.parse(x.body) as { deliveryId: string }).deliveryId)
    }
  })

  it("describes the held sync: its counts as the files give them, no end time, and a link to the page's view of it", () => {
    const held = bodies(ok)[0]!
    expect(held).toMatchObject({
      event: 'sync.status',
      tenant: 'district-a',
      syncId: syncs['a2'],
      app: 'oneroster-csv',
      status: 'On Hold',
      previousStatus: 'Running',
      endedAt: null,
      errors: 0,
      link: `${PUBLIC_URL}/#/syncs?open=${encodeURIComponent(syncs['a2']!)}`,
    })
    expect(String(held['message'])).toMatch(/would delete 1 of 2/)
    const counts = held['counts'] as Record<string, { total: number; deleted: number; noChange: number }>
    // Night 2 has every record of night 1 but enrollment e2: all unchanged, e2 deleted.
    for (const [entity, total] of Object.entries(FIRST_NIGHT_TOTALS)) {
      const deleted = entity === 'enrollment' ? 1 : 0
      expect(counts[entity], entity).toMatchObject({ deleted, noChange: total - deleted })
    }
    const failed = bodies(ok)[1]!
    expect(failed).toMatchObject({ status: 'Failed', syncId: syncs['a3'] })
    expect(typeof failed['endedAt']).toBe('string')
  })

  it('retries a receiver that answers 500 with the same delivery id and body, and stops once it answers 200', () => {
    expect(flaky.received).toHaveLength(3)
    const ids = new Set(flaky.received.map((x) => x.headers['x-synclog-delivery']))
    expect(ids.size).toBe(1)
    expect(new Set(flaky.received.map((x) => x.body)).size).toBe(1)
    for (const x of flaky.received) expect(verifies(x, SECRET_B), 'signed with the secret from the environment').toBe(true)
    const body = bodies(flaky)[0]!
    expect(body).toMatchObject({ status: 'Completed with Errors', syncId: syncs['b1'], errors: 1 })
    // The first night's records plus enrollment e3 of an unknown class, which is Skipped.
    const counts = body['counts'] as Record<string, { total: number; new: number; skipped: number }>
    for (const [entity, total] of Object.entries(FIRST_NIGHT_TOTALS)) {
      const skipped = entity === 'enrollment' ? 1 : 0
      expect(counts[entity], entity).toMatchObject({ total: total + skipped, new: total, skipped })
    }
  })

  it('gives up on a receiver that never answers after the configured attempts', () => {
    expect(silent.received).toHaveLength(3)
    expect(new Set(silent.received.map((x) => x.headers['x-synclog-delivery'])).size).toBe(1)
  })
})

interface Attempt {
  deliveryId: string
  tenant: string
  syncId: string
  status: string
  url: string
  attempt: number
  outcome: string
  httpStatus: number | null
  error: string
}

describe('the delivery log', () => {
  it('lists every attempt on the command line, newest first, without the URL query', async () => {
    const run = await synclog(['alerts', '--tenant', 'district-b', '--format', 'json', '--data', data])
    expect(run.code, run.stderr).toBe(0)
    const attempts = JSON.parse(run.stdout) as Attempt[]
    expect(attempts.map((a) => [a.attempt, a.outcome, a.httpStatus])).toEqual([
      [3, 'delivered', 200],
      [2, 'retrying', 500],
      [1, 'retrying', 500],
    ])
    expect(attempts[0]).toMatchObject({ tenant: 'district-b', syncId: syncs['b1'], status: 'Completed with Errors', error: '' })
    expect(attempts[0]!.url).toBe(flaky.url.replace(/\?.*$/, ''))
    expect(run.stdout).not.toContain('query-secret')

    const silentRun = await synclog(['alerts', '--sync', syncs['c1']!, '--format', 'json', '--data', data])
    const silentAttempts = JSON.parse(silentRun.stdout) as Attempt[]
    expect(silentAttempts.map((a) => [a.attempt, a.outcome, a.httpStatus])).toEqual([
      [3, 'failed', null],
      [2, 'retrying', null],
      [1, 'retrying', null],
    ])
    expect(silentAttempts[0]!.error).toMatch(/no answer within 3 s/)

    const table = await synclog(['alerts', '--data', data])
    expect(table.code, table.stderr).toBe(0)
    expect(table.stdout).toMatch(/Outcome/)
    expect(table.stdout).not.toContain('secret')
  }, 120_000)

  it("serves the attempts of the token's tenant only, and not to a school's token", async () => {
    serve = await startServe(data, { env: { SYNCLOG_TEST_HOOK_SECRET: SECRET_B } })
    const tokenB = await createToken(data, 'district-b', '--tenant', 'district-b')
    const tokenA = await createToken(data, 'district-a', '--tenant', 'district-a')
    const school = await createToken(data, 'school-b', '--tenant', 'district-b', '--school', 'sch1')
    const get = (token: string, query = ''): Promise<Response> =>
      fetch(`${serve!.base}/api/v1/alerts/deliveries${query}`, { headers: { authorization: `Bearer ${token}` } })

    const b = (await (await get(tokenB)).json()) as { deliveries: Attempt[] }
    expect(b.deliveries.map((a) => [a.tenant, a.attempt, a.outcome])).toEqual([
      ['district-b', 3, 'delivered'],
      ['district-b', 2, 'retrying'],
      ['district-b', 1, 'retrying'],
    ])
    const aAsksForB = (await (await get(tokenA, '?tenant=district-b')).json()) as { deliveries: Attempt[] }
    expect(aAsksForB.deliveries).toEqual([])
    const a = (await (await get(tokenA)).json()) as { deliveries: Attempt[] }
    expect(new Set(a.deliveries.map((x) => x.syncId))).toEqual(new Set([syncs['a2'], syncs['a3']]))
    expect((await get(school)).status).toBe(403)
    expect((await fetch(`${serve.base}/api/v1/alerts/deliveries`)).status).toBe(401)
    const doc = (await (await fetch(`${serve.base}/openapi.json`)).json()) as { paths: Record<string, { get?: { responses: object } }> }
    expect(Object.keys(doc.paths['/api/v1/alerts/deliveries']?.get?.responses ?? {})).toEqual(
      expect.arrayContaining(['200', '400', '401', '403']),
    )
  }, 120_000)

  it('delivers from the service a status written through it, with the same signature', async () => {
    expect(serve, 'started by the test before').toBeDefined()
    const before = flaky.received.length
    const night = await importNight('night2', withUnknownClass, 'district-b')
    // The import ran inside the service: its delivery is the service's, in the background.
    const deadline = Date.now() + 30_000
    while (flaky.received.length === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100))
    const last = flaky.received.at(-1)!
    expect(JSON.parse(last.body)).toMatchObject({ syncId: night.syncId, tenant: 'district-b' })
    expect(verifies(last, SECRET_B)).toBe(true)
  }, 120_000)
})

describe('synclog alerts test', () => {
  it("sends one signed test delivery to each of the tenant's webhooks and says how each answered", async () => {
    const before = ok.received.length
    const run = await synclog(['alerts', 'test', 'district-a', '--data', data])
    expect(run.code, run.stderr).toBe(0)
    expect(run.stdout).toMatch(/^delivered to http:\/\/127\.0\.0\.1:\d+\/hooks\/synclog: 204 in \d+ ms$/m)
    expect(ok.received).toHaveLength(before + 1)
    const sent = ok.received.at(-1)!
    expect(JSON.parse(sent.body)).toMatchObject({ event: 'alert.test', tenant: 'district-a' })
    expect(verifies(sent, SECRET_A)).toBe(true)

    const unanswered = await synclog(['alerts', 'test', 'district-c', '--data', data])
    expect(unanswered.code).toBe(1)
    expect(unanswered.stdout).toMatch(/not delivered to .*: no answer within 3 s/)
    const none = await synclog(['alerts', 'test', 'district-z', '--data', data])
    expect(none.code).toBe(1)
    expect(none.stderr).toMatch(/no webhooks are configured for tenant 'district-z'; add them under alerts\.district-z/)
  }, 120_000)
})

describe('a delivery left unfinished', () => {
  it('is resumed, with the same id and body, by the next process that opens the store to write', async () => {
    const own = await tempDir('alerts-resume')
    let up = false
    const receiver = await startReceiver(() => (up ? 200 : 503))
    let service: RunningServe | undefined
    try {
      const ownData = join(own, 'data')
      await writeFolder(ownData, {})
      await writeFile(
        join(ownData, 'synclog.config.json'),
        JSON.stringify({
          alerts: { 'district-r': [{ url: receiver.url, secret: 'secret-r', statuses: ['Completed'] }] },
          // The import waits 1 s at exit: its first attempt is answered 503, its retry is up to 30 s away.
          alertDelivery: { attempts: 4, firstRetrySeconds: 30, maxRetrySeconds: 30, timeoutSeconds: 2, exitWaitSeconds: 1 },
        }),
      )
      const folder = await writeFolder(join(own, 'night1'), district11())
      const imported = await synclog(['import', folder, '--tenant', 'district-r', '--format', 'json', '--data', ownData], {
        timeoutMs: 120_000,
      })
      expect(imported.code, imported.stderr).toBe(0)
      const syncId = (JSON.parse(imported.stdout) as { syncId: string }).syncId
      const left = JSON.parse((await synclog(['alerts', '--format', 'json', '--data', ownData])).stdout) as Attempt[]
      expect(left[0]).toMatchObject({ syncId, outcome: 'retrying', httpStatus: 503 })
      const tried = receiver.received.length

      up = true
      service = await startServe(ownData)
      const deadline = Date.now() + 30_000
      while (receiver.received.length === tried && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100))
      expect(receiver.received).toHaveLength(tried + 1)
      const [first, resumed] = [receiver.received[0]!, receiver.received.at(-1)!]
      expect(resumed.headers['x-synclog-delivery']).toBe(first.headers['x-synclog-delivery'])
      expect(resumed.body).toBe(first.body)
      expect(verifies(resumed, 'secret-r')).toBe(true)
      const token = await createToken(ownData, 'ops')
      const logged = (await (
        await fetch(`${service.base}/api/v1/alerts/deliveries`, { headers: { authorization: `Bearer ${token}` } })
      ).json()) as { deliveries: Attempt[] }
      expect(logged.deliveries[0]).toMatchObject({ syncId, attempt: tried + 1, outcome: 'delivered', httpStatus: 200 })
    } finally {
      await service?.stop()
      await receiver.close()
      await rm(own, { recursive: true, force: true })
    }
  }, 180_000)
})
