/**
 * Imports that reach a running `synclog serve` without a shell: `POST /api/v1/imports`
 * with a OneRoster zip as the body, and the drop folder of `serve --watch`. The service
 * is the built CLI in a child process; the zips are the demo district's nights; what an
 * import records is checked against `synclog import` of the same zip into a data
 * directory of its own.
 */
import { request as httpRequest } from 'node:http'
import { existsSync } from 'node:fs'
import { cp, lstat, mkdir, open, readFile, readdir, rename, rm, symlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { writeOneRosterBundle } from '../../src/demo/write-oneroster.js'
import { createToken, startServe, type RunningServe } from '../support/browser.js'
import { jsonLines, synclog, tempDir } from '../support/cli.js'
import { demoNights } from '../support/demo-data-set.js'
import { writeZip } from '../support/zip-builder.js'

interface ImportAnswer {
  importId: string
  syncId: string
  tenant: string
  source: string
  name: string
  state: 'queued' | 'running' | 'done' | 'failed'
  startedAt?: string
  finishedAt?: string
  result?: { summary: { status: string; counts: Record<string, unknown> }; rowsWritten: number }
  error?: string
}

const nights = demoNights()
let dir: string
let night1Zip: string
/** What `synclog import night1.zip` records in a data directory of its own. */
let reference: { summary: { status: string; counts: Record<string, unknown> }; rows: string[] }

/** The log rows of a sync, without what differs between two imports of the same bundle (the sync id and its instant). */
async function rowsOf(data: string, syncId: string): Promise<string[]> {
  const run = await synclog(['log', '--sync', syncId, '--format', 'json', '--data', data], { timeoutMs: 60_000 })
  if (run.code !== 0) throw new Error(`synclog log exited with ${run.code}: ${run.stderr}`)
  return jsonLines(run.stdout)
    .map(({ syncId: _syncId, date: _date, ...row }) => JSON.stringify(row))
    .sort()
}

/** A bundle folder as a zip, as an SIS would deliver it. */
async function zipFolder(folder: string, zip: string, drop: readonly string[] = []): Promise<void> {
  const names = (await readdir(folder)).filter((n) => !drop.includes(n)).sort()
  await writeZip(zip, await Promise.all(names.map(async (name) => ({ name, content: await readFile(join(folder, name)) }))))
}

interface Sent {
  status: number
  headers: Record<string, string | string[] | undefined>
  json: Record<string, unknown>
}

/** POST a body with node:http (so an early answer to a large body is read, not lost to a reset). */
function post(
  base: string,
  path: string,
  token: string,
  body: Buffer | (() => AsyncIterable<Buffer>),
  headers: Record<string, string> = {},
): Promise<Sent> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      `${base}${path}`,
      {
        method: 'POST',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/zip',
          ...(Buffer.isBuffer(body) ? { 'content-length': String(body.length) } : {}),
          ...headers,
        },
      },
      (res) => {
        let text = ''
        res.setEncoding('utf8').on('data', (d: string) => (text += d))
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            json: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>),
          }),
        )
        res.on('error', reject)
      },
    )
    // The server may answer and close before the whole body is sent: the answer is what counts.
    req.on('error', (e) => setTimeout(() => reject(e), 2_000))
    if (Buffer.isBuffer(body)) {
      req.end(body)
      return
    }
    void (async () => {
      try {
        for await (const chunk of body()) if (!req.write(chunk)) await new Promise((r) => req.once('drain', r))
        req.end()
      } catch {
        // the server closed the connection
      }
    })()
  })
}

