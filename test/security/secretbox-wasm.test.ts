/**
 * omq's XSalsa20-Poly1305 WebAssembly module (wasm/secretbox/index.ts, committed as
 * lib/security/secretbox-wasm.ts): byte for byte libsodium's crypto_secretbox_easy, and its open
 * rejects whatever does not authenticate. The module is driven directly here, at chosen (also
 * unaligned, also in-place) addresses; crypto-backends.test.ts covers it through crypto.ts.
 */
import fc from "fast-check"
import sodium from "libsodium-wrappers"
import { readFileSync } from "node:fs"
import { randomBytes } from "node:crypto"
import { beforeAll, describe, expect, it } from "vitest"
// @ts-expect-error a plain-JavaScript build script, without declarations
import { compile, render } from "../../scripts/build-wasm.mjs"
import { SECRETBOX_WASM } from "../../lib/security/secretbox-wasm.js"
import { cipherBackend, openMessageAt, sealMessage, useCipher } from "../../lib/security/crypto.js"

/** The WebAssembly API as used here (the project's lib has no DOM types). */
interface WasmApi {
  validate(bytes: Uint8Array): boolean
  instantiate(bytes: Uint8Array): Promise<{ instance: { exports: unknown } }>
  Module: {
    new (bytes: Uint8Array): object
    imports(m: object): { module: string; name: string }[]
    exports(m: object): { name: string }[]
  }
}
const WebAssembly = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly

interface Exports {
  memory: { readonly buffer: ArrayBuffer; grow(pages: number): number }
  heapBase(): number
  seal(c: number, m: number, mlen: number, n: number, k: number): void
  open(m: number, c: number, clen: number, n: number, k: number): number
}

const bytes = Buffer.from(SECRETBOX_WASM, "base64")
let w: Exports
let base = 0

beforeAll(async () => {
  await sodium.ready
  w = (await WebAssembly.instantiate(bytes)).instance.exports as unknown as Exports
  base = w.heapBase()
})

/** The memory as bytes, with room for `n` bytes past the arena's start. */
function heap(n: number): Uint8Array {
  const need = base + n
  if (need > w.memory.buffer.byteLength) w.memory.grow(Math.ceil((need - w.memory.buffer.byteLength) / 65536))
  return new Uint8Array(w.memory.buffer)
}

interface Layout {
  /** Where the message (seal's input, open's output) starts, from the arena's start. */
  m: number
  /** Where the box starts. */
  c: number
}

/** Key at +0, nonce at +32; the message and box where `at` says (in place: c + 16 = m). */
function layout(len: number, shift: number, inPlace: boolean): Layout {
  if (inPlace) return { c: 64 + shift, m: 64 + shift + 16 }
  return { m: 64 + shift, c: 64 + shift + len + 3 + (shift % 5) }
}

function seal(m: Uint8Array, n: Uint8Array, k: Uint8Array, at: Layout = layout(m.length, 0, false)): Buffer {
  const h = heap(Math.max(at.m, at.c) + m.length + 16 + 64)
  h.set(k, base)
  h.set(n, base + 32)
  h.set(m, base + at.m)
  w.seal(base + at.c, base + at.m, m.length, base + 32, base)
  return Buffer.from(h.slice(base + at.c, base + at.c + m.length + 16))
}

/** The opened message, or null; a failed open leaves no plaintext: each byte of m as it was, or 0. */
function open(c: Uint8Array, n: Uint8Array, k: Uint8Array, at: Layout = layout(Math.max(0, c.length - 16), 0, false)): Buffer | null {
  const mlen = Math.max(0, c.length - 16)
  const h = heap(Math.max(at.m, at.c) + c.length + 64)
  h.set(k, base)
  h.set(n, base + 32)
  h.set(c, base + at.c)
  const before = Buffer.from(h.slice(base + at.m, base + at.m + mlen))
  const r = w.open(base + at.m, base + at.c, c.length, base + 32, base)
  const after = Buffer.from(new Uint8Array(w.memory.buffer).slice(base + at.m, base + at.m + mlen))
  if (r !== 0) {
    expect(r).toBe(-1)
    for (let i = 0; i < mlen; i++) if (after[i] !== before[i] && after[i] !== 0) expect.fail(`byte ${i} of m was written`)
    return null
  }
  return after
}

const libsodium = (m: Uint8Array, n: Uint8Array, k: Uint8Array) => Buffer.from(sodium.crypto_secretbox_easy(m, n, k))

