/**
 * The web page: `index.html` at `/` and its script and style sheet under `/ui/`,
 * built by `npm run build` into dist/web and sent from disk by @fastify/static.
 * The page talks to this server only: its Content-Security-Policy (set by
 * @fastify/helmet on these routes) allows no other origin.
 */
import { readdirSync } from 'node:fs'
import { extname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import fastifyStatic from '@fastify/static'
import type { FastifyInstance, RawReplyDefaultExpression, RawRequestDefaultExpression, RawServerDefault } from 'fastify'
import { z } from 'zod'
import { ownValue } from '../dict.js'
import type { Logger } from '../logging/logger.js'
import { HttpProblem, quoted } from './http-errors.js'
import { defineRoute, type RouteDef } from './route-def.js'

/** dist/web, from src/http or dist/http alike. */
const WEB_ROOT = fileURLToPath(new URL('../../dist/web/', import.meta.url))

/** The files the page is made of, by extension, and the type each is sent as. */
const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.map': 'application/json',
}

/** Same origin only: no CDN, no font service, no analytics, no inline script. */
const CONTENT_SECURITY_POLICY = {
  useDefaults: false,
  directives: {
    defaultSrc: ["'none'"],
    scriptSrc: ["'self'"],
    styleSrc: ["'self'"],
    imgSrc: ["'self'", 'data:'],
    connectSrc: ["'self'"],
    formAction: ["'self'"],
    frameAncestors: ["'none'"],
    baseUri: ["'none'"],
  },
}

/** The built files, or null when the page was not built (running from a source tree without `npm run build`). */
function builtFiles(root: string): Set<string> | null {
  let names: string[]
  try {
    names = readdirSync(root)
  } catch {
    return null
  }
  const files = new Set(names.filter((name) => ownValue(TYPES, extname(name)) !== undefined))
  return files.has('index.html') ? files : null
}

const AssetParams = z.strictObject({
  file: z.string().min(1, { error: 'must not be blank' }).meta({ description: 'A file of the page: app.js, app.css.' }),
})

/** Lets the page's routes send files from `root` (no cache headers: every answer is `no-store`). */
export async function serveWebFiles(
  app: FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, Logger>,
  root = WEB_ROOT,
): Promise<void> {
  if (builtFiles(root) === null) return
  await app.register(fastifyStatic, { root, serve: false, contentType: false, etag: false, lastModified: false, cacheControl: false })
}

export function webRoutes(root = WEB_ROOT): RouteDef[] {
  const files = builtFiles(root)
  const file = (name: string): { name: string; type: string } => {
    if (files === null) {
      throw new HttpProblem(503, 'UNAVAILABLE', `the web page is not built (no ${join(root, 'index.html')}); run: npm run build`)
    }
    if (!files.has(name)) throw new HttpProblem(404, 'NOT_FOUND', `no file ${quoted(name)} in the web page`)
    return { name, type: ownValue(TYPES, extname(name))! }
  }
  const options = { helmet: { contentSecurityPolicy: CONTENT_SECURITY_POLICY } }
  return [
    defineRoute({
      method: 'GET',
      url: '/',
      operationId: 'webPage',
      tag: 'web page',
      auth: false,
      readsStore: false,
      options,
      summary: 'The web page: sync history, summaries, drill-down and the sync log (signs in with a token)',
      response: { file: { contentType: 'text/html', description: 'The page.' } },
      handler: async ({ reply }) => {
        const page = file('index.html')
        return reply.type(page.type).sendFile(page.name)
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/ui/:file',
      operationId: 'webAsset',
      tag: 'web page',
      auth: false,
      readsStore: false,
      options,
      summary: "The page's script and style sheet",
      params: AssetParams,
      response: { file: { contentType: 'text/javascript', description: 'The file (JavaScript, CSS).' } },
      handler: async ({ params, reply }) => {
        if (params.file === 'index.html') throw new HttpProblem(404, 'NOT_FOUND', 'the page itself is at /')
        const found = file(params.file)
        return reply.type(found.type).sendFile(found.name)
      },
    }),
  ]
}
