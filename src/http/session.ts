/**
 * Browser sessions: the web page signs in by posting a token, which comes back as
 * an HttpOnly, SameSite=Strict cookie. The cookie is the token itself (the server
 * keeps no session state), so revoking the token ends the session too, and a
 * download link works without the page handling the token. Scripts keep using
 * `Authorization: Bearer`.
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import { meOf, type ApiTokens } from './api-tokens.js'
import { HttpProblem } from './http-errors.js'
import { defineRoute, type RouteDef } from './route-def.js'
import { MeSchema, SessionBody } from './schemas.js'
import { SIGN_IN_BODY_LIMIT } from './server-limits.js'

export const SESSION_COOKIE = 'synclog_session'
/** A browser session lasts a working day; the token itself lasts until revoked. */
const SESSION_SECONDS = 12 * 60 * 60

/** The session cookie's value, if the request carries one. */
export function sessionToken(request: FastifyRequest): string | undefined {
  const header = request.headers.cookie
  if (header === undefined) return undefined
  for (const part of header.split(';')) {
    const eq = part.indexOf('=')
    if (eq > 0 && part.slice(0, eq).trim() === SESSION_COOKIE) return part.slice(eq + 1).trim()
  }
  return undefined
}

function cookie(request: FastifyRequest, value: string, maxAge: number): string {
  // request.protocol reads X-Forwarded-Proto only from a trusted proxy (http.trustProxy); from anyone else it is the socket's.
  const secure = request.protocol.toLowerCase() === 'https' ? '; Secure' : ''
  return `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAge}${secure}`
}

export function sessionRoutes(prefix: string, tokens: ApiTokens): RouteDef[] {
  return [
    defineRoute({
      method: 'POST', url: `${prefix}/session`, operationId: 'signIn', tag: 'tokens', auth: false, readsStore: false,
      summary: 'Sign a browser in: the token comes back as an HttpOnly, SameSite=Strict session cookie',
      body: SessionBody, bodyLimit: SIGN_IN_BODY_LIMIT,
      response: { json: { schema: MeSchema, description: 'The token signed in: its name, scope, role and permissions.' } },
      handler: async ({ body, request, reply }) => {
        const caller = await tokens.authenticate(body.token)
        if (caller === null) throw new HttpProblem(401, 'UNAUTHORIZED', 'the API token is unknown or revoked; ask an operator for one (synclog token create)')
        void (reply as FastifyReply).header('set-cookie', cookie(request, body.token, SESSION_SECONDS))
        return meOf(caller)
      },
    }),
    defineRoute({
      method: 'DELETE', url: `${prefix}/session`, operationId: 'signOut', tag: 'tokens', auth: false, readsStore: false,
      summary: 'Sign a browser out: clears the session cookie (the token stays valid until revoked)',
      response: { empty: 'Signed out.' },
      handler: async ({ request, reply }) => reply.header('set-cookie', cookie(request, '', 0)).code(204).send(),
    }),
  ]
}
