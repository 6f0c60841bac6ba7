/** Who is signed in: the token's name and scope, as GET /api/v1/me answers. */
import type { Me } from './api.js'

export interface Session {
  readonly me: Me
}
