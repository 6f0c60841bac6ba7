/**
 * Scoped API tokens of the HTTP API, kept in `<dataDir>/api-tokens.json` (mode 0600).
 *
 * Only a SHA-256 hash of each token is stored: a token is 32 random bytes, so a
 * plain hash is as strong as a slow one would be, and a stolen file grants nothing.
 * The plain token is shown once, when it is created. The server re-reads the file
 * when it changes, so `token create` and `token revoke` apply without a restart.
 *
 * A token has a scope (which rows it sees: every tenant, one tenant, one school) and a
 * role (what it may do with them): a viewer reads; a reviewer also approves and rejects
 * syncs On Hold; an importer also imports; an operator does all of that, and, with the
 * every-tenant scope, runs analysts' SQL. Tokens written before roles existed keep what
 * they could do: operator with the every-tenant scope, viewer otherwise.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import { readFile, stat } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { z } from 'zod'
import { checkScope } from '../clickhouse/scope.js'
import { SCOPE_SIDES, type Scope } from '../clickhouse/types.js'
import type { TimeZones, TimeZonesJson } from '../export/local-time.js'
import { SynclogError } from '../errors.js'
import { makeDirectory } from '../paths/make-directory.js'
import { replaceFile } from '../paths/replace-file.js'
import { LockFile } from '../state/data-dir-lock.js'

export const TOKEN_FILE_NAME = 'api-tokens.json'
export const TOKEN_PREFIX = 'slk_'
const TOKEN_SHAPE = /^slk_[A-Za-z0-9_-]{43}$/
export const TOKEN_NAME_SHAPE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/

export const TOKEN_ROLES = ['viewer', 'reviewer', 'importer', 'operator'] as const
export type TokenRole = (typeof TOKEN_ROLES)[number]

/** What a request may do beyond reading, and the roles that may. */
export const PERMISSIONS = ['review', 'import', 'sql'] as const
export type Permission = (typeof PERMISSIONS)[number]

const ROLES_ALLOWED: Readonly<Record<Permission, readonly TokenRole[]>> = {
  review: ['reviewer', 'operator'],
  import: ['importer', 'operator'],
  sql: ['operator'],
}

/** What a token grants, without its secret. */
export interface ApiTokenInfo {
  readonly name: string
  readonly scope: Scope
  readonly role: TokenRole
  /** ISO instant. */
  readonly createdAt: string
}

const ScopeOnDisk = z.strictObject({
  tenant: z.string().min(1).optional(),
  school: z.strictObject({ id: z.string().min(1), side: z.enum(SCOPE_SIDES) }).optional(),
})

const TokenFileSchema = z.strictObject({
  version: z.literal(1),
  tokens: z.array(
    z.strictObject({
      name: z.string().regex(TOKEN_NAME_SHAPE),
      hash: z.string().regex(/^sha256:[0-9a-f]{64}$/),
      scope: ScopeOnDisk,
      role: z.enum(TOKEN_ROLES).optional(),
      createdAt: z.string(),
    }),
  ),
})

type TokenFile = z.infer<typeof TokenFileSchema>
type StoredToken = TokenFile['tokens'][number]

interface LoadedToken {
  readonly info: ApiTokenInfo
  readonly digest: Buffer
}

function digestOf(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest()
}

function infoOf(t: StoredToken): ApiTokenInfo {
  const scope: Scope = {}
  if (t.scope.tenant !== undefined) scope.tenant = t.scope.tenant
  if (t.scope.school !== undefined) scope.school = { id: t.scope.school.id, side: t.scope.school.side }
  return { name: t.name, scope, role: t.role ?? defaultRole(scope), createdAt: t.createdAt }
}

/** The role a token gets when none is given (and had before roles existed): operator for the every-tenant scope, else viewer. */
export function defaultRole(scope: Scope): TokenRole {
  return scope.tenant === undefined ? 'operator' : 'viewer'
}

