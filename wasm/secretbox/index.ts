/**
 * XSalsa20-Poly1305, NaCl's crypto_secretbox, in libsodium's "easy" layout (a 16-byte Poly1305
 * tag, then the ciphertext), for omq's CURVE MESSAGE boxes. AssemblyScript compiled with SIMD
 * (scripts/build-wasm.mjs writes lib/security/secretbox-wasm.ts).
 *
 * Written from the specifications: Salsa20 and HSalsa20/XSalsa20 as D. J. Bernstein describes
 * them ("Salsa20 specification", "Extending the Salsa20 nonce"), Poly1305 as RFC 8439 §2.5 does,
 * its arithmetic in five 26-bit limbs with 64-bit products (the well-known "donna" layout).
 * Tested byte for byte against libsodium (test/security/secretbox-wasm.test.ts).
 *
 * Salsa20 runs four blocks at once (stream4): each of the 16 state words is one v128 whose four
 * lanes are the four blocks' copies of that word; the rounds are the scalar rounds on vectors (a
 * rotation is a shift left, a shift right and an or), and a 4x4 transpose per four words turns
 * the result back into four consecutive 64-byte blocks. Two blocks (block2) run along their
 * diagonals, one block (block) in scalar. Poly1305's scalar multiplications run inside stream4's
 * rounds, on the batch of ciphertext before (seal) or ahead (open), so that the integer units
 * work while the vector units do. HSalsa20 subkeys are cached per (key, nonce prefix).
 *
 * No allocation and no imports: the caller owns all memory above heapBase().
 */

// "expand 32-byte k"
const S0: u32 = 0x61707865
const S1: u32 = 0x3320646e
const S2: u32 = 0x79622d32
const S3: u32 = 0x6b206574

/** The Salsa20 input of the message's stream: constants, subkey, nonce[16..24], counter. */
const STATE: usize = memory.data(64, 16)
/** Keystream of the first blocks (or of a tail). */
const KS: usize = memory.data(256, 16)
/** 256 zero bytes: XORing them with the keystream writes the keystream itself. */
const ZERO: usize = memory.data(256, 16)
/** The one-time Poly1305 key: the first 32 bytes of block 0. */
const POLYKEY: usize = memory.data(32, 16)
/** The last, partial Poly1305 block, padded. */
const LAST: usize = memory.data(16, 16)
/** A computed tag (open). */
const TAG: usize = memory.data(16, 16)

/** The first byte the caller may use (its arena): everything below is this module's. */
export function heapBase(): usize {
  return (__heap_base + 63) & ~(<usize>63)
}

// ---- Salsa20 -------------------------------------------------------------------------------

/**
 * 20 rounds on the 16 words at `input`. Salsa20 (`feed`): out = 64 bytes, rounds + input.
 * HSalsa20 (not `feed`): out = 32 bytes, words 0, 5, 10, 15, 6, 7, 8, 9 after the rounds.
 */
