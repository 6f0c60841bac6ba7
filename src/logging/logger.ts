import { pino, type Logger, type LevelWithSilent } from 'pino'

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
    return pino({ level, redact, transport: { target: 'pino-pretty', options: { destination: 2, colorize: true, ignore: 'pid,hostname' } } })
  }
  return pino({ level, redact }, options.destination ?? pino.destination({ dest: 2, sync: true }))
}

/** A logger that discards everything (tests, library use). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' })
}
