/** `synclog alerts`: the alert delivery log; `synclog alerts test <tenant>`: one test delivery to each of a tenant's webhooks. */
import { randomUUID } from 'node:crypto'
import type { Command } from 'commander'
import { SynclogError } from '../../errors.js'
import { contextOf } from '../context.js'
import { parseFormatAmong } from '../output.js'
import { EXIT } from '../exit-codes.js'
import { UNSCOPED } from '../../clickhouse/scope.js'
import { toJson } from '../../export/formats/json.js'
import { writeCsv } from '../../export/csv-writer.js'
import { formatTextTable } from '../../export/text-table.js'
import { terminalText } from '../../export/terminal-text.js'
import { signedWebhooks } from '../../alerts/alert-config.js'
import { postWebhook } from '../../alerts/post-webhook.js'
import { deliveryHeaders, shownUrl } from '../../alerts/webhook-message.js'

const DELIVERY_COLUMNS = [
  ['at', 'At'],
  ['tenant', 'Tenant'],
  ['syncId', 'Sync ID'],
  ['status', 'Status'],
  ['url', 'URL'],
  ['attempt', 'Attempt'],
  ['outcome', 'Outcome'],
  ['httpStatus', 'HTTP'],
  ['durationMs', 'ms'],
  ['error', 'Error'],
  ['deliveryId', 'Delivery ID'],
] as const

function positiveInt(name: string, value: string): number {
  const n = Number(value)
  if (!Number.isInteger(n) || n < 1) throw new SynclogError('USAGE', `${name} must be a positive whole number (got '${value}')`)
  return n
}

export function registerAlerts(program: Command): void {
  const alerts = program
    .command('alerts')
    .description(
      'The alert delivery log: one row per attempt to deliver a webhook, newest first (alerts are configured per tenant: docs/alerts.md)',
    )
    .option('--tenant <district>', 'only this tenant')
    .option('--sync <syncId>', 'only deliveries about this sync')
    .option('--limit <n>', 'at most n attempts', '100')
    .option('--format <format>', 'table | json | csv', 'table')
    .action(async (opts: { tenant?: string; sync?: string; limit: string; format?: string }, cmd: Command) => {
      const ctx = contextOf(cmd)
      const format = parseFormatAmong(opts.format, ['table', 'json', 'csv'])
      const filter = { tenant: opts.tenant, syncId: opts.sync, limit: positiveInt('--limit', opts.limit) }
      const rows = await ctx.withStore('alerts', (store) => store.alertDeliveries.list(UNSCOPED, filter))
      if (format === 'json') {
        ctx.stdout.write(`${toJson(rows, 2)}\n`)
        return
      }
      const cells = rows.map((r) => ({ ...r, at: r.at.replace('T', ' ').slice(0, 19), httpStatus: r.httpStatus ?? '' }))
      if (format === 'csv') {
        await writeCsv(ctx.stdout, cells, DELIVERY_COLUMNS)
        return
      }
      if (rows.length === 0) {
        ctx.stdout.write('No alert deliveries. Configure webhooks under "alerts" in the config (docs/alerts.md).\n')
        return
      }
      ctx.stdout.write(`${formatTextTable(cells, DELIVERY_COLUMNS, { maxWidth: 60 })}\n`)
    })

  alerts
    .command('test')
    .description(
      "Sends one signed test delivery to each of the tenant's webhooks and says how each answered (nothing is retried or logged)",
    )
    .argument('<tenant>')
    .action(async (tenant: string, _opts: unknown, cmd: Command) => {
      const ctx = contextOf(cmd)
      const hooks = signedWebhooks(ctx.config.alerts, tenant).get(tenant) ?? []
      if (hooks.length === 0)
        throw new SynclogError(
          'USAGE',
          `no webhooks are configured for tenant '${tenant}'; add them under alerts.${tenant} in the config (docs/alerts.md)`,
        )
      const { timeoutSeconds } = ctx.config.alertDelivery
      let failed = 0
      for (const hook of hooks) {
        const deliveryId = randomUUID()
        const body = JSON.stringify({
          event: 'alert.test',
          deliveryId,
          tenant,
          message: 'A test delivery from synclog: this webhook is reachable and can check the signature.',
        })
        const timestamp = String(Math.floor(Date.now() / 1000))
        const result = await postWebhook(
          hook.url,
          deliveryHeaders(deliveryId, hook.secret, timestamp, body),
          body,
          timeoutSeconds * 1000,
          new AbortController().signal,
        )
        const url = terminalText(shownUrl(hook.url))
        if (result.kind === 'delivered')
          ctx.stdout.write(`delivered to ${url}: ${result.httpStatus} in ${Math.round(result.durationMs)} ms\n`)
        else {
          failed++
          ctx.stdout.write(`not delivered to ${url}: ${terminalText(result.error)}\n`)
        }
      }
      if (failed > 0) ctx.setExitCode(EXIT.error)
    })
}