function core(out: usize, input: usize, feed: bool): void {
  let x0 = load<u32>(input, 0)
  let x1 = load<u32>(input, 4)
  let x2 = load<u32>(input, 8)
  let x3 = load<u32>(input, 12)
  let x4 = load<u32>(input, 16)
  let x5 = load<u32>(input, 20)
  let x6 = load<u32>(input, 24)
  let x7 = load<u32>(input, 28)
  let x8 = load<u32>(input, 32)
  let x9 = load<u32>(input, 36)
  let x10 = load<u32>(input, 40)
  let x11 = load<u32>(input, 44)
  let x12 = load<u32>(input, 48)
  let x13 = load<u32>(input, 52)
  let x14 = load<u32>(input, 56)
  let x15 = load<u32>(input, 60)
  for (let i = 0; i < 10; i++) {
    // column round
    x4 ^= rotl<u32>(x0 + x12, 7)
    x8 ^= rotl<u32>(x4 + x0, 9)
    x12 ^= rotl<u32>(x8 + x4, 13)
    x0 ^= rotl<u32>(x12 + x8, 18)
    x9 ^= rotl<u32>(x5 + x1, 7)
    x13 ^= rotl<u32>(x9 + x5, 9)
    x1 ^= rotl<u32>(x13 + x9, 13)
    x5 ^= rotl<u32>(x1 + x13, 18)
    x14 ^= rotl<u32>(x10 + x6, 7)
    x2 ^= rotl<u32>(x14 + x10, 9)
    x6 ^= rotl<u32>(x2 + x14, 13)
    x10 ^= rotl<u32>(x6 + x2, 18)
    x3 ^= rotl<u32>(x15 + x11, 7)
    x7 ^= rotl<u32>(x3 + x15, 9)
    x11 ^= rotl<u32>(x7 + x3, 13)
    x15 ^= rotl<u32>(x11 + x7, 18)
    // row round
    x1 ^= rotl<u32>(x0 + x3, 7)
    x2 ^= rotl<u32>(x1 + x0, 9)
    x3 ^= rotl<u32>(x2 + x1, 13)
    x0 ^= rotl<u32>(x3 + x2, 18)
    x6 ^= rotl<u32>(x5 + x4, 7)
    x7 ^= rotl<u32>(x6 + x5, 9)
    x4 ^= rotl<u32>(x7 + x6, 13)
    x5 ^= rotl<u32>(x4 + x7, 18)
    x11 ^= rotl<u32>(x10 + x9, 7)
    x8 ^= rotl<u32>(x11 + x10, 9)
    x9 ^= rotl<u32>(x8 + x11, 13)
    x10 ^= rotl<u32>(x9 + x8, 18)
    x12 ^= rotl<u32>(x15 + x14, 7)
    x13 ^= rotl<u32>(x12 + x15, 9)
    x14 ^= rotl<u32>(x13 + x12, 13)
    x15 ^= rotl<u32>(x14 + x13, 18)
  }
  if (!feed) {
    store<u32>(out, x0, 0)
    store<u32>(out, x5, 4)
    store<u32>(out, x10, 8)
    store<u32>(out, x15, 12)
    store<u32>(out, x6, 16)
    store<u32>(out, x7, 20)
    store<u32>(out, x8, 24)
    store<u32>(out, x9, 28)
    return
  }
  store<u32>(out, x0 + load<u32>(input, 0), 0)
  store<u32>(out, x1 + load<u32>(input, 4), 4)
  store<u32>(out, x2 + load<u32>(input, 8), 8)
  store<u32>(out, x3 + load<u32>(input, 12), 12)
  store<u32>(out, x4 + load<u32>(input, 16), 16)
  store<u32>(out, x5 + load<u32>(input, 20), 20)
  store<u32>(out, x6 + load<u32>(input, 24), 24)
  store<u32>(out, x7 + load<u32>(input, 28), 28)
  store<u32>(out, x8 + load<u32>(input, 32), 32)
  store<u32>(out, x9 + load<u32>(input, 36), 36)
  store<u32>(out, x10 + load<u32>(input, 40), 40)
  store<u32>(out, x11 + load<u32>(input, 44), 44)
  store<u32>(out, x12 + load<u32>(input, 48), 48)
  store<u32>(out, x13 + load<u32>(input, 52), 52)
  store<u32>(out, x14 + load<u32>(input, 56), 56)
  store<u32>(out, x15 + load<u32>(input, 60), 60)
}

/** One keystream block (number `ctr`) of the message's stream, to `out`. */
function block(out: usize, ctr: u32): void {
  store<u32>(STATE, ctr, 32)
  core(out, STATE, true)
}

/**
 * Keystream blocks ctr and ctr + 1 to out[0..128], each block's state in four v128 along its
 * diagonals (a = x0 x5 x10 x15, b = x4 x9 x14 x3, c = x8 x13 x2 x7, d = x12 x1 x6 x11: a column
 * round is then four vector lines, a row round the same after turning the lanes of b, c and d),
 * the two blocks interleaved. For boxes of two blocks (33 to 96 bytes of message in block 0 and
 * 1), where four lanes of stream4 would be half wasted and one scalar block after another waits
 * on each line's latency.
 */
