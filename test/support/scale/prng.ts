/**
 * A seeded pseudo-random source for generated test data: sfc32 seeded by a
 * string hash (xmur3). Same seed, same sequence, on every machine; no Math.random.
 */

function xmur3(text: string): () => number {
  let h = 1779033703 ^ text.length
  for (let i = 0; i < text.length; i++) {
    h = Math.imul(h ^ text.charCodeAt(i), 3432918353)
    h = (h << 13) | (h >>> 19)
  }
  return () => {
    h = Math.imul(h ^ (h >>> 16), 2246822507)
    h = Math.imul(h ^ (h >>> 13), 3266489909)
    return (h ^= h >>> 16) >>> 0
  }
}

export class Prng {
  private a: number
  private b: number
  private c: number
  private d: number

  constructor(seed: string) {
    const next = xmur3(seed)
    this.a = next()
    this.b = next()
    this.c = next()
    this.d = next()
    for (let i = 0; i < 16; i++) this.uint32()
  }

  /** A uniform 32-bit unsigned integer. */
  uint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0
    this.d = (this.d + 1) | 0
    this.a = this.b ^ (this.b >>> 9)
    this.b = (this.c + (this.c << 3)) | 0
    this.c = (this.c << 21) | (this.c >>> 11)
    this.c = (this.c + t) | 0
    return t >>> 0
  }

  /** A uniform float in [0, 1). */
  float(): number {
    return this.uint32() / 4_294_967_296
  }

  /** A uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.float() * n)
  }

  /** A uniform integer in [lo, hi] (both inclusive). */
  between(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1)
  }

  chance(p: number): boolean {
    return this.float() < p
  }

  pick<T>(items: readonly T[]): T {
    const item = items[this.int(items.length)]
    if (item === undefined) throw new Error('pick from an empty list')
    return item
  }

  /** An index into `weights`, chosen with probability proportional to its weight. */
  weighted(weights: readonly number[]): number {
    let total = 0
    for (const w of weights) total += w
    let x = this.float() * total
    for (let i = 0; i < weights.length; i++) {
      x -= weights[i] ?? 0
      if (x < 0) return i
    }
    return weights.length - 1
  }

  /** `n` lowercase hex digits. */
  hex(n: number): string {
    let s = ''
    while (s.length < n) s += this.uint32().toString(16).padStart(8, '0')
    return s.slice(0, n)
  }
}

/**
 * Distinct indices of [lo, size) in a scrambled order (an affine walk with a
 * step coprime to the range), so a sync touches each record at most once
 * without keeping a set. Returns -1 once every index was handed out.
 */
export class DistinctPicker {
  private readonly span: number
  private readonly start: number
  private readonly step: number
  private taken = 0

  constructor(prng: Prng, private readonly lo: number, size: number) {
    this.span = Math.max(0, size - lo)
    this.start = this.span === 0 ? 0 : prng.int(this.span)
    let step = this.span <= 1 ? 1 : 1 + prng.int(this.span - 1)
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
