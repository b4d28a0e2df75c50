/**
 * NaCl crypto_box primitives used by CurveZMQ. X25519 comes from @noble/curves and HSalsa20
 * from @noble/ciphers; XSalsa20-Poly1305 (crypto_secretbox) from one of three backends, all
 * producing the same bytes:
 *
 * - omq's own WebAssembly module with SIMD (wasm/secretbox/index.ts, AssemblyScript, compiled
 *   into ./secretbox-wasm.ts). This is hand-written cryptography: written from the Salsa20,
 *   XSalsa20 and Poly1305 specifications and tested byte for byte against libsodium's
 *   crypto_secretbox_easy / _open_easy (test/security/secretbox-wasm.test.ts). About 2x
 *   libsodium's WebAssembly build at 64 KiB boxes (bench/secretbox.ts).
 * - libsodium's WebAssembly build (libsodium-wrappers), where the runtime has no WebAssembly
 *   SIMD or ours fails to load.
 * - @noble/ciphers' pure-JS cipher, until a WebAssembly backend has loaded, and for good if
 *   neither can.
 *
 * Box format is libsodium's "easy" form: a 16-byte Poly1305 tag followed by the ciphertext,
 * which is exactly what libzmq puts on the wire.
 *
 * The WebAssembly backend is loaded on the first CURVE connection (loadFastCipher), so
 * processes without CURVE do not pay for it. Both WebAssembly backends work on one arena of
 * their memory, reused by every call: a box costs one copy in and one copy out.
 */
import { x25519 } from "@noble/curves/ed25519.js"
import { hsalsa, xsalsa20poly1305 } from "@noble/ciphers/salsa.js"
import type SodiumModule from "libsodium-wrappers"
import { randomBytes } from "node:crypto"
import { SECRETBOX_WASM } from "./secretbox-wasm.js"

/** Which cipher the boxes use now. */
export type CipherBackend = "simd" | "libsodium" | "noble"

// ---- omq's WebAssembly module (wasm/secretbox/index.ts) ----

/** The part of the WebAssembly API used here (typed locally: the project's lib has no DOM types). */
interface WasmApi {
  validate(bytes: Uint8Array): boolean
  instantiate(bytes: Uint8Array): Promise<{ instance: { exports: unknown } }>
}

interface SimdBox {
  memory: { readonly buffer: ArrayBuffer; grow(pages: number): number }
  heapBase(): number
  seal(c: number, m: number, mlen: number, n: number, k: number): void
  open(m: number, c: number, clen: number, n: number, k: number): number
  wipe(): void
}
let simd: SimdBox | null = null
/**
 * Its arena, from heapBase(): [key 32][nonce 24][pad 8][tag 16][message: cap][plaintext: cap].
 * seal() encrypts the message in place, the tag before it; open() checks the tag and box at
 * simdBox and writes the plaintext apart (its fastest case: the tag is computed while the
 * keystream is, and no plaintext is written before the tag checks out).
 */
let simdKey = 0
let simdNonce = 0
let simdBox = 0
let simdMsg = 0
let simdPlain = 0
/** The most message bytes the arena has room for now (the memory only grows when we grow it). */
let simdCap = -1
/** The memory as a Buffer, made again when it has grown. */
let simdHeap: Buffer = Buffer.alloc(0)

function simdReserve(b: SimdBox, n: number): Buffer {
  if (n > simdCap) {
    const mem = b.memory
    const cap = Math.max(n, 2 * simdCap, 65536 - 16)
    const need = simdMsg + 2 * cap + 16
    if (need > mem.buffer.byteLength) mem.grow(Math.ceil((need - mem.buffer.byteLength) / 65536))
    simdCap = cap
    simdPlain = simdMsg + cap
    simdHeap = Buffer.from(mem.buffer)
  }
  return simdHeap
}

function simdKeyed(b: SimdBox, key: Uint8Array, nonce: Uint8Array, n: number): Buffer {
  // the arena would fill a short key or nonce up with the last call's bytes
  if (key.length !== 32 || nonce.length !== 24) throw new RangeError("secretbox: the key is 32 bytes and the nonce 24")
  const heap = simdReserve(b, n)
  heap.set(key, simdKey)
  heap.set(nonce, simdNonce)
  return heap
}