function block2(out: usize, ctr: u32): void {
  // STATE's rows (x0..x3) .. (x12..x15) to its diagonals
  const r0 = v128.load(STATE, 0)
  const r1 = v128.load(STATE, 16)
  const r2 = i32x4.replace_lane(v128.load(STATE, 32), 0, ctr)
  const r3 = v128.load(STATE, 48)
  const t01 = i32x4.shuffle(r0, r1, 0, 5, 2, 7) // x0 x5 x2 x7
  const t23 = i32x4.shuffle(r2, r3, 0, 5, 2, 7) // x8 x13 x10 x15
  const u10 = i32x4.shuffle(r1, r0, 0, 5, 2, 7) // x4 x1 x6 x3
  const u32 = i32x4.shuffle(r3, r2, 0, 5, 2, 7) // x12 x9 x14 x11
  const a0 = i32x4.shuffle(t01, t23, 0, 1, 6, 7) // x0 x5 x10 x15
  const b0 = i32x4.shuffle(u10, u32, 0, 5, 6, 3) // x4 x9 x14 x3
  const c0 = i32x4.shuffle(t23, t01, 0, 1, 6, 7) // x8 x13 x2 x7
  const d0 = i32x4.shuffle(u32, u10, 0, 5, 6, 3) // x12 x1 x6 x11
  const c1 = i32x4.replace_lane(c0, 0, ctr + 1)
  let a = a0
  let b = b0
  let c = c0
  let d = d0
  let a2 = a0
  let b2 = b0
  let c2 = c1
  let d2 = d0
  for (let i = 0; i < 10; i++) {
    // column round: quarter-rounds (x0 x4 x8 x12), (x5 x9 x13 x1), (x10 x14 x2 x6), (x15 x3 x7 x11)
    b = v128.xor(b, rotv(i32x4.add(a, d), 7))
    b2 = v128.xor(b2, rotv(i32x4.add(a2, d2), 7))
    c = v128.xor(c, rotv(i32x4.add(b, a), 9))
    c2 = v128.xor(c2, rotv(i32x4.add(b2, a2), 9))
    d = v128.xor(d, rotv(i32x4.add(c, b), 13))
    d2 = v128.xor(d2, rotv(i32x4.add(c2, b2), 13))
    a = v128.xor(a, rotv(i32x4.add(d, c), 18))
    a2 = v128.xor(a2, rotv(i32x4.add(d2, c2), 18))
    // row round: the same on a, d's lanes turned by one, c's by two, b's by three
    b = i32x4.shuffle(b, b, 3, 0, 1, 2) // x3 x4 x9 x14
    c = i32x4.shuffle(c, c, 2, 3, 0, 1) // x2 x7 x8 x13
    d = i32x4.shuffle(d, d, 1, 2, 3, 0) // x1 x6 x11 x12
    b2 = i32x4.shuffle(b2, b2, 3, 0, 1, 2) // x3 x4 x9 x14
    c2 = i32x4.shuffle(c2, c2, 2, 3, 0, 1) // x2 x7 x8 x13
    d2 = i32x4.shuffle(d2, d2, 1, 2, 3, 0) // x1 x6 x11 x12
    d = v128.xor(d, rotv(i32x4.add(a, b), 7))
    d2 = v128.xor(d2, rotv(i32x4.add(a2, b2), 7))
    c = v128.xor(c, rotv(i32x4.add(d, a), 9))
    c2 = v128.xor(c2, rotv(i32x4.add(d2, a2), 9))
    b = v128.xor(b, rotv(i32x4.add(c, d), 13))
    b2 = v128.xor(b2, rotv(i32x4.add(c2, d2), 13))
    a = v128.xor(a, rotv(i32x4.add(b, c), 18))
    a2 = v128.xor(a2, rotv(i32x4.add(b2, c2), 18))
    // back to the column round's lanes
    b = i32x4.shuffle(b, b, 1, 2, 3, 0)
    c = i32x4.shuffle(c, c, 2, 3, 0, 1)
    d = i32x4.shuffle(d, d, 3, 0, 1, 2)
    b2 = i32x4.shuffle(b2, b2, 1, 2, 3, 0)
    c2 = i32x4.shuffle(c2, c2, 2, 3, 0, 1)
    d2 = i32x4.shuffle(d2, d2, 3, 0, 1, 2)
  }
  undiagonal(out, i32x4.add(a, a0), i32x4.add(b, b0), i32x4.add(c, c0), i32x4.add(d, d0))
  undiagonal(out + 64, i32x4.add(a2, a0), i32x4.add(b2, b0), i32x4.add(c2, c1), i32x4.add(d2, d0))
}

/** One block from its diagonals to its 16 words in order, at out[0..64]. */
// @ts-ignore: decorator
@inline
function undiagonal(out: usize, a: v128, b: v128, c: v128, d: v128): void {
  const ad = i32x4.shuffle(a, d, 0, 5, 2, 7) // x0 x1 x10 x11
  const cb = i32x4.shuffle(c, b, 0, 5, 2, 7) // x8 x9 x2 x3
  const ba = i32x4.shuffle(b, a, 0, 5, 2, 7) // x4 x5 x14 x15
  const dc = i32x4.shuffle(d, c, 0, 5, 2, 7) // x12 x13 x6 x7
  v128.store(out, i32x4.shuffle(ad, cb, 0, 1, 6, 7), 0)
  v128.store(out, i32x4.shuffle(ba, dc, 0, 1, 6, 7), 16)
  v128.store(out, i32x4.shuffle(cb, ad, 0, 1, 6, 7), 32)
  v128.store(out, i32x4.shuffle(dc, ba, 0, 1, 6, 7), 48)
}

// @ts-ignore: decorator
@inline
function rotv(x: v128, b: i32): v128 {
  return v128.or(i32x4.shl(x, b), i32x4.shr_u(x, 32 - b))
}

