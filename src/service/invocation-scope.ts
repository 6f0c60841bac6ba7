/**
 * A CLI command that a running `synclog serve` runs for another process (a forwarded
 * invocation): where its relative paths start, the environment it was started with,
 * where it prints, and the service's shared store. `contextOf` reads it, so the command
 * handlers are the same code with and without a service.
 */
import { AsyncLocalStorage } from 'node:async_hooks'
import type { CommandOutput } from '../cli/command-output.js'
import type { SharedStore } from './shared-store.js'

export interface Invocation {
  /** The working directory of the process that asked. */
  readonly cwd: string
  /** Its SYNCLOG_* and CLICKHOUSE_* variables (nothing else is sent). */
  readonly env: Readonly<Record<string, string | undefined>>
  /** Whether its stdout and stderr are terminals. */
  readonly terminal: { readonly stdout: boolean; readonly stderr: boolean }
  readonly stdout: CommandOutput
  readonly stderr: CommandOutput
  readonly shared: SharedStore
  /** The exit code the command sets (process.exitCode in a process of its own). */
  exitCode?: number
  /** Set once the command has started a write (an import, an approval): a stopping service lets it finish. */
  writing?: boolean
  /** Set when the command failed with an error nothing handled (its CLI has been told): a write it had not started never starts. */
  failed?: boolean
}

const scope = new AsyncLocalStorage<Invocation>()

/** The forwarded invocation this code runs for, or undefined in a CLI process of its own. */
export function currentInvocation(): Invocation | undefined {
  return scope.getStore()
}

export function runInInvocation<T>(invocation: Invocation, work: () => Promise<T>): Promise<T> {
  return scope.run(invocation, work)
}
