/**
 * The one seeded randomness of synclog's generated data (the generator, the
 * demo district and the synthetic logs of tests and benchmarks): sfc32 streams
 * keyed by a seed and a path of numbers (district, school, night, purpose), so
 * every school and night has its own stream and can be rebuilt alone, in any
 * order, with the same result. Ids are hashes of the same kind of path, so
 * nothing has to remember them. No Math.random anywhere: the same seed gives
 * the same bytes on every machine. Not for anything secret.
 */

/** murmur3's 32-bit finaliser: a cheap avalanche of one word. */
function fmix32(h: number): number {
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

/** A 32-bit hash of a list of integers (each taken modulo 2^32). */
export function hash32(words: readonly number[], salt = 0): number {
  let h = (0x9e3779b9 ^ salt) >>> 0
  for (const w of words) {
    h = fmix32((h ^ (w >>> 0)) + 0x7f4a7c15)
    h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) >>> 0
  }
  return fmix32(h ^ words.length)
}

/** A seed word for a name: the hash of its UTF-16 code units. */
function textSeed(text: string): number {
  const units: number[] = []
  for (let i = 0; i < text.length; i++) units.push(text.charCodeAt(i))
  return hash32(units, 0x5eed)
}

const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'))

function hex32(w: number): string {
  return HEX[(w >>> 24) & 255]! + HEX[(w >>> 16) & 255]! + HEX[(w >>> 8) & 255]! + HEX[w & 255]!
}

/**
 * A GUID-shaped sourcedId (8-4-4-4-12 hex, version nibble 4) derived from the
 * words: what most SIS exports use, and the length real ids have.
 */
export function guid(words: readonly number[]): string {
  const a = hash32(words, 1)
  const b = hash32(words, 2)
  const c = hash32(words, 3)
  const d = hash32(words, 4)
  const b2 = ((b & 0xffff0fff) | 0x00004000) >>> 0
  const c2 = ((c & 0x3fffffff) | 0x80000000) >>> 0
  const hb = hex32(b2)
  const hc = hex32(c2)
  return `${hex32(a)}-${hb.slice(0, 4)}-${hb.slice(4)}-${hc.slice(0, 4)}-${hc.slice(4)}${hex32(d)}`
}

/** Small integer codes of what a stream or id is for, so paths never collide across purposes. */
export const PURPOSE = {
  districtShape: 1,
  schoolShape: 2,
  schoolPeople: 3,
  night: 4,
  school: 10,
  course: 11,
  section: 12,
  teacher: 13,
  admin: 14,
  student: 15,
  enrollment: 16,
  teacherEnrollment: 17,
  visitor: 18,
  ghost: 19,
  district: 20,
  session: 21,
  neighbour: 22,
  scenario: 23,
} as const

export class Prng {
  private a: number
  private b: number
  private c: number
  private d: number

  /** A stream for `seed` (a number, or a name such as `'slow-clients'`) and a path of integers. */
  constructor(seed: number | string, path: readonly number[] = []) {
    const words = [typeof seed === 'string' ? textSeed(seed) : seed, ...path]
    this.a = hash32(words, 11)
    this.b = hash32(words, 12)
    this.c = hash32(words, 13)
    this.d = hash32(words, 14) | 1
    for (let i = 0; i < 12; i++) this.u32()
  }

  /** sfc32. */
  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0
    this.d = (this.d + 1) | 0
    this.a = this.b ^ (this.b >>> 9)
    this.b = (this.c + (this.c << 3)) | 0
    this.c = (this.c << 21) | (this.c >>> 11)
    this.c = (this.c + t) | 0
    return t >>> 0
  }

  /** A float in [0, 1). */
  next(): number {
    return this.u32() / 4294967296
  }

  /** An integer in [min, max], both inclusive. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1))
  }

  /** An integer in [0, n). */
  below(n: number): number {
    return Math.floor(this.next() * n)
  }

  chance(p: number): boolean {
    return this.next() < p
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list')
    return items[Math.floor(this.next() * items.length)] as T
  }

  /** An index into `weights`, chosen with probability proportional to its weight. */
  weighted(weights: readonly number[]): number {
    let total = 0
    for (const w of weights) total += w
    let x = this.next() * total
    for (let i = 0; i < weights.length; i++) {
      x -= weights[i] ?? 0
      if (x < 0) return i
    }
    return weights.length - 1
  }

  /** `n` distinct elements (all of them when the list is shorter), in random order. */
  sample<T>(items: readonly T[], n: number): T[] {
    return this.distinct(items.length, n).map((i) => items[i] as T)
  }

  /** `n` lowercase hex digits. */
  hex(n: number): string {
    let s = ''
    while (s.length < n) s += hex32(this.u32())
    return s.slice(0, n)
  }

  /**
   * `x` rounded up or down at random so that the expected value is `x`: rates
   * applied to small schools still produce changes, on average at the right rate.
   */
  round(x: number): number {
    const whole = Math.floor(x)
    return whole + (this.next() < x - whole ? 1 : 0)
  }

  /** Up to `n` distinct indices of [0, length), in random order (partial Fisher–Yates over a sparse map). */
  distinct(length: number, n: number): number[] {
    const k = Math.min(n, length)
    const swapped = new Map<number, number>()
    const out: number[] = []
    for (let i = 0; i < k; i++) {
      const j = i + Math.floor(this.next() * (length - i))
      const vj = swapped.get(j) ?? j
      const vi = swapped.get(i) ?? i
      swapped.set(j, vi)
      out.push(vj)
    }
    return out
  }
}
