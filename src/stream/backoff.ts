/** Waiting between attempts of the stream services: exponential backoff with full jitter, capped. */

export function backoffMs(attempt: number, baseMs = 250, capMs = 15_000): number {
  return Math.round(Math.random() * Math.min(capMs, baseMs * 2 ** attempt))
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))
