/**
 * The alert settings: per tenant, the webhooks told when a sync reaches a status, and
 * how deliveries are retried. Validated with the rest of the configuration
 * (src/config/config.ts); a webhook's secret may be named by the environment variable
 * that holds it (`secretEnv`), read there, so no secret needs to sit in the file.
 */
import { z } from 'zod'
import { SynclogError } from '../errors.js'

/** The statuses a webhook may ask for; the first three by default. */
export const ALERT_STATUSES = ['Failed', 'On Hold', 'Completed with Errors', 'Completed', 'Preview'] as const
export type AlertStatus = (typeof ALERT_STATUSES)[number]
export const DEFAULT_ALERT_STATUSES: readonly AlertStatus[] = ['Failed', 'On Hold', 'Completed with Errors']

const httpUrl = z.url({ protocol: /^https?$/, error: 'an http:// or https:// URL' })

/**
 * One webhook as written in the file: `secret`, or `secretEnv` (the environment variable
 * holding it; rawAlerts puts that variable's value beside it as `secretFromEnv`).
 */
const WebhookSchema = z
  .strictObject({
    url: httpUrl,
    secret: z.string().min(1, 'a non-empty secret').optional(),
    secretEnv: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name')
      .optional(),
    secretFromEnv: z.string().optional(),
    statuses: z
      .array(z.enum(ALERT_STATUSES))
      .min(1, `at least one of ${ALERT_STATUSES.join(', ')}`)
      .default([...DEFAULT_ALERT_STATUSES]),
  })
  .transform((w, ctx): Webhook => {
    if ((w.secret === undefined) === (w.secretEnv === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'give either secret or secretEnv (the environment variable holding the secret)' })
      return z.NEVER
    }
    const secret = w.secret ?? (w.secretFromEnv === '' ? undefined : w.secretFromEnv)
    return {
      url: w.url,
      statuses: w.statuses,
      ...(secret === undefined ? {} : { secret }),
      ...(w.secretEnv === undefined ? {} : { secretEnv: w.secretEnv }),
    }
  })

/**
 * A webhook of the configuration. `secret` is absent when its `secretEnv` is not set in
 * this process: only a process that sends alerts needs it (signedWebhooks says so).
 */
export interface Webhook {
  readonly url: string
  readonly secret?: string
  readonly secretEnv?: string
  readonly statuses: readonly AlertStatus[]
}

/** A webhook with its secret. */
export type SignedWebhook = Webhook & { readonly secret: string }

/**
 * Per tenant (or only `tenant`'s), its webhooks with their secrets; a CONFIG_INVALID error
 * naming the key of a secret this process lacks.
 */
export function signedWebhooks(
  alerts: Readonly<Record<string, readonly Webhook[]>> | undefined,
  tenant?: string,
): Map<string, readonly SignedWebhook[]> {
  const signed = new Map<string, readonly SignedWebhook[]>()
  for (const [name, hooks] of Object.entries(alerts ?? {})) {
    if (tenant !== undefined && name !== tenant) continue
    signed.set(
      name,
      hooks.map((hook, i) => {
        if (hook.secret !== undefined) return { ...hook, secret: hook.secret }
        throw new SynclogError(
          'CONFIG_INVALID',
          `invalid configuration: alerts.${name}.${i}.secretEnv: the environment variable ${hook.secretEnv} is not set or is empty; set it where synclog sends alerts (the service, an import, a projector)`,
        )
      }),
    )
  }
  return signed
}

/** `alerts`: per tenant, its webhooks. */
export const WebhooksSchema = z.record(z.string().min(1), z.array(WebhookSchema)).optional()

/** The file's `alerts` with each `secretEnv`'s value read from `env` beside it (the schema checks it). */
export function rawAlerts(file: unknown, env: Readonly<Record<string, string | undefined>>): unknown {
  if (file === null || typeof file !== 'object' || Array.isArray(file)) return file
  return Object.fromEntries(
    Object.entries(file).map(([tenant, hooks]) => [
      tenant,
      Array.isArray(hooks)
        ? hooks.map((h: unknown) => {
            if (h === null || typeof h !== 'object') return h
            const name = (h as { secretEnv?: unknown }).secretEnv
            return typeof name === 'string' ? { ...h, secretFromEnv: Object.hasOwn(env, name) ? env[name] : undefined } : h
          })
        : hooks,
    ]),
  )
}

const seconds = z.coerce.number().positive().max(86_400)

/** How deliveries are retried: `attempts` in all, waits doubling from `firstRetrySeconds` (with jitter) up to `maxRetrySeconds`. */
export const AlertDeliverySchema = z.strictObject({
  attempts: z.coerce.number().int().min(1).max(100).default(6),
  firstRetrySeconds: seconds.default(10),
  maxRetrySeconds: seconds.default(160),
  /** How long one attempt may take, connection to the last byte of the answer. */
  timeoutSeconds: seconds.default(10),
  /** How long a process that stops (a one-shot import, a stopping service) waits for deliveries still under way. */
  exitWaitSeconds: z.coerce.number().min(0).max(3_600).default(10),
})
export type AlertDelivery = z.infer<typeof AlertDeliverySchema>

/** `publicUrl`: the page's base URL for the link in a delivery; absent: `synclog serve` gives its own address, other processes no link. */
export const PublicUrlSchema = httpUrl.transform((u) => u.replace(/\/+$/, '')).optional()