/**
 * dst[0..256] = src[0..256] ^ keystream blocks ctr .. ctr+3 (dst may be src). With `mac` not 0,
 * also the 16 Poly1305 blocks mac[0..256] (full blocks, mac apart from dst): the scalar
 * multiplications run in the integer units while the vector units compute the keystream.
 */
function stream4(dst: usize, src: usize, ctr: u32, mac: usize): void {
  let x0 = v128.load32_splat(STATE, 0)
  let x1 = v128.load32_splat(STATE, 4)
  let x2 = v128.load32_splat(STATE, 8)
  let x3 = v128.load32_splat(STATE, 12)
  let x4 = v128.load32_splat(STATE, 16)
  let x5 = v128.load32_splat(STATE, 20)
  let x6 = v128.load32_splat(STATE, 24)
  let x7 = v128.load32_splat(STATE, 28)
  let x8 = i32x4.add(i32x4.splat(ctr), i32x4(0, 1, 2, 3))
  let x9 = i32x4.splat(0)
  let x10 = v128.load32_splat(STATE, 40)
  let x11 = v128.load32_splat(STATE, 44)
  let x12 = v128.load32_splat(STATE, 48)
  let x13 = v128.load32_splat(STATE, 52)
  let x14 = v128.load32_splat(STATE, 56)
  let x15 = v128.load32_splat(STATE, 60)
  for (let i = 0; i < 10; i++) {
    x4 = v128.xor(x4, rotv(i32x4.add(x0, x12), 7))
    x8 = v128.xor(x8, rotv(i32x4.add(x4, x0), 9))
    x12 = v128.xor(x12, rotv(i32x4.add(x8, x4), 13))
    x0 = v128.xor(x0, rotv(i32x4.add(x12, x8), 18))
    x9 = v128.xor(x9, rotv(i32x4.add(x5, x1), 7))
    x13 = v128.xor(x13, rotv(i32x4.add(x9, x5), 9))
    x1 = v128.xor(x1, rotv(i32x4.add(x13, x9), 13))
    x5 = v128.xor(x5, rotv(i32x4.add(x1, x13), 18))
    x14 = v128.xor(x14, rotv(i32x4.add(x10, x6), 7))
    x2 = v128.xor(x2, rotv(i32x4.add(x14, x10), 9))
    x6 = v128.xor(x6, rotv(i32x4.add(x2, x14), 13))
    x10 = v128.xor(x10, rotv(i32x4.add(x6, x2), 18))
    x3 = v128.xor(x3, rotv(i32x4.add(x15, x11), 7))
    x7 = v128.xor(x7, rotv(i32x4.add(x3, x15), 9))
    x11 = v128.xor(x11, rotv(i32x4.add(x7, x3), 13))
    x15 = v128.xor(x15, rotv(i32x4.add(x11, x7), 18))

    x1 = v128.xor(x1, rotv(i32x4.add(x0, x3), 7))
    x2 = v128.xor(x2, rotv(i32x4.add(x1, x0), 9))
    x3 = v128.xor(x3, rotv(i32x4.add(x2, x1), 13))
    x0 = v128.xor(x0, rotv(i32x4.add(x3, x2), 18))
    x6 = v128.xor(x6, rotv(i32x4.add(x5, x4), 7))
    x7 = v128.xor(x7, rotv(i32x4.add(x6, x5), 9))
    x4 = v128.xor(x4, rotv(i32x4.add(x7, x6), 13))
    x5 = v128.xor(x5, rotv(i32x4.add(x4, x7), 18))
    x11 = v128.xor(x11, rotv(i32x4.add(x10, x9), 7))
    x8 = v128.xor(x8, rotv(i32x4.add(x11, x10), 9))
    x9 = v128.xor(x9, rotv(i32x4.add(x8, x11), 13))
    x10 = v128.xor(x10, rotv(i32x4.add(x9, x8), 18))
    x12 = v128.xor(x12, rotv(i32x4.add(x15, x14), 7))
    x13 = v128.xor(x13, rotv(i32x4.add(x12, x15), 9))
    x14 = v128.xor(x14, rotv(i32x4.add(x13, x12), 13))
    x15 = v128.xor(x15, rotv(i32x4.add(x14, x13), 18))
    if (mac != 0) {
      // 16 blocks over 10 double rounds
      polyBlock(mac, HIBIT)
      mac += 16
      if (i < 6) {
        polyBlock(mac, HIBIT)
        mac += 16
      }
    }
  }
  x0 = i32x4.add(x0, v128.load32_splat(STATE, 0))
  x1 = i32x4.add(x1, v128.load32_splat(STATE, 4))
  x2 = i32x4.add(x2, v128.load32_splat(STATE, 8))
  x3 = i32x4.add(x3, v128.load32_splat(STATE, 12))
  emit4(dst, src, 0, x0, x1, x2, x3)
  x4 = i32x4.add(x4, v128.load32_splat(STATE, 16))
  x5 = i32x4.add(x5, v128.load32_splat(STATE, 20))
  x6 = i32x4.add(x6, v128.load32_splat(STATE, 24))
  x7 = i32x4.add(x7, v128.load32_splat(STATE, 28))
  emit4(dst, src, 16, x4, x5, x6, x7)
  x8 = i32x4.add(x8, i32x4.add(i32x4.splat(ctr), i32x4(0, 1, 2, 3)))
  // x9 += 0: the counter's high word is 0 (a message in 4 GiB of memory has fewer than 2^26 blocks)
  x10 = i32x4.add(x10, v128.load32_splat(STATE, 40))
  x11 = i32x4.add(x11, v128.load32_splat(STATE, 44))
  emit4(dst, src, 32, x8, x9, x10, x11)
  x12 = i32x4.add(x12, v128.load32_splat(STATE, 48))
  x13 = i32x4.add(x13, v128.load32_splat(STATE, 52))
  x14 = i32x4.add(x14, v128.load32_splat(STATE, 56))
  x15 = i32x4.add(x15, v128.load32_splat(STATE, 60))
  emit4(dst, src, 48, x12, x13, x14, x15)
}

