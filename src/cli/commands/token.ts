/** `synclog token create | list | revoke`: the scoped API tokens of `synclog serve`. */
import type { Command } from 'commander'
import { SCOPE_SIDES, type Scope, type ScopeSide } from '../../clickhouse/types.js'
import { formatTextTable } from '../../export/text-table.js'
import { terminalText } from '../../export/terminal-text.js'
import { SynclogError } from '../../errors.js'
import { ApiTokens, TOKEN_ROLES, defaultRole, describeScope, type TokenRole } from '../../http/api-tokens.js'
import { contextOf } from '../context.js'
import { parseFormatAmong } from '../output.js'
import { toJson } from '../../export/formats/json.js'

interface CreateOptions {
  name: string
  tenant?: string
  school?: string
  side?: string
  role?: string
}

/** The scope the flags ask for: none = operator; a school needs its tenant; a side needs its school. */
export function scopeOfFlags(opts: Omit<CreateOptions, 'name' | 'role'>): Scope {
  if (opts.tenant === '') throw new SynclogError('USAGE', '--tenant cannot be blank')
  if (opts.school !== undefined && opts.tenant === undefined) {
    throw new SynclogError('USAGE', '--school needs --tenant: a school scope is one school of one tenant')
  }
  if (opts.side !== undefined && opts.school === undefined) throw new SynclogError('USAGE', '--side needs --school')
  if (opts.side !== undefined && !(SCOPE_SIDES as readonly string[]).includes(opts.side)) {
    throw new SynclogError('USAGE', `--side must be one of ${SCOPE_SIDES.join(', ')} (got '${opts.side}')`)
  }
  if (opts.tenant === undefined) return {}
  if (opts.school === undefined) return { tenant: opts.tenant }
  if (opts.school === '') throw new SynclogError('USAGE', '--school cannot be blank')
  return { tenant: opts.tenant, school: { id: opts.school, side: (opts.side ?? 'either') as ScopeSide } }
}

/** The role the flag asks for; without it, the scope's default (operator for every tenant, else viewer). */
export function roleOfFlag(role: string | undefined, scope: Scope): TokenRole {
  if (role === undefined) return defaultRole(scope)
  if (!(TOKEN_ROLES as readonly string[]).includes(role)) {
    throw new SynclogError('USAGE', `--role must be one of ${TOKEN_ROLES.join(', ')} (got '${terminalText(role)}')`)
  }
  return role as TokenRole
}

export function registerTokenCommands(program: Command): void {
  const token = program
    .command('token')
    .description(
      'API tokens of `synclog serve`: each is scoped to every tenant, one tenant, or one school of a tenant, and has a role: viewer, reviewer, importer or operator',
    )

  token
    .command('create')
    .description('Create a token and print it once (only its hash is kept, in <data>/api-tokens.json)')
    .requiredOption('--name <name>', 'a name to list and revoke it by (letters, digits, . _ -)')
    .option('--tenant <district>', 'limit the token to this tenant (without it: every tenant)')
    .option('--school <schoolId>', 'limit the token to this school of the tenant')
    .option('--side <side>', 'with --school: rows whose home, serving or either school it is (home | serving | either; default either)')
    .option(
      '--role <role>',
      'viewer (reads) | reviewer (also approves and rejects held syncs) | importer (also imports) | operator (all, and SQL with every-tenant scope); default: operator without --tenant, viewer with it',
    )
    .action(async (opts: CreateOptions, cmd: Command) => {
      const ctx = contextOf(cmd)
      const scope = scopeOfFlags(opts)
      const role = roleOfFlag(opts.role, scope)
      const created = await ApiTokens.inDataDir(ctx.config.dataDir).create(opts.name, scope, role)
      ctx.logger.info({ token: opts.name, scope: describeScope(scope), role }, 'API token created')
      if (scope.tenant === undefined) {
        ctx.stderr.write(
          `warning: token '${terminalText(opts.name)}' has operator scope: it can read every tenant's sync log. Use --tenant to limit it.\n`,
        )
      }
      ctx.stderr.write(
        `Token '${terminalText(opts.name)}' (${terminalText(describeScope(scope))}, ${role}) follows; it is shown only this once. Send it as: Authorization: Bearer <token>\n`,
      )
      ctx.stdout.write(`${created.token}\n`)
    })

  token
    .command('list')
    .description('The tokens: name, scope, role, creation time (never a secret)')
    .option('--format <format>', 'table | json', 'table')
    .action(async (opts: { format?: string }, cmd: Command) => {
      const ctx = contextOf(cmd)
      const format = parseFormatAmong(opts.format, ['table', 'json'])
      const tokens = await ApiTokens.inDataDir(ctx.config.dataDir).list()
      if (format === 'json') {
        ctx.stdout.write(`${toJson(tokens, 2)}\n`)
        return
      }
      if (tokens.length === 0) {
        ctx.stdout.write('No API tokens. Create one with: synclog token create --name <name> --tenant <district>\n')
        return
      }
      const rows = tokens.map((t) => ({ name: t.name, scope: describeScope(t.scope), role: t.role, createdAt: t.createdAt }))
      ctx.stdout.write(
        `${formatTextTable(
          rows,
          [
            ['name', 'Name'],
            ['scope', 'Scope'],
            ['role', 'Role'],
            ['createdAt', 'Created'],
          ],
          { maxWidth: 100 },
        )}\n`,
      )
    })

  token
    .command('revoke')
    .description('Delete a token; a running server refuses it from its next request')
    .argument('<name>')
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      const ctx = contextOf(cmd)
      await ApiTokens.inDataDir(ctx.config.dataDir).revoke(name)
      ctx.logger.info({ token: name }, 'API token revoked')
      ctx.stdout.write(`Revoked token '${terminalText(name)}'.\n`)
    })
}
