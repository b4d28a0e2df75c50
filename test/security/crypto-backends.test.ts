import { xsalsa20poly1305 } from "@noble/ciphers/salsa.js"
import sodium from "libsodium-wrappers"
import { describe, expect, it } from "vitest"
import { loadFastCipher, open, seal } from "../../lib/security/crypto.js"

describe("CURVE box backends (libsodium WASM fast path vs @noble fallback)", () => {
  it("produce the same bytes and open each other's boxes", async () => {
    await sodium.ready
    await loadFastCipher()
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
})