/**
 * Words w..w+3 of the four blocks (a, b, c, d hold word w, w+1, w+2, w+3, one block per lane),
 * transposed to block order and XORed into dst at byte `off` of each of the four blocks.
 */
// @ts-ignore: decorator
@inline
function emit4(dst: usize, src: usize, off: usize, a: v128, b: v128, c: v128, d: v128): void {
  const ab01 = i32x4.shuffle(a, b, 0, 4, 1, 5) // a0 b0 a1 b1
  const cd01 = i32x4.shuffle(c, d, 0, 4, 1, 5) // c0 d0 c1 d1
  const ab23 = i32x4.shuffle(a, b, 2, 6, 3, 7) // a2 b2 a3 b3
  const cd23 = i32x4.shuffle(c, d, 2, 6, 3, 7) // c2 d2 c3 d3
  v128.store(dst + off, v128.xor(v128.load(src + off), i64x2.shuffle(ab01, cd01, 0, 2)))
  v128.store(dst + off, v128.xor(v128.load(src + off, 64), i64x2.shuffle(ab01, cd01, 1, 3)), 64)
  v128.store(dst + off, v128.xor(v128.load(src + off, 128), i64x2.shuffle(ab23, cd23, 0, 2)), 128)
  v128.store(dst + off, v128.xor(v128.load(src + off, 192), i64x2.shuffle(ab23, cd23, 1, 3)), 192)
}

/** dst[0..n] = src[0..n] ^ ks[0..n] (dst may be src). */
function xorInto(dst: usize, src: usize, ks: usize, n: usize): void {
  let i: usize = 0
  for (; i + 16 <= n; i += 16) v128.store(dst + i, v128.xor(v128.load(src + i), v128.load(ks + i)))
  if (i + 8 <= n) {
    store<u64>(dst + i, load<u64>(src + i) ^ load<u64>(ks + i))
    i += 8
  }
  for (; i < n; i++) store<u8>(dst + i, load<u8>(src + i) ^ load<u8>(ks + i))
}

/**
 * HSalsa20 subkeys of the last few (key, nonce[0..16]) pairs: a CurveZMQ connection keeps its
 * key, and its MESSAGE nonces keep their first 16 bytes ("CurveZMQMESSAGEC"/"...S"), so its
 * boxes in each direction have one subkey. Entries: [key 32][nonce prefix 16][subkey 32][used 4]
 * [pad 12]. All entries are compared whatever the key (no key-dependent index into memory).
 */
const SLOTS: usize = 8
const ENTRY: usize = 96
const CACHE: usize = memory.data(<i32>(SLOTS * ENTRY), 16)
let nextSlot: usize = 0