/** Instantiates the module (asynchronously: browsers refuse large synchronous compiles). */
async function loadSimd(): Promise<SimdBox | null> {
  const wasm = (globalThis as { WebAssembly?: WasmApi }).WebAssembly
  const bytes = Buffer.from(SECRETBOX_WASM, "base64")
  // validate() is false where the runtime lacks WebAssembly SIMD: libsodium's scalar build then
  if (wasm === undefined || !wasm.validate(bytes)) return null
  const { instance } = await wasm.instantiate(bytes)
  const b = instance.exports as unknown as SimdBox
  const base = b.heapBase()
  simdKey = base
  simdNonce = base + 32
  simdBox = base + 64
  simdMsg = base + 80
  simdReserve(b, 0)
  return b
}

// ---- libsodium's WebAssembly build (libsodium-wrappers) ----

let sodium: typeof SodiumModule | null = null

/**
 * libsodium's own functions under the wrappers (the Emscripten module): the MESSAGE boxes call
 * crypto_secretbox_easy / _open_easy on one arena of WebAssembly memory, reused by every call
 * (the wrappers allocate and free four regions and two typed arrays per call, and copy the
 * result once more), so a box costs one copy in and one copy out. Same function, same bytes.
 */
interface RawSodium {
  _malloc(n: number): number
  _free(p: number): void
  HEAPU8: Uint8Array
  _crypto_secretbox_easy(c: number, m: number, mlenLow: number, mlenHigh: number, n: number, k: number): number
  _crypto_secretbox_open_easy(m: number, c: number, clenLow: number, clenHigh: number, n: number, k: number): number
}
let raw: RawSodium | null = null
/** The arena: [key 32][nonce 24][pad 8][input cap][output cap]. */
let arena = 0
let arenaCap = 0
const ARENA_HEAD = 64
/** An arena grown past this for one big message is given back after it. */
const ARENA_KEEP = 4 * 1024 * 1024

/** The arena with room for `n` bytes in and `n` + 16 out; returns its address (HEAPU8 may have moved). */
function reserve(r: RawSodium, n: number): number {
  if (n + 16 > arenaCap) {
    if (arena !== 0) r._free(arena)
    arenaCap = Math.max(n + 16, 2 * arenaCap, 4096)
    arena = r._malloc(ARENA_HEAD + 2 * arenaCap)
    if (arena === 0) {
      arenaCap = 0
      throw new Error("libsodium: out of memory")
    }
  }
  return arena
}

function release(r: RawSodium): void {
  if (arenaCap > ARENA_KEEP) {
    r._free(arena)
    arena = 0
    arenaCap = 0
  }
}

/** The arena for `len` bytes in, with `key` at its start and `nonce` after (read HEAPU8 after it: it may have grown). */
function keyed(r: RawSodium, key: Uint8Array, nonce: Uint8Array, len: number): number {
  const base = reserve(r, len)
  r.HEAPU8.set(key, base)
  r.HEAPU8.set(nonce, base + 32)
  return base
}

/** HEAPU8 as a Buffer (copy() without a view per call), made again when the memory has grown. */
let heapBuf: Buffer | null = null
function heapBuffer(r: RawSodium): Buffer {
  const h = r.HEAPU8
  if (heapBuf === null || heapBuf.buffer !== h.buffer) heapBuf = Buffer.from(h.buffer, h.byteOffset, h.byteLength)
  return heapBuf
}

async function loadSodium(): Promise<void> {
  const m = await import("libsodium-wrappers")
  const mod = ((m as { default?: typeof SodiumModule }).default ?? m) as typeof SodiumModule
  await mod.ready
  sodium = mod
  const lib = (mod as unknown as { libsodium?: Partial<RawSodium> }).libsodium
  if (
    lib !== undefined &&
    typeof lib._malloc === "function" &&
    typeof lib._free === "function" &&
    typeof lib._crypto_secretbox_easy === "function" &&
    typeof lib._crypto_secretbox_open_easy === "function" &&
    lib.HEAPU8 instanceof Uint8Array
  )
    raw = lib as RawSodium
}

// ---- the boxes ----

/** The backend in use: simd's module, libsodium's, or neither (@noble's cipher). */
let active: CipherBackend = "noble"

/**
 * A CurveZMQ MESSAGE box of [flags, ...body] under `key` and `nonce`, written at `out[off]`
 * (tag, then ciphertext: 17 + body.length bytes).
 */
