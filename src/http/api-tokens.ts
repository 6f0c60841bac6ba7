/**
 * Scoped API tokens of the HTTP API, kept in `<dataDir>/api-tokens.json` (mode 0600).
 *
 * Only a SHA-256 hash of each token is stored: a token is 32 random bytes, so a
 * plain hash is as strong as a slow one would be, and a stolen file grants nothing.
 * The plain token is shown once, when it is created. The server re-reads the file
 * when it changes, so `token create` and `token revoke` apply without a restart.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import { chmod, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { z } from 'zod'
import { checkScope } from '../clickhouse/scope.js'
import { SCOPE_SIDES, type Scope } from '../clickhouse/types.js'
import { SynclogError } from '../errors.js'
import { makeDirectory } from '../paths/make-directory.js'

export const TOKEN_FILE_NAME = 'api-tokens.json'
export const TOKEN_PREFIX = 'slk_'
const TOKEN_SHAPE = /^slk_[A-Za-z0-9_-]{43}$/
export const TOKEN_NAME_SHAPE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/

/** What a token grants, without its secret. */
export interface ApiTokenInfo {
  readonly name: string
  readonly scope: Scope
  /** ISO instant. */
  readonly createdAt: string
}

const ScopeOnDisk = z.strictObject({
  tenant: z.string().min(1).optional(),
  school: z.strictObject({ id: z.string().min(1), side: z.enum(SCOPE_SIDES) }).optional(),
})

const TokenFileSchema = z.strictObject({
  version: z.literal(1),
  tokens: z.array(z.strictObject({
    name: z.string().regex(TOKEN_NAME_SHAPE),
    hash: z.string().regex(/^sha256:[0-9a-f]{64}$/),
    scope: ScopeOnDisk,
    createdAt: z.string(),
  })),
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
  return { name: t.name, scope, createdAt: t.createdAt }
}

/** The scope in words, for `token list` and the server log. */
export function describeScope(scope: Scope): string {
  if (scope.tenant === undefined) return 'operator (every tenant)'
  if (scope.school === undefined) return `tenant ${scope.tenant}`
  return `tenant ${scope.tenant}, school ${scope.school.id} (${scope.school.side} side)`
}

export class ApiTokens {
  private cache: { key: string; tokens: LoadedToken[] } | undefined

  constructor(readonly path: string, private readonly now: () => Date = () => new Date()) {}

  static inDataDir(dataDir: string): ApiTokens {
    return new ApiTokens(join(dataDir, TOKEN_FILE_NAME))
  }

  /** Creates a token; the returned `token` is the only time its secret exists in plain text. */
  async create(name: string, scope: Scope): Promise<{ token: string; info: ApiTokenInfo }> {
    if (!TOKEN_NAME_SHAPE.test(name)) {
      throw new SynclogError('USAGE', `--name must be 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit (got '${name}')`)
    }
    checkScope(scope)
    const token = TOKEN_PREFIX + randomBytes(32).toString('base64url')
    const stored: StoredToken = {
      name, hash: `sha256:${digestOf(token).toString('hex')}`, scope: ScopeOnDisk.parse(scope), createdAt: this.now().toISOString(),
    }
    await this.update((file) => {
      if (file.tokens.some((t) => t.name === name)) {
        throw new SynclogError('USAGE', `a token named '${name}' exists; revoke it first (synclog token revoke ${name}) or pick another name`)
      }
      file.tokens.push(stored)
    })
    return { token, info: infoOf(stored) }
  }

  /** Every token's name, scope and creation time; never a secret. */
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
      this.cache = { key, tokens: file.tokens.map((t) => ({ info: infoOf(t), digest: Buffer.from(t.hash.slice('sha256:'.length), 'hex') })) }
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
    if (!parsed.success) throw unreadable(this.path, new Error(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')))
    return parsed.data
  }

  /** Read, change, write atomically (temp file, mode 0600, rename), under a lock file against a concurrent token command. */
  private async update(change: (file: TokenFile) => void): Promise<void> {
    await makeDirectory(dirname(this.path))
    await withLockFile(`${this.path}.lock`, async () => {
      const file = await this.read()
      change(file)
      const tmp = `${this.path}.tmp`
      await writeFile(tmp, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600 })
      await chmod(tmp, 0o600)
      await rename(tmp, this.path)
    })
  }
}

function unreadable(path: string, cause: unknown): SynclogError {
  return new SynclogError('CONFIG_INVALID', `cannot read the API token file ${path}: ${(cause as Error).message}`, { cause })
}

const LOCK_ATTEMPTS = 100
const STALE_LOCK_MS = 30_000

async function withLockFile<T>(lockPath: string, work: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      const handle = await open(lockPath, 'wx', 0o600)
      await handle.close()
      break
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e
      const age = await stat(lockPath).then((s) => Date.now() - s.mtimeMs, () => 0)
      if (age > STALE_LOCK_MS) {
        await rm(lockPath, { force: true })
      } else if (attempt >= LOCK_ATTEMPTS) {
        throw new SynclogError('DATA_DIR_LOCKED', `another token command holds ${lockPath}; try again, or remove the file if no synclog token command runs`)
      } else {
        await sleep(20 + Math.floor(Math.random() * 30))
      }
    }
  }
  try {
    return await work()
  } finally {
    await rm(lockPath, { force: true })
  }
}