/** The subkey HSalsa20(k, n[0..16]), from the cache or computed into it. */
function subkey(n: usize, k: usize): usize {
  const k0 = v128.load(k)
  const k1 = v128.load(k, 16)
  const p = v128.load(n)
  for (let e = CACHE; e < CACHE + SLOTS * ENTRY; e += ENTRY) {
    const d = v128.or(v128.or(v128.xor(v128.load(e), k0), v128.xor(v128.load(e, 16), k1)), v128.xor(v128.load(e, 32), p))
    if (!v128.any_true(d) && load<u32>(e, 80) != 0) return e + 48
  }
  const e = CACHE + nextSlot * ENTRY
  nextSlot = (nextSlot + 1) & (SLOTS - 1)
  // HSalsa20's input: constants, the key, the nonce's first 16 bytes
  store<u32>(STATE, S0, 0)
  v128.store(STATE, k0, 4)
  store<u32>(STATE, S1, 20)
  v128.store(STATE, p, 24)
  store<u32>(STATE, S2, 40)
  v128.store(STATE, k1, 44)
  store<u32>(STATE, S3, 60)
  core(e + 48, STATE, false)
  v128.store(e, k0)
  v128.store(e, k1, 16)
  v128.store(e, p, 32)
  store<u32>(e, 1, 80)
  return e + 48
}

/** The stream for nonce `n` under key `k`: STATE = Salsa20's input with the subkey HSalsa20(k, n[0..16]). */
function setup(n: usize, k: usize): void {
  const sub = subkey(n, k)
  store<u32>(STATE, S0, 0)
  v128.store(STATE, v128.load(sub), 4)
  store<u32>(STATE, S1, 20)
  store<u64>(STATE, load<u64>(n, 16), 24)
  store<u64>(STATE, 0, 32)
  store<u32>(STATE, S2, 40)
  v128.store(STATE, v128.load(sub, 16), 44)
  store<u32>(STATE, S3, 60)
}

/** The first keystream into KS (blocks 0.. as far as `len` message bytes need, up to 4) and POLYKEY. */
function firstBlocks(len: usize): void {
  if (len <= 32) block(KS, 0)
  else if (len <= 96) block2(KS, 0)
  else stream4(KS, ZERO, 0, 0)
  v128.store(POLYKEY, v128.load(KS))
  v128.store(POLYKEY, v128.load(KS, 16), 16)
}

/** The keystream from block `ctr` on, XORed with src[0..len] into dst (len < 256), via KS. */
function tail(dst: usize, src: usize, len: usize, ctr: u32): void {
  if (len == 0) return
  if (len <= 64) block(KS, ctr)
  else if (len <= 128) block2(KS, ctr)
  else stream4(KS, ZERO, ctr, 0)
  xorInto(dst, src, KS, len)
}

/**
 * dst = src ^ the stream from byte 32 of block 0, KS holding firstBlocks(len)'s keystream; then
 * the Poly1305 tag of dst[0..len] (the ciphertext) to `tag`. dst may be src.
 */
function sealStream(tag: usize, dst: usize, src: usize, len: usize): void {
  polyInit(POLYKEY)
  const head = len < 224 ? len : 224
  xorInto(dst, src, KS + 32, head)
  // block 4 on, 256 bytes at a time; from the second batch on, each one also MACs the batch
  // before it (written by then)
  let pos = head
  let ctr: u32 = 4
  let mac: usize = 0
  while (len - pos >= 256) {
    stream4(dst + pos, src + pos, ctr, pos >= 480 ? dst + mac : 0)
    if (pos >= 480) mac += 256
    pos += 256
    ctr += 4
  }
  tail(dst + pos, src + pos, len - pos, ctr)
  polyBlocks(dst + mac, (len - mac) >> 4)
  polyFinish(tag, dst + (len & ~15), len & 15, POLYKEY)
}

/**
 * Checks the tag c[0..16] of c[16..16+len] and only then writes the plaintext to m; false (m
 * holding only zeros or left as it was) when the tag is wrong. KS holds firstBlocks(len)'s keystream.
 */
function openStream(m: usize, c: usize, len: usize): bool {
  const ct = c + 16
  polyInit(POLYKEY)
  if (m != ct && len >= 480) {
    // m apart from c: m = keystream while the ciphertext is MACed, then m ^= ciphertext
    let pos: usize = 224
    let ctr: u32 = 4
    while (len - pos >= 256) {
      stream4(m + pos, ZERO, ctr, ct + pos - 224)
      pos += 256
      ctr += 4
    }
    const mac = pos - 224
    polyBlocks(ct + mac, (len - mac) >> 4)
    polyFinish(TAG, ct + (len & ~15), len & 15, POLYKEY)
    if (!tagEquals(TAG, c)) {
      memory.fill(m, 0, pos)
      return false
    }
    xorInto(m, ct, KS + 32, 224)
    xorInto(m + 224, ct + 224, m + 224, pos - 224)
    tail(m + pos, ct + pos, len - pos, ctr)
    return true
  }
  // in place, or short: verify, then decrypt
  polyBlocks(ct, len >> 4)
  polyFinish(TAG, ct + (len & ~15), len & 15, POLYKEY)
  if (!tagEquals(TAG, c)) return false
  const head = len < 224 ? len : 224
  xorInto(m, ct, KS + 32, head)
  let pos = head
  let ctr: u32 = 4
  while (len - pos >= 256) {
    stream4(m + pos, ct + pos, ctr, 0)
    pos += 256
    ctr += 4
  }
  tail(m + pos, ct + pos, len - pos, ctr)
  return true
}

