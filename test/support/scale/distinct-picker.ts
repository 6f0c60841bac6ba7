/**
 * Distinct indices of [lo, size) in a scrambled order (an affine walk with a
 * step coprime to the range), so a sync touches each record at most once
 * without keeping a set. Returns -1 once every index was handed out.
 */
import type { Prng } from '../../../src/generate/prng.js'

export class DistinctPicker {
  private readonly span: number
  private readonly start: number
  private readonly step: number
  private taken = 0

  constructor(
    prng: Prng,
    private readonly lo: number,
    size: number,
  ) {
    this.span = Math.max(0, size - lo)
    this.start = this.span === 0 ? 0 : prng.below(this.span)
    let step = this.span <= 1 ? 1 : 1 + prng.below(this.span - 1)
    while (this.span > 1 && gcd(step, this.span) !== 1) step = (step % (this.span - 1)) + 1
    this.step = step
  }

  next(): number {
    if (this.taken >= this.span) return -1
    const i = (this.start + this.taken * this.step) % this.span
    this.taken++
    return this.lo + i
  }
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b]
  return a
}