describe("secretbox WebAssembly module", () => {
  it("is what its source compiles to (npm run build:wasm), needs no imports, and uses SIMD", async () => {
    const fresh: Buffer = await compile()
    expect(render(fresh)).toBe(readFileSync(new URL("../../lib/security/secretbox-wasm.ts", import.meta.url), "utf8"))
    const mod = new WebAssembly.Module(bytes)
    expect(WebAssembly.Module.imports(mod)).toEqual([])
    expect(
      WebAssembly.Module.exports(mod)
        .map((e) => e.name)
        .sort(),
    ).toEqual(["heapBase", "memory", "open", "seal", "wipe"])
    // v128 opcodes (0xfd prefix) make it invalid without SIMD; here it validates
    expect(WebAssembly.validate(bytes)).toBe(true)
  })

  /** Seals random messages of each length as libsodium does, and opens libsodium's boxes. */
  function agreesAt(lengths: Iterable<number>): void {
    for (const len of lengths) {
      const k = randomBytes(32)
      const n = randomBytes(24)
      const m = randomBytes(len)
      const box = libsodium(m, n, k)
      expect(seal(m, n, k).equals(box), `length ${len}`).toBe(true)
      expect(open(box, n, k)?.equals(m), `length ${len}`).toBe(true)
    }
  }

  it("seals every length 0..600 as libsodium does, and opens libsodium's boxes", () => {
    agreesAt(Array.from({ length: 601 }, (_, i) => i))
  })

  it("agrees with libsodium at 64 KiB, 1 MiB and around the 4-block (256-byte) batches", () => {
    agreesAt([65_536, 1 << 20, 224, 225, 480, 481, 65_536 - 32, 65_536 + 1, 70_000])
  })

  it("random lengths up to 70,000 at unaligned and in-place addresses: libsodium's bytes, round trips", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 70_000 }),
        fc.integer({ min: 0, max: 31 }),
        fc.boolean(),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ minLength: 24, maxLength: 24 }),
        (len, shift, inPlace, k, n) => {
          const m = randomBytes(len)
          const at = layout(len, shift, inPlace)
          const box = seal(m, n, k, at)
          expect(box.equals(libsodium(m, n, k))).toBe(true)
          expect(open(box, n, k, at)?.equals(m)).toBe(true)
        },
      ),
      { numRuns: 150 },
    )
  })

  it("keys and nonce prefixes that come back (its HSalsa20 subkey cache: 8 entries) still give libsodium's bytes", () => {
    // 12 keys x 2 prefixes ("...MESSAGEC"/"...MESSAGES", as CURVE's two directions) = 24 pairs,
    // more than the cache holds: hits, misses and evictions in a random order
    const keys = Array.from({ length: 12 }, () => randomBytes(32))
    const prefixes = [Buffer.from("CurveZMQMESSAGEC"), Buffer.from("CurveZMQMESSAGES")]
    let counter = 0n
    for (let i = 0; i < 600; i++) {
      const pick = i < 300 ? i % 3 : Math.floor(Math.random() * keys.length) // first few pairs often, then all
      const k = keys[pick]!
      const n = Buffer.concat([prefixes[i & 1]!, Buffer.alloc(8)])
      n.writeBigUInt64BE(counter++, 16)
      const m = randomBytes(i % 97)
      const box = libsodium(m, n, k)
      expect(seal(m, n, k).equals(box), `box ${i}`).toBe(true)
      expect(open(box, n, k)?.equals(m), `box ${i}`).toBe(true)
      const other = Buffer.from(k)
      other[i % 32]! ^= 1 << (i & 7) // a key one bit away from a cached one
      expect(open(box, n, other)).toBeNull()
    }
  })

  it("open rejects a flipped bit in the tag or the body, a wrong key or nonce, and a box shorter than a tag", () => {
    for (const len of [0, 1, 31, 32, 33, 200, 1000, 65_536]) {
      const k = randomBytes(32)
      const n = randomBytes(24)
      const m = randomBytes(len)
      const box = seal(m, n, k)
      for (const bit of [0, 7, 8 * 15 + 7, ...(len > 0 ? [8 * 16, 8 * (16 + len) - 1, 8 * (16 + (len >> 1)) + 3] : [])]) {
        const bad = Buffer.from(box)
        bad[bit >> 3]! ^= 1 << (bit & 7)
        expect(open(bad, n, k), `length ${len}, bit ${bit}`).toBeNull()
        expect(open(bad, n, k, layout(len, 5, true)), `in place, length ${len}, bit ${bit}`).toBeNull()
      }
      const otherKey = Buffer.from(k)
      otherKey[31]! ^= 0x80
      expect(open(box, n, otherKey)).toBeNull()
      const otherNonce = Buffer.from(n)
      otherNonce[23]! ^= 1
      expect(open(box, otherNonce, k)).toBeNull()
      expect(open(box, n, k)?.equals(m)).toBe(true)
    }
    const k = randomBytes(32)
    const n = randomBytes(24)
    for (let len = 0; len < 16; len++) expect(open(randomBytes(len), n, k)).toBeNull()
  })

  it("through crypto.ts: MESSAGE boxes bigger than the module's memory grow it, and smaller ones after still agree", async () => {
    expect(await useCipher("simd")).toBe(true)
    expect(cipherBackend()).toBe("simd")
    for (const size of [10, 70_000, 3 * 1024 * 1024 + 7, 64, 200_000]) {
      const key = randomBytes(32)
      const nonce = randomBytes(24)
      const body = randomBytes(size)
      const out = Buffer.alloc(3 + 17 + size)
      sealMessage(key, nonce, 1, body, out, 3)
      const plain = Buffer.concat([Buffer.from([1]), body])
      expect(out.subarray(3).equals(libsodium(plain, nonce, key)), `size ${size}`).toBe(true)
      const opened = openMessageAt(key, nonce, out, 3)
      expect(opened?.flags).toBe(1)
      expect(opened?.body.equals(body), `size ${size}`).toBe(true)
    }
  })
})