/** Whether the 16-byte tags at a and b are equal, in constant time (no exit at the first difference). */
function tagEquals(a: usize, b: usize): bool {
  return ((load<u64>(a) ^ load<u64>(b)) | (load<u64>(a, 8) ^ load<u64>(b, 8))) == 0
}

// ---- Poly1305 ------------------------------------------------------------------------------

const M26: u64 = 0x3ffffff

/** 2^128: the bit above each full 16-byte block. */
const HIBIT: u64 = 1 << 24

// r (clamped) and the accumulator h, in 26-bit limbs
let R0: u64 = 0
let R1: u64 = 0
let R2: u64 = 0
let R3: u64 = 0
let R4: u64 = 0
// 5 r (2^130 = 5 mod p: limbs past the top come back times 5)
let R1x5: u64 = 0
let R2x5: u64 = 0
let R3x5: u64 = 0
let R4x5: u64 = 0
let H0: u64 = 0
let H1: u64 = 0
let H2: u64 = 0
let H3: u64 = 0
let H4: u64 = 0

/** Starts a tag under the one-time key at `key` (r = its first 16 bytes, clamped). */
function polyInit(key: usize): void {
  R0 = <u64>(load<u32>(key, 0) & 0x3ffffff)
  R1 = <u64>((load<u32>(key, 3) >> 2) & 0x3ffff03)
  R2 = <u64>((load<u32>(key, 6) >> 4) & 0x3ffc0ff)
  R3 = <u64>((load<u32>(key, 9) >> 6) & 0x3f03fff)
  R4 = <u64>((load<u32>(key, 12) >> 8) & 0x00fffff)
  R1x5 = R1 * 5
  R2x5 = R2 * 5
  R3x5 = R3 * 5
  R4x5 = R4 * 5
  H0 = 0
  H1 = 0
  H2 = 0
  H3 = 0
  H4 = 0
}

/** h = (h + the 16-byte block at m, plus `hibit` at 2^128) * r mod 2^130 - 5. */
// @ts-ignore: decorator
@inline
function polyBlock(m: usize, hibit: u64): void {
  const r0 = R0
  const r1 = R1
  const r2 = R2
  const r3 = R3
  const r4 = R4
  const s1 = R1x5
  const s2 = R2x5
  const s3 = R3x5
  const s4 = R4x5
  const h0 = H0 + <u64>(load<u32>(m, 0) & 0x3ffffff)
  const h1 = H1 + <u64>((load<u32>(m, 3) >> 2) & 0x3ffffff)
  const h2 = H2 + <u64>((load<u32>(m, 6) >> 4) & 0x3ffffff)
  const h3 = H3 + <u64>((load<u32>(m, 9) >> 6) & 0x3ffffff)
  const h4 = H4 + (<u64>(load<u32>(m, 12) >> 8) | hibit)
  const d0 = h0 * r0 + h1 * s4 + h2 * s3 + h3 * s2 + h4 * s1
  let d1 = h0 * r1 + h1 * r0 + h2 * s4 + h3 * s3 + h4 * s2
  let d2 = h0 * r2 + h1 * r1 + h2 * r0 + h3 * s4 + h4 * s3
  let d3 = h0 * r3 + h1 * r2 + h2 * r1 + h3 * r0 + h4 * s4
  let d4 = h0 * r4 + h1 * r3 + h2 * r2 + h3 * r1 + h4 * r0
  let c = d0 >> 26
  let g0 = d0 & M26
  d1 += c
  c = d1 >> 26
  const g1 = d1 & M26
  d2 += c
  c = d2 >> 26
  H2 = d2 & M26
  d3 += c
  c = d3 >> 26
  H3 = d3 & M26
  d4 += c
  c = d4 >> 26
  H4 = d4 & M26
  g0 += c * 5
  c = g0 >> 26
  H0 = g0 & M26
  H1 = g1 + c
}

/** `n` full blocks from m. */
function polyBlocks(m: usize, n: usize): void {
  for (; n > 0; n--) {
    polyBlock(m, HIBIT)
    m += 16
  }
}

