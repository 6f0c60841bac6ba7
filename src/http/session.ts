/**
 * Browser sessions: the web page signs in by posting a token, which comes back as
 * an HttpOnly, SameSite=Strict cookie. The cookie is the token itself (the server
 * keeps no session state), so revoking the token ends the session too, and a
 * download link works without the page handling the token. Scripts keep using
 * `Authorization: Bearer`. @fastify/cookie reads and writes the cookie.
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import { meIn, type ApiTokens } from './api-tokens.js'
import type { TimeZones } from '../export/local-time.js'
import { HttpProblem } from './http-errors.js'
import { defineRoute, type RouteDef } from './route-def.js'
import { MeSchema, SessionBody } from './schemas.js'
import { SIGN_IN_BODY_LIMIT } from './server-limits.js'

export const SESSION_COOKIE = 'synclog_session'
/** A browser session lasts a working day; the token itself lasts until revoked. */
const SESSION_SECONDS = 12 * 60 * 60

/** The session cookie (the token itself): HttpOnly, SameSite=Strict, and Secure when the request came over HTTPS. */
function setSessionCookie(request: FastifyRequest, reply: FastifyReply, value: string, maxAge: number): FastifyReply {
  // request.protocol reads X-Forwarded-Proto only from a trusted proxy (http.trustProxy); from anyone else it is the socket's.
  const secure = request.protocol.toLowerCase() === 'https'
  return reply.setCookie(SESSION_COOKIE, value, { path: '/', httpOnly: true, sameSite: 'strict', maxAge, secure })
}

export function sessionRoutes(prefix: string, tokens: ApiTokens, zones: TimeZones): RouteDef[] {
  return [
    defineRoute({
      method: 'POST',
      url: `${prefix}/session`,
      operationId: 'signIn',
      tag: 'tokens',
      auth: false,
      readsStore: false,
      summary: 'Sign a browser in: the token comes back as an HttpOnly, SameSite=Strict session cookie',
      body: SessionBody,
      bodyLimit: SIGN_IN_BODY_LIMIT,
      response: { json: { schema: MeSchema, description: 'The token signed in: its name, scope, role and permissions.' } },
      handler: async ({ body, request, reply }) => {
        const caller = await tokens.authenticate(body.token)
        if (caller === null)
          throw new HttpProblem(401, 'UNAUTHORIZED', 'the API token is unknown or revoked; ask an operator for one (synclog token create)')
        setSessionCookie(request, reply, body.token, SESSION_SECONDS)
        return meIn(caller, zones)
      },
    }),
    defineRoute({
      method: 'DELETE',
      url: `${prefix}/session`,
      operationId: 'signOut',
      tag: 'tokens',
      auth: false,
      readsStore: false,
      summary: 'Sign a browser out: clears the session cookie (the token stays valid until revoked)',
      response: { empty: 'Signed out.' },
      handler: async ({ request, reply }) => setSessionCookie(request, reply, '', 0).code(204).send(),
    }),
  ]
}
