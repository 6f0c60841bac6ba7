/**
 * Configuration in one place: defaults < config file < environment < flags,
 * validated once into a strict object. `process.env` is read nowhere else.
 */
import { readFileSync, existsSync } from 'node:fs'
import { resolve } from 'node:path'
import { z } from 'zod'
import { SynclogError } from '../errors.js'
import type { FoldOptions } from '../processor/index.js'
import { LimitsSchema, rawLimits } from './limits.js'
import { parseTrustProxy, type TrustProxy } from './trust-proxy.js'
import { SqlLimitsSchema, rawSqlLimits } from './sql-limits.js'
import { AlertDeliverySchema, PublicUrlSchema, WebhooksSchema, rawAlerts } from '../alerts/alert-config.js'
import { TimeZones, canonicalTimeZone, systemTimeZone } from '../export/local-time.js'

const percent = z.coerce.number().min(0).max(100)
/** A timeout of the HTTP server, in seconds (fractions allowed). */
const seconds = z.coerce.number().positive().max(86_400)

/** An IANA time zone name (`America/Chicago`), as Intl spells it. */
const TimeZoneSchema = z.string().transform((name, ctx): string => {
  const zone = canonicalTimeZone(name)
  if (zone !== null) return zone
  ctx.addIssue({ code: 'custom', message: `'${name}' is not an IANA time zone name such as America/Chicago or UTC` })
  return z.NEVER
})

const TrustProxySchema = z.unknown().transform((value, ctx): TrustProxy => {
  try {
    return parseTrustProxy(value)
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: (e as Error).message })
    return z.NEVER
  }
})

/** `synclog serve`: timeouts for receiving a request, the connection limit, the proxies trusted. */
const HttpSchema = z.object({
  headersTimeoutSeconds: seconds,
  requestTimeoutSeconds: seconds,
  idleTimeoutSeconds: seconds,
  keepAliveTimeoutSeconds: seconds,
  /** Absent: sized from the process's open-file limit. */
  maxConnections: z.coerce.number().int().min(1).max(1_000_000).optional(),
  trustProxy: TrustProxySchema,
})

const ConfigSchema = z.object({
  dataDir: z.string().min(1),
  clickhouse: z.object({
    url: z.string().url().optional(),
    username: z.string().optional(),
    password: z.string().optional(),
    database: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a database name (letters, digits, _)')
      .optional(),
    /** Log rows older than this many days are dropped by ClickHouse (TTL); absent = kept forever. */
    retentionDays: z.coerce.number().int().min(1).max(36_500).optional(),
    /** Embedded mode: one chDB connection per purpose (default), or `one` for everything, to compare (src/clickhouse/lanes.ts). */
    connections: z.enum(['lanes', 'one']).optional(),
  }),
  kafka: z.object({
    brokers: z.array(z.string().regex(/^[^\s:]+:\d+$/, 'host:port')).min(1),
    clientId: z.string().min(1),
    /** Topic names are `<prefix>change-events`, `<prefix>sync-log`, `<prefix>processor-state`, `<prefix>dead-letter`. */
    topicPrefix: z.string().regex(/^[A-Za-z0-9._-]*$/, 'letters, digits, ".", "_" or "-"'),
    partitions: z.coerce.number().int().min(1).max(1000),
    replicationFactor: z.coerce.number().int().min(1).max(5),
  }),
  registry: z.object({ url: z.string().url() }),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
  holdThresholds: z.object({ deletePercent: percent, updatePercent: percent }),
  /** A Running sync with no event for this many hours is abandoned: Failed, its records discarded. */
  abandonAfterHours: z.coerce
    .number()
    .positive()
    .max(24 * 365),
  /** Per tenant, the onboarded school sourcedIds; a tenant not listed has every school onboarded. */
  onboardedSchools: z.record(z.string(), z.array(z.string())).optional(),
  /** The zone times are shown in for a tenant not in timeZones: the system's unless set. */
  timeZone: TimeZoneSchema,
  /** Per tenant, the zone its times are shown in (tables, the web page, Excel). */
  timeZones: z.record(z.string(), TimeZoneSchema).optional(),
  /** How much input is accepted (src/config/limits.ts: defaults, keys, environment variables). */
  limits: LimitsSchema,
  http: HttpSchema,
  /** Limits of analysts' SQL (src/sql/sql-limits.ts: defaults, keys, environment variables). */
  sql: SqlLimitsSchema,
  /** Per tenant, the webhooks told of sync statuses (src/alerts/alert-config.ts, docs/alerts.md). */
  alerts: WebhooksSchema,
  /** How alert deliveries are retried and waited for. */
  alertDelivery: AlertDeliverySchema,
  /** The web page's base URL, for links sent out (alerts). */
  publicUrl: PublicUrlSchema,
})

