import { xsalsa20poly1305 } from "@noble/ciphers/salsa.js"
import sodium from "libsodium-wrappers"
import { describe, expect, it } from "vitest"
import { randomBytes } from "node:crypto"
import {
  cipherBackend,
  loadFastCipher,
  open,
  openMessageAt,
  seal,
  sealMessage,
  useCipher,
  type CipherBackend,
} from "../../lib/security/crypto.js"

const backends: CipherBackend[] = ["simd", "libsodium", "noble"]

describe("CURVE box backends (omq's SIMD WebAssembly, libsodium's WebAssembly, @noble's pure JS)", () => {
  it("loadFastCipher picks omq's SIMD module where the runtime has WebAssembly SIMD", async () => {
    expect(cipherBackend()).toBe("noble")
    await loadFastCipher()
    expect(cipherBackend()).toBe("simd")
  })

  it.each(backends)("%s: produce the same bytes and open each other's boxes", async (backend) => {
    await sodium.ready
    expect(await useCipher(backend)).toBe(true)
    for (const size of [0, 1, 64, 1000, 65536]) {
      const key = Buffer.alloc(32, size % 251)
      const nonce = Buffer.alloc(24, 7)
      const plain = Buffer.alloc(size, 0x5a)
      const fast = seal(key, nonce, plain)
      const slow = Buffer.from(xsalsa20poly1305(key, nonce).encrypt(plain))
      expect(fast.equals(slow)).toBe(true)
      expect(open(key, nonce, slow)?.equals(plain)).toBe(true)
      const tampered = Buffer.from(slow)
      tampered[tampered.length - 1]! ^= 1
      expect(open(key, nonce, tampered)).toBeNull()
    }
  })

  it.each(backends)(
    "%s: MESSAGE boxes sealed and opened on the arena are @noble's bytes, for sizes around the arena's growth and past its keep limit",
    async (backend) => {
      expect(await useCipher(backend)).toBe(true)
      // In order: small, growing (the arena is replaced), 5 MiB (given back after), small again.
      for (const size of [0, 1, 63, 4000, 4096, 10_000, 65_536, 300_000, 5 * 1024 * 1024, 17, 70_000]) {
        const key = randomBytes(32)
        const nonce = randomBytes(24)
        const body = randomBytes(size)
        const flags = size % 2
        const out = Buffer.alloc(8 + 17 + size, 0xee)
        sealMessage(key, nonce, flags, body, out, 8)
        expect(out.subarray(0, 8).equals(Buffer.alloc(8, 0xee))).toBe(true) // nothing written before `off`
        const plain = Buffer.concat([Buffer.from([flags]), body])
        const box = out.subarray(8)
        expect(box.equals(Buffer.from(xsalsa20poly1305(key, nonce).encrypt(plain)))).toBe(true)
        const opened = openMessageAt(key, nonce, out, 8)
        expect(opened?.flags).toBe(flags)
        expect(opened?.body.equals(body)).toBe(true)
        const tampered = Buffer.from(out)
        tampered[8 + (size % box.length)]! ^= 0x40
        expect(openMessageAt(key, nonce, tampered, 8)).toBeNull()
        expect(openMessageAt(key, nonce, out.subarray(0, 8 + 16), 8)).toBeNull() // a tag and no flags byte
      }
    },
  )
})
