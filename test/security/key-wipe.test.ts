/**
 * Keys do not outlive their CURVE connection in the WebAssembly ciphers' memory: a connection's
 * end disposes of its mechanism (short-term secret key, session key) and its codec, which zeroes
 * the session key and has the cipher forget what it kept (omq's module: its subkey cache and
 * state; either backend: the arena's key, nonce and message bytes). Another connection's next
 * box still agrees (its subkey is computed again).
 */
import { randomBytes } from "node:crypto"
import { afterAll, describe, expect, it, vi } from "vitest"
import { Pull, Push, curveKeyPair } from "../../lib/index.js"
import { CurveClient, CurveCodec, CurveServer } from "../../lib/mechanisms/curve.js"
import { cipherBackend, cipherMemoryForTests, useCipher, type CipherBackend } from "../../lib/security/crypto.js"
import { waitFor } from "../helpers.js"
import { closeAfterEach } from "../helpers/close-after-each.js"

const track = closeAfterEach()
const before = cipherBackend()
afterAll(async () => {
  await useCipher(before)
})

/** A codec pair over one session key (each with a copy of it, as each side of a connection has). */
function pair(key: Uint8Array): { client: CurveCodec; server: CurveCodec } {
  return {
    client: new CurveCodec(Uint8Array.from(key), "CurveZMQMESSAGEC", "CurveZMQMESSAGES", 1, 0),
    server: new CurveCodec(Uint8Array.from(key), "CurveZMQMESSAGES", "CurveZMQMESSAGEC", 1, 0),
  }
}

function inMemory(key: Uint8Array): boolean {
  const mem = cipherMemoryForTests()!
  return Buffer.from(mem.buffer, mem.byteOffset, mem.byteLength).indexOf(Buffer.from(key)) >= 0
}

describe("CURVE keys are wiped when a connection ends", () => {
  for (const backend of ["simd", "libsodium"] as CipherBackend[]) {
    it(`${backend}: the cipher's memory holds the session key while boxes flow, and not after dispose(); other codecs still agree`, async () => {
      expect(await useCipher(backend)).toBe(true)
      const key = randomBytes(32)
      const { client, server } = pair(key)
      const other = pair(randomBytes(32))
      for (const body of [Buffer.from("small"), Buffer.alloc(3000, 7)]) {
        expect(other.server.decode(other.client.encode(1, body)).body.equals(body)).toBe(true)
        expect(server.decode(client.encode(0, body)).body.equals(body)).toBe(true)
      }
      // (libsodium's arena holds the last key used; omq's module also caches the others' subkeys)
      expect(inMemory(key)).toBe(true)
      client.dispose()
      server.dispose()
      expect(inMemory(key)).toBe(false)
      expect((client as unknown as { key: Uint8Array }).key.every((b) => b === 0)).toBe(true)
      const body = Buffer.from("after the wipe")
      const d = other.server.decode(other.client.encode(0, body))
      expect(d.body.equals(body)).toBe(true)
      expect(d.flags).toBe(0)
    })
  }

  it("a CURVE connection that ends disposes of both sides' mechanisms and codecs", async () => {
    const mechanisms = [vi.spyOn(CurveClient.prototype, "dispose"), vi.spyOn(CurveServer.prototype, "dispose")]
    const codecs = vi.spyOn(CurveCodec.prototype, "dispose")
    try {
      const server = curveKeyPair()
      const client = curveKeyPair()
      const pull = track(new Pull({ linger: 0, curveServer: true, curveSecretKey: server.secretKey }))
      const push = new Push({ linger: 0, curveServerKey: server.publicKey, curvePublicKey: client.publicKey, curveSecretKey: client.secretKey })
      await pull.bind("tcp://127.0.0.1:*")
      push.connect(pull.lastEndpoint!)
      await push.send("hello")
      expect((await pull.receive())[0]!.toString()).toBe("hello")
      expect(codecs).not.toHaveBeenCalled()
      push.close()
      await waitFor(() => codecs.mock.calls.length === 2, 5000, "both codecs disposed")
      for (const m of mechanisms) expect(m).toHaveBeenCalledTimes(1)
    } finally {
      for (const m of [...mechanisms, codecs]) m.mockRestore()
    }
  })
})