/**
 * Whether the token may do this. SQL also needs the every-tenant scope: the embedded store
 * cannot hold a tenant's scope on arbitrary SQL. Review needs a scope wider than one school:
 * a hold is about the district's changes, which a school token does not see.
 */
export function allows(token: ApiTokenInfo, permission: Permission): boolean {
  if (!ROLES_ALLOWED[permission].includes(token.role)) return false
  if (permission === 'sql') return token.scope.tenant === undefined
  if (permission === 'review') return token.scope.school === undefined
  return true
}

/** The token as `GET /api/v1/me` answers: what it is and what it may do beyond reading (the page shows its buttons by these). */
export function meOf(token: ApiTokenInfo): ApiTokenInfo & { readonly permissions: Permission[] } {
  return {
    name: token.name,
    scope: token.scope,
    role: token.role,
    permissions: PERMISSIONS.filter((p) => allows(token, p)),
    createdAt: token.createdAt,
  }
}

/** What `GET /api/v1/me` and signing in answer: the token, and the time zones of the tenants it may see (the page shows times in them). */
export function meIn(token: ApiTokenInfo, zones: TimeZones): ReturnType<typeof meOf> & { readonly timeZones: TimeZonesJson } {
  return { ...meOf(token), timeZones: zones.toJson(token.scope.tenant) }
}

/** Why a token may not do this, in words for the 403 answer and the CLI. */
export function refusal(token: ApiTokenInfo, permission: Permission): string {
  const roles = ROLES_ALLOWED[permission].join(' or ')
  const what = permission === 'review' ? 'approve or reject syncs' : permission === 'import' ? 'import' : 'run SQL'
  if (permission === 'review' && ROLES_ALLOWED.review.includes(token.role)) {
    return `token '${token.name}' is scoped to one school and may not ${what}: a hold is about the district's changes; that needs a ${roles} token of the district (synclog token create --tenant <district> --role reviewer)`
  }
  if (permission === 'sql' && ROLES_ALLOWED.sql.includes(token.role)) {
    return `token '${token.name}' may not ${what}: SQL needs a token of every tenant (the embedded store cannot hold a tenant's scope on arbitrary SQL); use the API or synclog log for scoped reads`
  }
  return `token '${token.name}' is a ${token.role} and may not ${what}; that needs a ${roles} token (synclog token create --role ...)`
}

/** The scope in words, for `token list` and the server log. */
export function describeScope(scope: Scope): string {
  if (scope.tenant === undefined) return 'every tenant'
  if (scope.school === undefined) return `tenant ${scope.tenant}`
  return `tenant ${scope.tenant}, school ${scope.school.id} (${scope.school.side} side)`
}

export class ApiTokens {
  private cache: { key: string; tokens: LoadedToken[] } | undefined

  constructor(
    readonly path: string,
    private readonly now: () => Date = () => new Date(),
  ) {}

  static inDataDir(dataDir: string): ApiTokens {
    return new ApiTokens(join(dataDir, TOKEN_FILE_NAME))
  }

  /** Creates a token; the returned `token` is the only time its secret exists in plain text. */
  async create(name: string, scope: Scope, role: TokenRole = defaultRole(scope)): Promise<{ token: string; info: ApiTokenInfo }> {
    if (!TOKEN_NAME_SHAPE.test(name)) {
      throw new SynclogError(
        'USAGE',
        `--name must be 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit (got '${name}')`,
      )
    }
    checkScope(scope)
    const token = TOKEN_PREFIX + randomBytes(32).toString('base64url')
    const stored: StoredToken = {
      name,
      hash: `sha256:${digestOf(token).toString('hex')}`,
      scope: ScopeOnDisk.parse(scope),
      role,
      createdAt: this.now().toISOString(),
    }
    await this.update((file) => {
      if (file.tokens.some((t) => t.name === name)) {
        throw new SynclogError(
          'USAGE',
          `a token named '${name}' exists; revoke it first (synclog token revoke ${name}) or pick another name`,
        )
      }
      file.tokens.push(stored)
    })
    return { token, info: infoOf(stored) }
  }

