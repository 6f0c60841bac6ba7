/**
 * Work that changes the store (imports, ingests, approvals, export checkpoints) runs one
 * at a time, in the order it arrived, as it does when each is a process of its own that
 * waits for the data-directory lock; reads never wait for it.
 */
import { SynclogError } from '../errors.js'

export class WriteQueue {
  private tail: Promise<unknown> = Promise.resolve()
  private refusing = false

  /** Runs `work` after every write queued before it; its failure does not stop the next one. `onStart` runs as it starts. */
  run<T>(work: () => Promise<T>, onStart: () => void = () => {}): Promise<T> {
    const result = this.tail.then(() => {
      if (this.refusing) {
        throw new SynclogError(
          'STORE_UNAVAILABLE',
          'the synclog service is stopping, so this write did not start; run the command again once the service is back (or stopped)',
        )
      }
      onStart()
      return work()
    })
    this.tail = result.catch(() => undefined)
    return result
  }

  /** Writes that have not started yet are refused; the one running finishes. */
  refuseNew(): void {
    this.refusing = true
  }
}
