/**
 * ClickHouse's own compressed framing of an HTTP answer (`?compress=1`), which
 * the Java client (and so the JDBC driver and DBeaver) asks for by default:
 * blocks of `checksum (CityHash128 v1.0.2, 16 bytes) | 0x82 (LZ4) | compressed
 * size incl. this 9-byte header (u32 LE) | uncompressed size (u32 LE) | LZ4 block`.
 * synclog writes each LZ4 block as literals only: valid LZ4 that any decoder
 * reads, no smaller than the data, which is all a local answer needs.
 */

const MASK = (1n << 64n) - 1n
const K0 = 0xc3a5c85c97cb3127n
const K1 = 0xb492b66fbe98f273n
const K2 = 0x9ae16a3b2f90404fn
const K3 = 0xc949d7c7509e6557n
const K_MUL = 0x9ddfea08eb382d69n

const u64 = (x: bigint): bigint => x & MASK
const mul = (a: bigint, b: bigint): bigint => (a * b) & MASK
const add = (...xs: bigint[]): bigint => xs.reduce((s, x) => s + x, 0n) & MASK
const fetch64 = (s: Buffer, i: number): bigint => s.readBigUInt64LE(i)
const fetch32 = (s: Buffer, i: number): bigint => BigInt(s.readUInt32LE(i))
const rotate = (v: bigint, shift: number): bigint => (shift === 0 ? v : u64((v >> BigInt(shift)) | (v << BigInt(64 - shift))))
const shiftMix = (v: bigint): bigint => v ^ (v >> 47n)

function hashLen16(u: bigint, v: bigint): bigint {
  let a = mul(u ^ v, K_MUL)
  a ^= a >> 47n
  let b = mul(v ^ a, K_MUL)
  b ^= b >> 47n
  return mul(b, K_MUL)
}

function hashLen0to16(s: Buffer, pos: number, len: number): bigint {
  if (len > 8) {
    const a = fetch64(s, pos)
    const b = fetch64(s, pos + len - 8)
    return hashLen16(a, rotate(add(b, BigInt(len)), len)) ^ b
  }
  if (len >= 4) return hashLen16(add(fetch32(s, pos) << 3n, BigInt(len)), fetch32(s, pos + len - 4))
  if (len > 0) {
    const y = BigInt(s[pos]! + (s[pos + (len >>> 1)]! << 8))
    const z = BigInt(len + (s[pos + len - 1]! << 2))
    return mul(shiftMix(mul(y, K2) ^ mul(z, K3)), K2)
  }
  return K2
}

function weak32(s: Buffer, pos: number, a0: bigint, b0: bigint): [bigint, bigint] {
  const w = fetch64(s, pos)
  const x = fetch64(s, pos + 8)
  const y = fetch64(s, pos + 16)
  const z = fetch64(s, pos + 24)
  let a = add(a0, w)
  let b = rotate(add(b0, a, z), 21)
  const c = a
  a = add(a, x, y)
  b = add(b, rotate(a, 44))
  return [add(a, z), add(b, c)]
}

function cityMurmur(s: Buffer, pos: number, len: number, seed0: bigint, seed1: bigint): [bigint, bigint] {
  let a = seed0
  let b = seed1
  let c: bigint
  let d: bigint
  let l = len - 16
  if (l <= 0) {
    a = mul(shiftMix(mul(a, K1)), K1)
    c = add(mul(b, K1), hashLen0to16(s, pos, len))
    d = shiftMix(add(a, len >= 8 ? fetch64(s, pos) : c))
  } else {
    c = hashLen16(add(fetch64(s, pos + len - 8), K1), a)
    d = hashLen16(add(b, BigInt(len)), add(c, fetch64(s, pos + len - 16)))
    a = add(a, d)
    do {
      a ^= mul(shiftMix(mul(fetch64(s, pos), K1)), K1)
      a = mul(a, K1)
      b ^= a
      c ^= mul(shiftMix(mul(fetch64(s, pos + 8), K1)), K1)
      c = mul(c, K1)
      d ^= c
      pos += 16
      l -= 16
    } while (l > 0)
  }
  a = hashLen16(a, c)
  b = hashLen16(d, b)
  return [a ^ b, hashLen16(b, a)]
}

