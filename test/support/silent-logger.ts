import { pino, type Logger } from 'pino'

/** A logger that discards everything, for tests that need one but do not read it. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' })
}