export function sealMessage(key: Uint8Array, nonce: Uint8Array, flags: number, body: Uint8Array, out: Buffer, off: number): void {
  const mlen = 1 + body.length
  if (active === "simd") {
    const b = simd!
    const heap = simdKeyed(b, key, nonce, mlen)
    const m = simdMsg
    heap[m] = flags
    heap.set(body, m + 1)
    b.seal(simdBox, m, mlen, simdNonce, simdKey)
    heap.copy(out, off, simdBox, m + mlen)
    return
  }
  const r = raw
  if (active === "noble" || r === null) {
    const plain = Buffer.allocUnsafe(mlen)
    plain[0] = flags
    plain.set(body, 1)
    out.set(seal(key, nonce, plain), off)
    return
  }
  const k = keyed(r, key, nonce, mlen)
  const heap = heapBuffer(r)
  const n = k + 32
  const m = k + ARENA_HEAD
  const c = m + arenaCap
  heap[m] = flags
  heap.set(body, m + 1)
  r._crypto_secretbox_easy(c, m, mlen, 0, n, k)
  heap.copy(out, off, c, c + mlen + 16)
  release(r)
}

/**
 * Opens the MESSAGE box at `msg[off..]`: the body after its flags byte (a new buffer) and the
 * flags, or null when it does not authenticate (or is shorter than a tag and a flags byte).
 */
export function openMessageAt(key: Uint8Array, nonce: Uint8Array, msg: Buffer, off: number): { flags: number; body: Buffer } | null {
  const len = msg.length - off
  if (active === "simd") {
    if (len < 17) return null
    const b = simd!
    const heap = simdKeyed(b, key, nonce, len - 16)
    const m = simdPlain
    msg.copy(heap, simdBox, off)
    if (b.open(m, simdBox, len, simdNonce, simdKey) !== 0) return null
    const body = Buffer.allocUnsafe(len - 17)
    heap.copy(body, 0, m + 1, m + len - 16)
    return { flags: heap[m]!, body }
  }
  const r = raw
  if (active === "noble" || r === null) {
    const plain = open(key, nonce, msg.subarray(off))
    return plain === null || plain.length < 1 ? null : { flags: plain[0]!, body: plain.subarray(1) }
  }
  if (len < 17) return null
  const k = keyed(r, key, nonce, len)
  const heap = heapBuffer(r)
  const n = k + 32
  const c = k + ARENA_HEAD
  const m = c + arenaCap
  msg.copy(heap, c, off)
  let out: { flags: number; body: Buffer } | null = null
  if (r._crypto_secretbox_open_easy(m, c, len, 0, n, k) === 0) {
    const body = Buffer.allocUnsafe(len - 17)
    heap.copy(body, 0, m + 1, m + len - 16)
    out = { flags: heap[m]!, body }
  }
  release(r)
  return out
}

/**
 * Forgets the keys the WebAssembly ciphers keep between boxes: omq's module's subkey cache and
 * state, and the key, nonce and message bytes left in either backend's arena. Called when a
 * CURVE connection ends (CurveCodec.dispose); another connection's next box only recomputes
 * its subkey.
 */
export function wipeCipherState(): void {
  if (simd !== null) {
    simd.wipe()
    if (simdCap >= 0) simdHeap.fill(0, simdKey, simdPlain + simdCap)
  }
  if (raw !== null && arena !== 0) heapBuffer(raw).fill(0, arena, arena + ARENA_HEAD + 2 * arenaCap)
}

/** @internal For tests: the memory of the WebAssembly cipher in use, or null (@noble's). */
export function cipherMemoryForTests(): Uint8Array | null {
  if (active === "simd") return new Uint8Array(simd!.memory.buffer)
  return active === "libsodium" ? raw!.HEAPU8 : null
}

let loading: Promise<void> | null = null

/**
 * Starts loading the WebAssembly cipher (idempotent): omq's SIMD module where the runtime has
 * WebAssembly SIMD, else libsodium's; resolves when one is in use or neither could load.
 */
export function loadFastCipher(): Promise<void> {
  loading ??= useCipher("simd")
    .catch(() => false)
    .then((ok) => (ok ? true : useCipher("libsodium")))
    .then(
      () => undefined,
      () => undefined, // stay on the pure-JS cipher
    )
  return loading
}

