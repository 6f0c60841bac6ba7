import { pino, type Logger, type LevelWithSilent } from 'pino'
import { terminalJson, terminalText } from '../export/terminal-text.js'

export type { Logger }

/**
 * One pino root per process. JSON on stderr (stdout carries command output);
 * pretty when stderr is a terminal. Student names, emails and usernames are
 * redacted: log records must never carry them at info level.
 */
export function createLogger(options: { level?: LevelWithSilent; pretty?: boolean; destination?: NodeJS.WritableStream } = {}): Logger {
  const level = options.level ?? 'info'
  const redact = {
    paths: ['*.givenName', '*.familyName', '*.middleName', '*.email', '*.username', '*.studentName', 'studentName', 'email', 'username'],
    censor: '[redacted]',
  }
  const pretty = options.pretty ?? process.stderr.isTTY === true
  if (pretty && options.destination === undefined) {
    // A terminal reads these lines: messages and fields (file names, ids, SIS values) are shown
    // with controls and bidi overrides escaped. JSON logs keep the data exact (JSON escapes controls).
    return pino({
      level,
      redact,
      transport: { target: 'pino-pretty', options: { destination: 2, colorize: true, ignore: 'pid,hostname' } },
      formatters: { log: (fields) => forTerminal(fields) as Record<string, unknown> },
      hooks: {
        logMethod(args, method) {
          method.apply(this, args.map((a) => (typeof a === 'string' ? terminalText(a) : a)) as Parameters<typeof method>)
        },
      },
    })
  }
  if (options.destination !== undefined) return pino({ level, redact }, options.destination)
  // JSON leaves C1 controls and bidi overrides raw; escaped, a line shown by `tail` on a terminal stays inert (same data once parsed).
  const stderr = pino.destination({ dest: 2, sync: true })
  return pino({ level, redact }, { write: (line: string) => stderr.write(terminalJson(line)) })
}

/** Strings in log fields (nested too), escaped for a terminal. */
function forTerminal(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return terminalText(value)
  if (value instanceof Error) {
    const safe = new Error(
      terminalText(value.message),
      value.cause === undefined ? undefined : { cause: forTerminal(value.cause, depth + 1) },
    )
    safe.name = value.name
    safe.stack = terminalText(value.stack ?? '', { keepNewlines: true })
    return safe
  }
  if (depth > 8 || value === null || typeof value !== 'object') return value
  if (Array.isArray(value)) return value.map((v) => forTerminal(v, depth + 1))
  const proto: unknown = Object.getPrototypeOf(value)
  if (proto !== Object.prototype && proto !== null) return value // a Date, a Map: left to pino
  // fromEntries defines own properties: a key '__proto__' stays data.
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [terminalText(k), forTerminal(v, depth + 1)]))
}
