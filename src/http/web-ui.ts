/**
 * The web page: `index.html` at `/` and its script and style sheet under `/ui/`,
 * built by `npm run build` into dist/web and read once at start. The page talks
 * to this server only: its Content-Security-Policy allows no other origin.
 */
import { readFileSync, readdirSync } from 'node:fs'
import { extname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { z } from 'zod'
import { ownValue } from '../dict.js'
import { HttpProblem, quoted } from './http-errors.js'
import { defineRoute, type RouteDef } from './route-def.js'

/** dist/web, from src/http or dist/http alike. */
export const WEB_ROOT = fileURLToPath(new URL('../../dist/web/', import.meta.url))

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.map': 'application/json',
}

/** Same origin only: no CDN, no font service, no analytics, no inline script. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:", "connect-src 'self'",
  "form-action 'self'", "frame-ancestors 'none'", "base-uri 'none'",
].join('; ')

interface Asset {
  readonly type: string
  readonly body: Buffer
}

/** The built files, or null when the page was not built (running from a source tree without `npm run build`). */
function loadAssets(root: string): Map<string, Asset> | null {
  let names: string[]
  try {
    names = readdirSync(root)
  } catch {
    return null
  }
  const assets = new Map<string, Asset>()
  for (const name of names) {
    const type = ownValue(TYPES, extname(name))
    if (type !== undefined) assets.set(name, { type, body: readFileSync(join(root, name)) })
  }
  return assets.has('index.html') ? assets : null
}

const AssetParams = z.strictObject({
  file: z.string().min(1, { error: 'must not be blank' }).meta({ description: 'A file of the page: app.js, app.css.' }),
})

export function webRoutes(root = WEB_ROOT): RouteDef[] {
  const assets = loadAssets(root)
  const asset = (name: string): Asset => {
    if (assets === null) {
      throw new HttpProblem(503, 'UNAVAILABLE', `the web page is not built (no ${join(root, 'index.html')}); run: npm run build`)
    }
    const found = name === 'index.html' ? undefined : assets.get(name)
    if (found === undefined) throw new HttpProblem(404, 'NOT_FOUND', `no file ${quoted(name)} in the web page`)
    return found
  }
  return [
    defineRoute({
      method: 'GET', url: '/', operationId: 'webPage', tag: 'web page', auth: false, readsStore: false,
      summary: 'The web page: sync history, summaries, drill-down and the sync log (signs in with a token)',
      response: { file: { contentType: 'text/html', description: 'The page.' } },
      handler: async ({ reply }) => {
        if (assets === null) asset('index.html')
        const page = assets!.get('index.html')!
        return reply.type(page.type).header('content-security-policy', CONTENT_SECURITY_POLICY).send(page.body)
      },
    }),
    defineRoute({
      method: 'GET', url: '/ui/:file', operationId: 'webAsset', tag: 'web page', auth: false, readsStore: false,
      summary: "The page's script and style sheet",
      params: AssetParams,
      response: { file: { contentType: 'text/javascript', description: 'The file (JavaScript, CSS).' } },
      handler: async ({ params, reply }) => {
        const found = asset(params.file)
        return reply.type(found.type).header('content-security-policy', CONTENT_SECURITY_POLICY).send(found.body)
      },
    }),
  ]
}