/**
 * Switches the boxes to `backend`, loading it first; false when it cannot run here (simd:
 * no WebAssembly SIMD). For loadFastCipher and the tests, which compare the three.
 * @internal
 */
export async function useCipher(backend: CipherBackend): Promise<boolean> {
  if (backend === "simd") {
    simd ??= await loadSimd()
    if (simd === null) return false
  } else if (backend === "libsodium") {
    if (sodium === null) await loadSodium()
    if (raw === null) return false
  }
  active = backend
  return true
}

/** The backend the boxes use now. @internal */
export function cipherBackend(): CipherBackend {
  return active
}

function asBuffer(u: Uint8Array): Buffer {
  return Buffer.from(u.buffer, u.byteOffset, u.byteLength)
}

const SIGMA = new Uint32Array([0x61707865, 0x3320646e, 0x79622d32, 0x6b206574]) // "expand 32-byte k"

export interface KeyPair {
  publicKey: Buffer
  secretKey: Buffer
}

export function generateKeyPair(): KeyPair {
  const secretKey = randomBytes(32)
  return { publicKey: Buffer.from(x25519.getPublicKey(secretKey)), secretKey }
}

export function publicKeyOf(secretKey: Uint8Array): Buffer {
  return Buffer.from(x25519.getPublicKey(secretKey))
}

function toWords(bytes: Uint8Array): Uint32Array {
  const w = new Uint32Array(bytes.length / 4)
  for (let i = 0; i < w.length; i++) {
    w[i] = (bytes[i * 4]! | (bytes[i * 4 + 1]! << 8) | (bytes[i * 4 + 2]! << 16) | (bytes[i * 4 + 3]! << 24)) >>> 0
  }
  return w
}

/** crypto_box_beforenm: the shared key for a (their public, our secret) pair. */
export function precompute(theirPublic: Uint8Array, ourSecret: Uint8Array): Uint8Array {
  const shared = x25519.getSharedSecret(ourSecret, theirPublic)
  const out = new Uint32Array(8)
  hsalsa(SIGMA, toWords(shared), new Uint32Array(4), out)
  const key = new Uint8Array(32)
  for (let i = 0; i < 8; i++) {
    const v = out[i]!
    key[i * 4] = v & 0xff
    key[i * 4 + 1] = (v >>> 8) & 0xff
    key[i * 4 + 2] = (v >>> 16) & 0xff
    key[i * 4 + 3] = (v >>> 24) & 0xff
  }
  return key
}

/** crypto_box_afternm: tag + ciphertext. */
export function seal(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array): Buffer {
  if (active === "simd") {
    const b = simd!
    const heap = simdKeyed(b, key, nonce, plaintext.length)
    heap.set(plaintext, simdMsg)
    b.seal(simdBox, simdMsg, plaintext.length, simdNonce, simdKey)
    return Buffer.from(heap.subarray(simdBox, simdMsg + plaintext.length))
  }
  if (active === "libsodium" && sodium !== null) return asBuffer(sodium.crypto_secretbox_easy(plaintext, nonce, key))
  const c = xsalsa20poly1305(key, nonce).encrypt(plaintext)
  return Buffer.from(c.buffer, c.byteOffset, c.byteLength)
}

/** crypto_box_open_afternm: the plaintext, or null when the box does not authenticate. */
export function open(key: Uint8Array, nonce: Uint8Array, box: Uint8Array): Buffer | null {
  if (box.length < 16) return null
  if (active === "simd") {
    const b = simd!
    const heap = simdKeyed(b, key, nonce, box.length - 16)
    heap.set(box, simdBox)
    if (b.open(simdPlain, simdBox, box.length, simdNonce, simdKey) !== 0) return null
    return Buffer.from(heap.subarray(simdPlain, simdPlain + box.length - 16))
  }
  try {
    if (active === "libsodium" && sodium !== null) return asBuffer(sodium.crypto_secretbox_open_easy(box, nonce, key))
    const p = xsalsa20poly1305(key, nonce).decrypt(box)
    return Buffer.from(p.buffer, p.byteOffset, p.byteLength)
  } catch {
    return null
  }
}

/** crypto_secretbox with a symmetric key (the server's cookie). */
export const secretSeal = seal
export const secretOpen = open
