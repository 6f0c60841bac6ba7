/**
 * When a long-running command (`synclog serve`, `synclog run`) should stop: SIGINT, SIGTERM,
 * or the end of npm.
 *
 * `npx synclog serve` (and `npm run`/`npm start`) runs synclog under npm through a shell:
 * npm → sh -c → node. A SIGTERM to npm (what `kill`, a systemd unit with
 * KillMode=process or a supervisor sends to the process it started) ends npm and the shell,
 * but never reaches node, which was left running with the port and the data directory.
 * Started that way, the command watches its parent: once the parent is gone (the process
 * is adopted by another), it stops as on SIGTERM.
 */
import { startedByNpm } from '../config/config.js'

/** The first of SIGINT, SIGTERM or, when npm started the process, the end of its parent; resolves with its name. */
export function nextStopSignal(): Promise<string> {
  const parent = startedByNpm() ? parentExit() : undefined
  return new Promise((resolve) => {
    const on = (signal: string): void => {
      process.off('SIGINT', on)
      process.off('SIGTERM', on)
      parent?.stop()
      resolve(signal)
    }
    process.on('SIGINT', on)
    process.on('SIGTERM', on)
    void parent?.exited.then(() => on('parent exited'))
  })
}

/** Resolves when the parent this process had at the call exits; `stop` ends the watch. */
export function parentExit(everyMs = 250): { readonly exited: Promise<void>; stop(): void } {
  const parent = process.ppid
  let timer: NodeJS.Timeout | undefined
  const exited = new Promise<void>((resolve) => {
    timer = setInterval(() => {
      if (process.ppid === parent) return
      clearInterval(timer)
      resolve()
    }, everyMs)
    timer.unref()
  })
  return { exited, stop: () => clearInterval(timer) }
}