async function getJson<T>(base: string, path: string, token: string): Promise<{ status: number; json: T }> {
  const res = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${token}` } })
  return { status: res.status, json: (await res.json()) as T }
}

/** Polls the import with `?wait=` until it is over. */
async function settled(base: string, importId: string, token: string): Promise<ImportAnswer> {
  for (let i = 0; i < 20; i++) {
    const { status, json } = await getJson<ImportAnswer>(base, `/api/v1/imports/${importId}?wait=10`, token)
    if (status !== 200) throw new Error(`GET /api/v1/imports/${importId} answered ${status}: ${JSON.stringify(json)}`)
    if (json.state === 'done' || json.state === 'failed') return json
  }
  throw new Error(`import ${importId} did not finish in 200 s`)
}

beforeAll(async () => {
  dir = await tempDir('imports')
  await writeOneRosterBundle(join(dir, 'night1'), nights.night1)
  night1Zip = join(dir, 'night1.zip')
  await zipFolder(join(dir, 'night1'), night1Zip)
  const refData = join(dir, 'reference')
  const run = await synclog(['import', night1Zip, '--tenant', 'district-a', '--format', 'json', '--data', refData], { timeoutMs: 120_000 })
  if (run.code !== 0) throw new Error(`synclog import exited with ${run.code}: ${run.stderr}`)
  const summary = JSON.parse(run.stdout) as { syncId: string; status: string; counts: Record<string, unknown> }
  reference = { summary, rows: await rowsOf(refData, summary.syncId) }
}, 240_000)

afterAll(async () => {
  if (dir !== undefined) await rm(dir, { recursive: true, force: true })
})

describe('POST /api/v1/imports', () => {
  let data: string
  let serve: RunningServe | undefined
  let maxBytes: number
  const token = { operator: '', importerA: '', viewerA: '' }

  const uploadsLeft = async (): Promise<string[]> => (existsSync(join(data, 'uploads')) ? readdir(join(data, 'uploads')) : [])

  beforeAll(async () => {
    data = join(dir, 'upload-data')
    maxBytes = (await readFile(night1Zip)).length * 2
    token.operator = await createToken(data, 'ops')
    token.importerA = await createToken(data, 'sis-a', '--tenant', 'district-a', '--role', 'importer')
    token.viewerA = await createToken(data, 'viewer-a', '--tenant', 'district-a')
    // A short request timeout: an upload slower than it must still get through.
    serve = await startServe(data, { args: ['--request-timeout', '2'], env: { SYNCLOG_LIMIT_ZIP_BYTES: String(maxBytes) } })
  }, 120_000)

  afterAll(async () => {
    await serve?.stop()
  })

  it('imports an uploaded zip as the CLI imports it: the sync id at once, the same summary and rows when done', async () => {
    const sent = await post(serve!.base, '/api/v1/imports', token.importerA, await readFile(night1Zip))
    expect(sent.status, JSON.stringify(sent.json)).toBe(202)
    const accepted = sent.json as unknown as ImportAnswer
    expect(accepted.syncId).toMatch(/^district-a\.\d{8}T\d{6}Z\.[0-9a-f]{8}$/)
    expect(sent.headers.location).toBe(`/api/v1/imports/${accepted.importId}`)

    const done = await settled(serve!.base, accepted.importId, token.importerA)
    expect(done.state, done.error).toBe('done')
    expect(done.syncId).toBe(accepted.syncId)
    expect(done.result?.summary.status).toBe(reference.summary.status)
    expect(done.result?.summary.counts).toEqual(reference.summary.counts)
    expect(await rowsOf(data, done.syncId)).toEqual(reference.rows)
    expect(await uploadsLeft()).toEqual([])
  }, 180_000)

  it('takes an upload that is slower than the request timeout but steady', async () => {
    const zip = await readFile(night1Zip)
    const pieces = 20
    const started = Date.now()
    const sent = await post(serve!.base, '/api/v1/imports?tenant=district-slow', token.operator, async function* () {
      for (let i = 0; i < pieces; i++) {
        yield zip.subarray(Math.floor((zip.length * i) / pieces), Math.floor((zip.length * (i + 1)) / pieces))
        await sleep(200)
      }
    })
    expect(Date.now() - started).toBeGreaterThan(3_000)
    expect(sent.status, JSON.stringify(sent.json)).toBe(202)
    const done = await settled(serve!.base, (sent.json as unknown as ImportAnswer).importId, token.operator)
    expect(done.result?.summary.counts).toEqual(reference.summary.counts)
  }, 120_000)

  it('documents the imports in the OpenAPI document: the zip body, 202 and the errors', async () => {
    const doc = (await (await fetch(`${serve!.base}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, { requestBody?: { content: Record<string, unknown> }; responses: Record<string, unknown> }>>
    }
    const create = doc.paths['/api/v1/imports']!.post!
    expect(Object.keys(create.requestBody!.content)).toEqual(['application/zip', 'application/octet-stream'])
    expect(Object.keys(create.responses)).toEqual(expect.arrayContaining(['202', '400', '401', '403', '413', '415']))
    expect(Object.keys(doc.paths['/api/v1/imports/{importId}']!.get!.responses)).toEqual(expect.arrayContaining(['200', '404']))
  })

  it('refuses a viewer with 403, and a tenant importer naming another tenant with 403', async () => {
    const zip = await readFile(night1Zip)
    const viewer = await post(serve!.base, '/api/v1/imports', token.viewerA, zip)
    expect(viewer.status).toBe(403)
    expect(JSON.stringify(viewer.json)).toContain('viewer')
    const other = await post(serve!.base, '/api/v1/imports?tenant=district-b', token.importerA, zip)
    expect(other.status).toBe(403)
    expect(JSON.stringify(other.json)).toContain('district-b')
    expect(await uploadsLeft()).toEqual([])
  })

  it('refuses an upload over the zip size limit with 413 naming the limit, and keeps nothing of it', async () => {
    const declared = await post(serve!.base, '/api/v1/imports?tenant=district-z', token.operator, Buffer.alloc(maxBytes + 1))
    expect(declared.status).toBe(413)
    expect(JSON.stringify(declared.json)).toContain('zipBytes')
    // Without a Content-Length, the stream is cut where it passes the limit.
    const chunked = await post(serve!.base, '/api/v1/imports?tenant=district-z', token.operator, async function* () {
      for (let sent = 0; sent <= maxBytes; sent += 64 * 1024) yield Buffer.alloc(64 * 1024)
    })
    expect(chunked.status).toBe(413)
    expect(await uploadsLeft()).toEqual([])
    const { json } = await getJson<{ syncs: { tenant: string }[] }>(serve!.base, '/api/v1/syncs?tenant=district-z', token.operator)
    expect(json.syncs).toEqual([])
  })

  it('refuses a malformed upload with 400 naming the problem, and keeps nothing of it', async () => {
    const notZip = await post(
      serve!.base,
      '/api/v1/imports?tenant=district-z',
      token.operator,
      Buffer.from('sourcedId,name\n1,not a zip\n'),
    )
    expect(notZip.status).toBe(400)
    expect(JSON.stringify(notZip.json)).toMatch(/the upload.*zip/)

    const noManifest = join(dir, 'no-manifest.zip')
    await zipFolder(join(dir, 'night1'), noManifest, ['manifest.csv'])
    const missing = await post(serve!.base, '/api/v1/imports?tenant=district-z', token.operator, await readFile(noManifest))
    expect(missing.status).toBe(400)
    expect(JSON.stringify(missing.json)).toContain('manifest.csv is missing')

    const badHeader = join(dir, 'bad-header')
    await writeOneRosterBundle(badHeader, nights.night1)
    const users = (await readFile(join(badHeader, 'users.csv'), 'utf8')).split('\n')
    await writeFile(join(badHeader, 'users.csv'), [users[0]!.replace('sourcedId', 'sourced_id'), ...users.slice(1)].join('\n'))
    await zipFolder(badHeader, `${badHeader}.zip`)
    const header = await post(serve!.base, '/api/v1/imports?tenant=district-z', token.operator, await readFile(`${badHeader}.zip`))
    expect(header.status).toBe(400)
    expect(JSON.stringify(header.json)).toContain('users.csv')
    expect(JSON.stringify(header.json)).not.toContain(data)

    expect(await uploadsLeft()).toEqual([])
    const { json } = await getJson<{ syncs: unknown[] }>(serve!.base, '/api/v1/syncs?tenant=district-z', token.operator)
    expect(json.syncs).toEqual([])
  })

  it('imports two uploads sent at once one after the other, each with every row once', async () => {
    const zip = await readFile(night1Zip)
    const [b, c] = await Promise.all(
      ['district-b', 'district-c'].map((tenant) => post(serve!.base, `/api/v1/imports?tenant=${tenant}`, token.operator, zip)),
    )
    expect([b!.status, c!.status]).toEqual([202, 202])
    const [doneB, doneC] = await Promise.all(
      [b!, c!].map((s) => settled(serve!.base, (s.json as unknown as ImportAnswer).importId, token.operator)),
    )
    expect([doneB!.state, doneC!.state]).toEqual(['done', 'done'])
    const [first, second] = [doneB!, doneC!].sort((x, y) => x.startedAt!.localeCompare(y.startedAt!))
    expect(second!.startedAt! >= first!.finishedAt!).toBe(true)
    for (const done of [doneB!, doneC!]) {
      expect(done.result?.summary.counts).toEqual(reference.summary.counts)
      expect(await rowsOf(data, done.syncId)).toEqual(reference.rows)
    }
    // A tenant's token sees its own tenant's imports only.
    const { json } = await getJson<{ imports: ImportAnswer[] }>(serve!.base, '/api/v1/imports', token.importerA)
    expect(new Set(json.imports.map((i) => i.tenant))).toEqual(new Set(['district-a']))
    expect((await getJson(serve!.base, `/api/v1/imports/${doneB!.importId}`, token.importerA)).status).toBe(404)
  }, 240_000)
})