  /** Every token's name, scope, role and creation time; never a secret. */
  async list(): Promise<ApiTokenInfo[]> {
    return (await this.read()).tokens.map(infoOf)
  }

  /** Removes the named token; a USAGE error if there is none. */
  async revoke(name: string): Promise<void> {
    await this.update((file) => {
      const before = file.tokens.length
      file.tokens = file.tokens.filter((t) => t.name !== name)
      if (file.tokens.length === before) throw new SynclogError('USAGE', `no token named '${name}'; see them with: synclog token list`)
    })
  }

  /**
   * The token a bearer string is, or null. Compares the SHA-256 of the presented
   * string with every stored hash in constant time (no early exit).
   */
  async authenticate(presented: string): Promise<ApiTokenInfo | null> {
    const tokens = await this.loaded()
    if (!TOKEN_SHAPE.test(presented)) return null
    const digest = digestOf(presented)
    let found: ApiTokenInfo | null = null
    for (const t of tokens) {
      if (timingSafeEqual(t.digest, digest) && found === null) found = t.info
    }
    return found
  }

  /** How many tokens exist (the server warns at start when there are none). */
  async count(): Promise<number> {
    return (await this.loaded()).length
  }

  /** The tokens, re-read only when the file changed (so revocation applies at once). */
  private async loaded(): Promise<LoadedToken[]> {
    let key: string
    try {
      const s = await stat(this.path)
      key = `${s.ino}:${s.size}:${s.mtimeMs}`
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw unreadable(this.path, e)
      key = 'absent'
    }
    if (this.cache?.key !== key) {
      const file = await this.read()
      this.cache = {
        key,
        tokens: file.tokens.map((t) => ({ info: infoOf(t), digest: Buffer.from(t.hash.slice('sha256:'.length), 'hex') })),
      }
    }
    return this.cache.tokens
  }

  private async read(): Promise<TokenFile> {
    let text: string
    try {
      text = await readFile(this.path, 'utf8')
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, tokens: [] }
      throw unreadable(this.path, e)
    }
    let json: unknown
    try {
      json = JSON.parse(text)
    } catch (e) {
      throw unreadable(this.path, e)
    }
    const parsed = TokenFileSchema.safeParse(json)
    if (!parsed.success)
      throw unreadable(this.path, new Error(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')))
    return parsed.data
  }

  /** Read, change, write atomically (owner-only), under a lock file against a concurrent token command. */
  private async update(change: (file: TokenFile) => void): Promise<void> {
    await makeDirectory(dirname(this.path))
    const lockPath = `${this.path}.lock`
    const lock = await LockFile.acquire(lockPath, 'token', {
      refused: (holder) => tokenFileBusy(lockPath, holder),
      wait: { timeoutMs: TOKEN_LOCK_WAIT_MS, pollMs: 20, gaveUp: (holder) => tokenFileBusy(lockPath, holder) },
    })
    try {
      const file = await this.read()
      change(file)
      await replaceFile(this.path, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600 })
    } finally {
      await lock.release()
    }
  }
}

function unreadable(path: string, cause: unknown): SynclogError {
  return new SynclogError('CONFIG_INVALID', `cannot read the API token file ${path}: ${(cause as Error).message}`, { cause })
}

/** How long a token command waits for another one to finish changing the file. */
const TOKEN_LOCK_WAIT_MS = 10_000

function tokenFileBusy(lockPath: string, holder: { readonly pid: number; readonly command: string }): SynclogError {
  return new SynclogError(
    'DATA_DIR_LOCKED',
    `another synclog ${holder.command} command (pid ${holder.pid}) holds ${lockPath}; try again once it has finished`,
  )
}