function cityHash128WithSeed(s: Buffer, pos: number, len: number, seed0: bigint, seed1: bigint): [bigint, bigint] {
  if (len < 128) return cityMurmur(s, pos, len, seed0, seed1)
  let x = seed0
  let y = seed1
  let z = mul(K1, BigInt(len))
  const v0 = add(mul(rotate(y ^ K1, 49), K1), fetch64(s, pos))
  let v: [bigint, bigint] = [v0, add(mul(rotate(v0, 42), K1), fetch64(s, pos + 8))]
  let w: [bigint, bigint] = [add(mul(rotate(add(y, z), 35), K1), x), mul(rotate(add(x, fetch64(s, pos + 88)), 53), K1)]
  const round = (): void => {
    x = mul(rotate(add(x, y, v[0], fetch64(s, pos + 16)), 37), K1)
    y = mul(rotate(add(y, v[1], fetch64(s, pos + 48)), 42), K1)
    x ^= w[1]
    y ^= v[0]
    z = rotate(z ^ w[0], 33)
    v = weak32(s, pos, mul(v[1], K1), add(x, w[0]))
    w = weak32(s, pos + 32, add(z, w[1]), y)
    ;[z, x] = [x, z]
    pos += 64
  }
  do {
    round()
    round()
    len -= 128
  } while (len >= 128)
  y = add(y, mul(rotate(w[0], 37), K0), z)
  x = add(x, mul(rotate(add(v[0], z), 49), K0))
  for (let done = 0; done < len;) {
    done += 32
    y = add(mul(rotate(u64(y - x), 42), K0), v[1])
    w[0] = add(w[0], fetch64(s, pos + len - done + 16))
    x = add(mul(rotate(x, 49), K0), w[0])
    w[0] = add(w[0], v[0])
    v = weak32(s, pos + len - done, v[0], v[1])
  }
  x = hashLen16(x, v[0])
  y = hashLen16(y, w[0])
  return [add(hashLen16(add(x, v[1]), w[1]), y), hashLen16(add(x, w[1]), add(y, v[1]))]
}

/** CityHash128 as ClickHouse uses it (v1.0.2): the two 64-bit halves, low first. */
export function cityHash128(s: Buffer): [bigint, bigint] {
  if (s.length >= 16) return cityHash128WithSeed(s, 16, s.length - 16, fetch64(s, 0) ^ K3, fetch64(s, 8))
  if (s.length >= 8) return cityHash128WithSeed(Buffer.alloc(0), 0, 0, fetch64(s, 0) ^ mul(BigInt(s.length), K0), fetch64(s, s.length - 8) ^ K1)
  return cityHash128WithSeed(s, 0, s.length, K0, K1)
}

/** `data` as one LZ4 block holding only literals. */
function lz4Literals(data: Buffer): Buffer {
  const n = data.length
  const lengthBytes: number[] = []
  if (n >= 15) {
    let rest = n - 15
    while (rest >= 255) {
      lengthBytes.push(255)
      rest -= 255
    }
    lengthBytes.push(rest)
  }
  return Buffer.concat([Buffer.from([Math.min(n, 15) << 4, ...lengthBytes]), data])
}

/** Bytes per compressed block, as ClickHouse's default `max_compress_block_size`. */
const BLOCK_BYTES = 1024 * 1024

/** `data` in ClickHouse's compressed framing, in blocks of at most 1 MiB. */
export function* compressedBlocks(data: Buffer): Generator<Buffer> {
  for (let start = 0; start < data.length; start += BLOCK_BYTES) {
    const chunk = data.subarray(start, Math.min(data.length, start + BLOCK_BYTES))
    const lz4 = lz4Literals(chunk)
    const body = Buffer.alloc(9 + lz4.length)
    body[0] = 0x82
    body.writeUInt32LE(body.length, 1)
    body.writeUInt32LE(chunk.length, 5)
    lz4.copy(body, 9)
    const [low, high] = cityHash128(body)
    const checksum = Buffer.alloc(16)
    checksum.writeBigUInt64LE(low, 0)
    checksum.writeBigUInt64LE(high, 8)
    yield Buffer.concat([checksum, body])
  }
}