describe('an upload that stalls', () => {
  it('has its connection closed after the idle timeout, and nothing of it is kept', async () => {
    const data = join(dir, 'stall-data')
    const operator = await createToken(data, 'ops')
    const serve = await startServe(data, { env: { SYNCLOG_HTTP_IDLE_TIMEOUT: '1' } })
    try {
      const zip = await readFile(night1Zip)
      const started = Date.now()
      const sent = post(
        serve.base,
        '/api/v1/imports?tenant=district-a',
        operator,
        async function* () {
          yield zip.subarray(0, 1000)
          await sleep(4_000)
          yield zip.subarray(1000)
        },
        { 'content-length': String(zip.length) },
      )
      await expect(sent).rejects.toThrow()
      expect(Date.now() - started).toBeLessThan(8_000)
      expect(existsSync(join(data, 'uploads')) ? await readdir(join(data, 'uploads')) : []).toEqual([])
    } finally {
      await serve.stop()
    }
  }, 120_000)
})

describe('serve --watch: the drop folder', () => {
  let data: string
  let drop: string
  let serve: RunningServe | undefined
  let operator: string

  beforeAll(async () => {
    data = join(dir, 'drop-data')
    drop = join(dir, 'drop')
    await mkdir(join(drop, 'district-a'), { recursive: true })
    operator = await createToken(data, 'ops')
    serve = await startServe(data, { args: ['--watch', drop, '--watch-settle', '1'] })
  }, 120_000)

  afterAll(async () => {
    await serve?.stop()
  })

  const waitFor = async (path: string, ms: number): Promise<void> => {
    for (const end = Date.now() + ms; Date.now() < end; await sleep(200)) if (existsSync(path)) return
    throw new Error(`${path} did not appear within ${ms / 1000} s; the service said: ${serve!.stderr()}`)
  }

  it('imports a zip only once it is completely written, then moves it to done/', async () => {
    const zip = await readFile(night1Zip)
    const target = join(drop, 'district-a', 'nightly.zip')
    // Written in place, slowly, as an SFTP upload is: the first half, then a piece every 300 ms.
    const handle = await open(target, 'w')
    const half = Math.floor(zip.length / 2)
    await handle.write(zip.subarray(0, half))
    const pieces = 10
    for (let i = 0; i < pieces; i++) {
      await sleep(300)
      const from = half + Math.floor(((zip.length - half) * i) / pieces)
      const to = half + Math.floor(((zip.length - half) * (i + 1)) / pieces)
      await handle.write(zip.subarray(from, to))
      expect(existsSync(join(drop, 'district-a', 'failed')), 'a file still being written was taken').toBe(false)
    }
    await handle.close()
    const { json: early } = await getJson<{ imports: ImportAnswer[] }>(serve!.base, '/api/v1/imports', operator)
    expect(early.imports).toEqual([])

    await waitFor(join(drop, 'district-a', 'done', 'nightly.zip'), 120_000)
    expect(existsSync(target)).toBe(false)
    const { json } = await getJson<{ imports: ImportAnswer[] }>(serve!.base, '/api/v1/imports', operator)
    expect(json.imports).toHaveLength(1)
    const done = json.imports[0]!
    expect([done.source, done.name, done.state, done.tenant]).toEqual(['drop-folder', 'nightly.zip', 'done', 'district-a'])
    expect(await rowsOf(data, done.syncId)).toEqual(reference.rows)
  }, 180_000)

  it('moves a broken zip to failed/ with a reason file naming the problem, and leaves .partial files alone', async () => {
    await zipFolder(join(dir, 'night1'), join(drop, 'district-a', 'broken.zip.partial'), ['manifest.csv'])
    await writeFile(join(drop, 'district-a', 'still-uploading.zip.partial'), 'PK')
    await rename(join(drop, 'district-a', 'broken.zip.partial'), join(drop, 'district-a', 'broken.zip'))
    await waitFor(join(drop, 'district-a', 'failed', 'broken.zip.reason.txt'), 60_000)
    expect(existsSync(join(drop, 'district-a', 'failed', 'broken.zip'))).toBe(true)
    const reason = await readFile(join(drop, 'district-a', 'failed', 'broken.zip.reason.txt'), 'utf8')
    expect(reason).toContain('manifest.csv is missing')
    expect(reason).not.toContain(drop)
    await sleep(3_000)
    expect(existsSync(join(drop, 'district-a', 'still-uploading.zip.partial'))).toBe(true)
  }, 90_000)

  it('moves a link pointing outside the folder to failed/ as the link itself, whatever its name', async () => {
    const outside = join(dir, 'outside.zip')
    await writeFile(outside, await readFile(night1Zip))
    const name = 'evil\nname ..zip'
    await symlink(outside, join(drop, 'district-a', name))
    await waitFor(join(drop, 'district-a', 'failed', `${name}.reason.txt`), 60_000)
    expect((await lstat(join(drop, 'district-a', 'failed', name))).isSymbolicLink()).toBe(true)
    expect(await readFile(join(drop, 'district-a', 'failed', `${name}.reason.txt`), 'utf8')).toContain('a symbolic link')
    expect(await readFile(outside)).toEqual(await readFile(night1Zip))
    const { json } = await getJson<{ imports: ImportAnswer[] }>(serve!.base, '/api/v1/imports', operator)
    expect(json.imports.map((i) => i.name)).not.toContain(name)
  }, 90_000)

  it("imports a bundle folder delivered into another tenant's folder as that tenant", async () => {
    await mkdir(join(drop, 'district-b'))
    await cp(join(dir, 'night1'), join(drop, 'district-b', 'night1'), { recursive: true })
    await waitFor(join(drop, 'district-b', 'done', 'night1', 'manifest.csv'), 120_000)
    const { json } = await getJson<{ imports: ImportAnswer[] }>(serve!.base, '/api/v1/imports', operator)
    const done = json.imports.find((i) => i.tenant === 'district-b')!
    expect([done.name, done.state, done.result?.summary.status]).toEqual(['night1', 'done', reference.summary.status])
    expect(await rowsOf(data, done.syncId)).toEqual(reference.rows)
  }, 180_000)

  it('imports nothing again after a restart: what was imported has left the folder', async () => {
    await serve!.stop()
    serve = await startServe(data, { args: ['--watch', drop, '--watch-settle', '1'] })
    await sleep(5_000)
    const { json } = await getJson<{ imports: ImportAnswer[] }>(serve.base, '/api/v1/imports', operator)
    expect(json.imports).toEqual([])
    for (const tenant of ['district-a', 'district-b']) {
      const { json: syncs } = await getJson<{ syncs: unknown[] }>(serve.base, `/api/v1/syncs?tenant=${tenant}`, operator)
      expect(syncs.syncs, tenant).toHaveLength(1)
    }
    expect(existsSync(join(drop, 'district-a', 'still-uploading.zip.partial'))).toBe(true)
  }, 120_000)
})