/** The last `len` (< 16) bytes at m, then the tag (h + s mod 2^128, s = key[16..32]) to out. */
function polyFinish(out: usize, m: usize, len: usize, key: usize): void {
  if (len > 0) {
    // the last block: its bytes, a 1, zeros; no 2^128 bit
    store<u64>(LAST, 0)
    store<u64>(LAST, 0, 8)
    let i: usize = 0
    if (len >= 8) {
      store<u64>(LAST, load<u64>(m))
      i = 8
    }
    for (; i < len; i++) store<u8>(LAST + i, load<u8>(m + i))
    store<u8>(LAST + len, 1)
    polyBlock(LAST, 0)
  }
  let h0 = H0
  let h1 = H1
  let h2 = H2
  let h3 = H3
  let h4 = H4
  // Carry fully (twice: after one pass h1 may still be 2^26), so that every limb is below 2^26.
  for (let i = 0; i < 2; i++) {
    let c = h1 >> 26
    h1 &= M26
    h2 += c
    c = h2 >> 26
    h2 &= M26
    h3 += c
    c = h3 >> 26
    h3 &= M26
    h4 += c
    c = h4 >> 26
    h4 &= M26
    h0 += c * 5
    c = h0 >> 26
    h0 &= M26
    h1 += c
  }
  // h mod p: g = h + 5 - 2^130; take g unless it is negative (then h < p)
  let g0 = h0 + 5
  let c = g0 >> 26
  g0 &= M26
  let g1 = h1 + c
  c = g1 >> 26
  g1 &= M26
  let g2 = h2 + c
  c = g2 >> 26
  g2 &= M26
  let g3 = h3 + c
  c = g3 >> 26
  g3 &= M26
  const g4 = h4 + c - (<u64>1 << 26)
  const takeG = (g4 >> 63) - 1 // all ones when g4 >= 0
  const takeH = ~takeG
  h0 = (h0 & takeH) | (g0 & takeG)
  h1 = (h1 & takeH) | (g1 & takeG)
  h2 = (h2 & takeH) | (g2 & takeG)
  h3 = (h3 & takeH) | (g3 & takeG)
  h4 = (h4 & takeH) | (g4 & takeG)
  // tag = (h + s) mod 2^128
  let f = ((h0 | (h1 << 26)) & 0xffffffff) + <u64>load<u32>(key, 16)
  store<u32>(out, <u32>f, 0)
  f = (((h1 >> 6) | (h2 << 20)) & 0xffffffff) + <u64>load<u32>(key, 20) + (f >> 32)
  store<u32>(out, <u32>f, 4)
  f = (((h2 >> 12) | (h3 << 14)) & 0xffffffff) + <u64>load<u32>(key, 24) + (f >> 32)
  store<u32>(out, <u32>f, 8)
  f = (((h3 >> 18) | (h4 << 8)) & 0xffffffff) + <u64>load<u32>(key, 28) + (f >> 32)
  store<u32>(out, <u32>f, 12)
}

// ---- secretbox -----------------------------------------------------------------------------

/**
 * crypto_secretbox_easy: c[0..16] = tag, c[16..16+mlen] = ciphertext of m[0..mlen], nonce
 * n[0..24], key k[0..32]. m may be c + 16 (in place); otherwise the two must not overlap.
 */
export function seal(c: usize, m: usize, mlen: usize, n: usize, k: usize): void {
  setup(n, k)
  firstBlocks(mlen)
  sealStream(c, c + 16, m, mlen)
}

/**
 * crypto_secretbox_open_easy: checks the tag c[0..16] of c[16..clen] and only then writes the
 * clen - 16 plaintext bytes to m; 0, or -1 when the box does not authenticate (m then holds no
 * plaintext: it is left as it was or zeroed). m may be c + 16 (in place); otherwise the two
 * must not overlap.
 */
export function open(m: usize, c: usize, clen: usize, n: usize, k: usize): i32 {
  if (clen < 16) return -1
  const mlen = clen - 16
  setup(n, k)
  firstBlocks(mlen)
  return openStream(m, c, mlen) ? 0 : -1
}

/**
 * Forgets every key: the subkey cache (keys, nonce prefixes, subkeys), the cipher state, the
 * keystream, the one-time key and the Poly1305 state. omq calls it when a CURVE connection ends
 * (the next box of any other connection computes its subkey again).
 */
export function wipe(): void {
  memory.fill(CACHE, 0, SLOTS * ENTRY)
  nextSlot = 0
  memory.fill(STATE, 0, 64)
  memory.fill(KS, 0, 256)
  memory.fill(POLYKEY, 0, 32)
  memory.fill(LAST, 0, 16)
  memory.fill(TAG, 0, 16)
  R0 = 0
  R1 = 0
  R2 = 0
  R3 = 0
  R4 = 0
  R1x5 = 0
  R2x5 = 0
  R3x5 = 0
  R4x5 = 0
  H0 = 0
  H1 = 0
  H2 = 0
  H3 = 0
  H4 = 0
}