export type Config = z.infer<typeof ConfigSchema>

/** What the command line may set; undefined leaves the lower layers in force. */
export interface ConfigFlags {
  data?: string
  clickhouseUrl?: string
  logLevel?: string
  config?: string
  /** Kafka bootstrap servers, comma-separated (stream mode). */
  brokers?: string
  /** Confluent-compatible schema registry URL (stream mode). */
  registry?: string
  /** `serve --trust-proxy`: false, or proxy addresses/CIDRs, comma-separated. */
  trustProxy?: string
  /** `serve --max-connections`. */
  maxConnections?: string
  /** `serve --request-timeout`, seconds. */
  requestTimeout?: string
}

type Env = Readonly<Record<string, string | undefined>>

/** The system's zone: TZ when it names one (a command forwarded to the service brings its own), else the process's. */
function systemZone(env: Env): string {
  const tz = env.TZ?.replace(/^:/, '')
  return (tz === undefined ? null : canonicalTimeZone(tz)) ?? systemTimeZone()
}

function fileLayer(path: string): Record<string, unknown> {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>
  } catch (e) {
    throw new SynclogError('CONFIG_INVALID', `cannot read config file ${path}: ${(e as Error).message}`, { cause: e })
  }
}

/** Builds the configuration; an invalid setting names its key and what is allowed. Relative paths start at `cwd`. */
export function loadConfig(flags: ConfigFlags = {}, env: Env = process.env, cwd: string = process.cwd()): Config {
  // An empty path would silently mean the current directory.
  if (flags.data === '') throw new SynclogError('PATH_UNUSABLE', '--data is empty; give a directory (it is created if missing)')
  if (flags.data === undefined && env.SYNCLOG_DATA === '')
    throw new SynclogError('PATH_UNUSABLE', 'SYNCLOG_DATA is set but empty; unset it or give a directory')
  const dataDir = resolve(cwd, flags.data ?? env.SYNCLOG_DATA ?? './synclog-data')
  const configPath = resolve(cwd, flags.config ?? env.SYNCLOG_CONFIG ?? resolve(dataDir, 'synclog.config.json'))
  const file = flags.config !== undefined || existsSync(configPath) ? fileLayer(configPath) : {}
  const fileClickhouse = (file.clickhouse ?? {}) as Record<string, unknown>
  const fileHold = (file.holdThresholds ?? {}) as Record<string, unknown>
  const fileKafka = (file.kafka ?? {}) as Record<string, string | number | undefined>
  const fileRegistry = (file.registry ?? {}) as Record<string, string | undefined>
  const fileHttp = (file.http ?? {}) as Record<string, unknown>
  const raw = {
    dataDir,
    clickhouse: {
      url: flags.clickhouseUrl ?? env.CLICKHOUSE_URL ?? fileClickhouse.url,
      username: env.CLICKHOUSE_USER ?? fileClickhouse.username,
      password: env.CLICKHOUSE_PASSWORD ?? fileClickhouse.password,
      database: env.CLICKHOUSE_DATABASE ?? fileClickhouse.database,
      retentionDays: env.SYNCLOG_RETENTION_DAYS ?? fileClickhouse.retentionDays,
      connections: env.SYNCLOG_CHDB_CONNECTIONS ?? fileClickhouse.connections,
    },
    kafka: {
      brokers: (flags.brokers ?? env.SYNCLOG_KAFKA_BROKERS ?? fileKafka.brokers ?? '127.0.0.1:19092')
        .toString()
        .split(',')
        .map((b: string) => b.trim())
        .filter(Boolean),
      clientId: env.SYNCLOG_KAFKA_CLIENT_ID ?? fileKafka.clientId ?? 'synclog',
      topicPrefix: env.SYNCLOG_TOPIC_PREFIX ?? fileKafka.topicPrefix ?? 'synclog.',
      partitions: env.SYNCLOG_TOPIC_PARTITIONS ?? fileKafka.partitions ?? 6,
      replicationFactor: env.SYNCLOG_TOPIC_REPLICATION ?? fileKafka.replicationFactor ?? 1,
    },
    registry: { url: flags.registry ?? env.SYNCLOG_REGISTRY_URL ?? fileRegistry.url ?? 'http://127.0.0.1:18081/apis/ccompat/v7' },
    logLevel: flags.logLevel ?? env.SYNCLOG_LOG_LEVEL ?? file.logLevel ?? 'info',
    holdThresholds: {
      deletePercent: env.SYNCLOG_HOLD_DELETE_PERCENT ?? fileHold.deletePercent ?? 10,
      updatePercent: env.SYNCLOG_HOLD_UPDATE_PERCENT ?? fileHold.updatePercent ?? 75,
    },
    abandonAfterHours: env.SYNCLOG_ABANDON_AFTER_HOURS ?? file.abandonAfterHours ?? 6,
    onboardedSchools: file.onboardedSchools,
    timeZone: env.SYNCLOG_TIME_ZONE ?? file.timeZone ?? systemZone(env),
    timeZones: file.timeZones,
    limits: rawLimits(file.limits, env),
    http: {
      headersTimeoutSeconds: env.SYNCLOG_HTTP_HEADERS_TIMEOUT ?? fileHttp.headersTimeoutSeconds ?? 15,
      requestTimeoutSeconds: flags.requestTimeout ?? env.SYNCLOG_HTTP_REQUEST_TIMEOUT ?? fileHttp.requestTimeoutSeconds ?? 30,
      idleTimeoutSeconds: env.SYNCLOG_HTTP_IDLE_TIMEOUT ?? fileHttp.idleTimeoutSeconds ?? 15,
      keepAliveTimeoutSeconds: env.SYNCLOG_HTTP_KEEP_ALIVE_TIMEOUT ?? fileHttp.keepAliveTimeoutSeconds ?? 5,
      maxConnections: flags.maxConnections ?? env.SYNCLOG_HTTP_MAX_CONNECTIONS ?? fileHttp.maxConnections,
      trustProxy: flags.trustProxy ?? env.SYNCLOG_TRUST_PROXY ?? fileHttp.trustProxy ?? false,
    },
    sql: rawSqlLimits(file.sql, env),
    alerts: rawAlerts(file.alerts, env),
    alertDelivery: file.alertDelivery ?? {},
    publicUrl: env.SYNCLOG_PUBLIC_URL ?? file.publicUrl,
  }
  const parsed = ConfigSchema.safeParse(raw)
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')
    throw new SynclogError('CONFIG_INVALID', `invalid configuration: ${problems}`)
  }
  return parsed.data
}

/** Whether npm started this process (`npx synclog`, `npm run`): then a shell stands between npm's signals and it. */
export function startedByNpm(env: Env = process.env): boolean {
  return env.npm_lifecycle_event !== undefined
}

/** Which zone each tenant's times are shown in. */
export function timeZonesOf(config: Config): TimeZones {
  return new TimeZones(config.timeZone, Object.entries(config.timeZones ?? {}))
}

export function foldOptionsOf(config: Config): FoldOptions {
  const onboarded = config.onboardedSchools
  return {
    holdThresholds: config.holdThresholds,
    onboardedSchools: onboarded === undefined ? undefined : new Map(Object.entries(onboarded)),
    abandonAfterMs: config.abandonAfterHours * 3600_000,
  }
}
