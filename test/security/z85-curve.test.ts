/**
 * Z85 (RFC 32), CURVE key pairs (checked against libzmq 4.3.5 through
 * zeromq.js) and validation of the security socket options.
 */
import { randomBytes } from "node:crypto"
import { describe, expect, it } from "vitest"
import * as zmq from "zeromq"
import * as omq from "../../lib/index.js"
import { publicKeyOf } from "../../lib/security/crypto.js"
import { z85 } from "../../lib/entry/security.js"
import { closeAfterEach } from "../helpers/close-after-each.js"

const track = closeAfterEach()

const Z85_ALPHABET = /^[0-9a-zA-Z.\-:+=^!/*?&<>()[\]{}@%$#]*$/

/** Sets `name = value` on an omq and on a zeromq.js DEALER: both must refuse it with the same error. */
function refusedAsZeromq(name: string, value: unknown): void {
  const attempt = (sock: object): { type: string; code?: string | undefined; message: string } | undefined => {
    try {
      ;(sock as Record<string, unknown>)[name] = value
      return undefined
    } catch (err) {
      const e = err as Error & { code?: string }
      return { type: e instanceof TypeError ? "TypeError" : "Error", code: e.code, message: e.message }
    }
  }
  const theirs = attempt(track(new zmq.Dealer({ linger: 0 })))
  expect(theirs, `zeromq refuses ${name} = ${String(value)}`).toBeDefined()
  expect(attempt(track(new omq.Dealer({ linger: 0 }))), `${name} = ${String(value)}`).toEqual(theirs)
}

function expectEinval(fn: () => unknown): void {
  let caught: unknown
  try {
    fn()
  } catch (err) {
    caught = err
  }
  expect(caught, "expected EINVAL").toBeInstanceOf(Error)
  expect((caught as { code?: string }).code).toBe("EINVAL")
}

describe("z85", () => {
  const vector = Buffer.from([0x86, 0x4f, 0xd2, 0x6f, 0xb5, 0x59, 0xf7, 0x5b])

  it("encodes the RFC 32 test vector", () => {
    expect(z85.encode(vector)).toBe("HelloWorld")
  })

  it("decodes the RFC 32 test vector", () => {
    expect(Buffer.from(z85.decode("HelloWorld"))).toEqual(vector)
  })

  it("accepts a Uint8Array as well as a Buffer", () => {
    expect(z85.encode(new Uint8Array(vector))).toBe("HelloWorld")
  })

  it("encodes the empty input as the empty string", () => {
    expect(z85.encode(Buffer.alloc(0))).toBe("")
    expect(z85.decode("").length).toBe(0)
  })

  it("encodes extreme chunks (all zeros, all 0xff)", () => {
    expect(z85.encode(Buffer.alloc(4))).toBe("00000")
    // 0xffffffff = 84*85^4 + ... : the largest valid chunk is "%nSc0".
    expect(z85.encode(Buffer.alloc(4, 0xff))).toBe("%nSc0")
    expect(Buffer.from(z85.decode("%nSc0"))).toEqual(Buffer.alloc(4, 0xff))
  })

  it("round-trips random data of every multiple-of-4 length up to 128 bytes", () => {
    for (let len = 0; len <= 128; len += 4) {
      for (let k = 0; k < 5; k++) {
        const data = randomBytes(len)
        const text = z85.encode(data)
        expect(text.length).toBe((len / 4) * 5)
        expect(text).toMatch(Z85_ALPHABET)
        expect(Buffer.from(z85.decode(text))).toEqual(data)
      }
    }
  })

  it("round-trips text → bytes → text for valid strings", () => {
    const key = zmq.curveKeyPair().publicKey
    expect(z85.encode(z85.decode(key))).toBe(key)
  })

  it("refuses to encode a length that is not a multiple of 4", () => {
    for (const len of [1, 2, 3, 5, 31, 33]) {
      expect(() => z85.encode(Buffer.alloc(len))).toThrow(RangeError)
    }
  })

  it("refuses to decode a length that is not a multiple of 5", () => {
    for (const text of ["H", "Hell", "HelloW", "HelloWorl"]) {
      expect(() => z85.decode(text)).toThrow(RangeError)
    }
  })

  it("refuses characters outside the Z85 alphabet", () => {
    for (const text of [
      "Hello Worl",
      "Hello\u0000orld",
      'Hell"World',
      "Hello,orld",
      "Hello;orld",
      "HelloWörld",
      "Hello\\orld",
      "Hello_orld",
      "Hello|orld",
      "Hello~orld",
      "Hello`orld",
      "Hello'orld",
    ]) {
      expect(() => z85.decode(text), JSON.stringify(text)).toThrow(RangeError)
    }
  })

  it("refuses a chunk whose value exceeds 32 bits", () => {
    // "%nSc1" = 0xffffffff + 1; "#####" is the largest 5-character value.
    expect(() => z85.decode("%nSc1")).toThrow(RangeError)
    expect(() => z85.decode("#####")).toThrow(RangeError)
  })
})

describe("curveKeyPair", () => {
  it("returns 40-character Z85 keys that decode to 32 bytes", () => {
    const kp = omq.curveKeyPair()
    for (const key of [kp.publicKey, kp.secretKey]) {
      expect(typeof key).toBe("string")
      expect(key.length).toBe(40)
      expect(key).toMatch(Z85_ALPHABET)
      expect(z85.decode(key).length).toBe(32)
    }
  })

  it("returns fresh keys each time", () => {
    const a = omq.curveKeyPair()
    const b = omq.curveKeyPair()
    expect(a.secretKey).not.toBe(b.secretKey)
    expect(a.publicKey).not.toBe(b.publicKey)
  })

  it("returns a public key that is the X25519 public key of the secret key", () => {
    for (let i = 0; i < 10; i++) {
      const kp = omq.curveKeyPair()
      expect(z85.encode(publicKeyOf(z85.decode(kp.secretKey)))).toBe(kp.publicKey)
    }
  })

  it("derives the same public key as libzmq for libzmq-generated secret keys", () => {
    for (let i = 0; i < 20; i++) {
      const kp = zmq.curveKeyPair()
      expect(kp.publicKey.length).toBe(40)
      expect(z85.encode(publicKeyOf(z85.decode(kp.secretKey)))).toBe(kp.publicKey)
    }
  })

  it("has the same shape as zeromq.js's curveKeyPair()", () => {
    expect(Object.keys(omq.curveKeyPair()).sort()).toEqual(Object.keys(zmq.curveKeyPair()).sort())
  })
})

describe("security option validation", () => {
  const kp = omq.curveKeyPair()

  it("accepts Z85 keys and reads them back unchanged", () => {
    const s = track(new omq.Dealer({ linger: 0 }))
    s.curvePublicKey = kp.publicKey
    s.curveSecretKey = kp.secretKey
    s.curveServerKey = kp.publicKey
    expect(s.curvePublicKey).toBe(kp.publicKey)
    expect(s.curveSecretKey).toBe(kp.secretKey)
    expect(s.curveServerKey).toBe(kp.publicKey)
  })

  it("accepts 32-byte Buffer keys and reads them back as Z85", () => {
    const pub = z85.decode(kp.publicKey)
    const sec = z85.decode(kp.secretKey)
    const s = track(new omq.Dealer({ linger: 0, curvePublicKey: pub, curveSecretKey: sec, curveServerKey: pub }))
    expect(s.curvePublicKey).toBe(kp.publicKey)
    expect(s.curveSecretKey).toBe(kp.secretKey)
    expect(s.curveServerKey).toBe(kp.publicKey)
  })

  it("copies a Buffer key (later changes to the caller's buffer do not leak in)", () => {
    const pub = Buffer.from(z85.decode(kp.publicKey))
    const s = track(new omq.Dealer({ linger: 0 }))
    s.curvePublicKey = pub
    pub.fill(0)
    expect(s.curvePublicKey).toBe(kp.publicKey)
  })

  it("accepts null to clear a key", () => {
    const s = track(new omq.Dealer({ linger: 0, curveServerKey: kp.publicKey }))
    s.curveServerKey = null
    expect(s.curveServerKey).toBeNull()
  })

  it("refuses bad key strings and lengths as zeromq.js does (EINVAL; TypeError for what is not a string or buffer)", () => {
    const s = track(new omq.Dealer({ linger: 0 }))
    const bad: unknown[] = [
      "",
      "short",
      kp.publicKey.slice(0, 39),
      kp.publicKey + "0",
      kp.publicKey.slice(0, 35) + "     ", // right length, spaces are not Z85
      kp.publicKey.slice(0, 35) + "#####", // right length, chunk out of range
      Buffer.alloc(31),
      Buffer.alloc(33),
      Buffer.alloc(0),
      42,
      {},
      true,
    ]
    for (const name of ["curvePublicKey", "curveSecretKey", "curveServerKey"] as const) {
      for (const value of bad) {
        refusedAsZeromq(name, value)
        expect(() => ((s as unknown as Record<string, unknown>)[name] = value)).toThrow()
      }
      expect(s[name]).toBeNull()
    }
  })

  it("refuses a bad key given to the constructor with EINVAL", () => {
    expectEinval(() => new omq.Dealer({ linger: 0, curveServerKey: "not a key" }))
  })

  it("validates the other security options as zeromq.js does", () => {
    const s = track(new omq.Dealer({ linger: 0 }))
    refusedAsZeromq("curveServer", "yes")
    refusedAsZeromq("plainServer", 1)
    refusedAsZeromq("zapEnforceDomain", "true")
    refusedAsZeromq("plainUsername", 42)
    refusedAsZeromq("zapDomain", {})
    // libzmq takes PLAIN credentials up to 255 bytes.
    expectEinval(() => (s.plainPassword = "x".repeat(256)))
    s.plainUsername = "u".repeat(255)
    expect(s.plainUsername!.length).toBe(255)
    s.zapDomain = "global"
    expect(s.zapDomain).toBe("global")
  })

  it('reports securityMechanism null, "plain" or "curve"', () => {
    expect(track(new omq.Dealer({ linger: 0 })).securityMechanism).toBeNull()
    expect(track(new omq.Dealer({ linger: 0, zapDomain: "x" })).securityMechanism).toBeNull()
    expect(track(new omq.Dealer({ linger: 0, plainServer: true })).securityMechanism).toBe("plain")
    expect(track(new omq.Dealer({ linger: 0, plainUsername: "u", plainPassword: "p" })).securityMechanism).toBe("plain")
    expect(track(new omq.Dealer({ linger: 0, curveServer: true, curveSecretKey: kp.secretKey })).securityMechanism).toBe("curve")
    expect(
      track(new omq.Dealer({ linger: 0, curveServerKey: kp.publicKey, curvePublicKey: kp.publicKey, curveSecretKey: kp.secretKey }))
        .securityMechanism,
    ).toBe("curve")
  })

  it("reports the same securityMechanism as zeromq.js for the same options", () => {
    const cases: Array<Record<string, unknown>> = [
      {},
      { plainServer: true },
      { plainUsername: "u", plainPassword: "p" },
      { curveServer: true, curveSecretKey: kp.secretKey },
      { curveServerKey: kp.publicKey, curvePublicKey: kp.publicKey, curveSecretKey: kp.secretKey },
    ]
    for (const opts of cases) {
      const ours = track(new omq.Dealer({ linger: 0, ...opts }))
      const theirs = track(new zmq.Dealer({ linger: 0, ...opts }))
      expect(ours.securityMechanism, JSON.stringify(opts)).toBe(theirs.securityMechanism)
    }
  })

  it("turning a mechanism off goes back to NULL", () => {
    const s = track(new omq.Dealer({ linger: 0, plainServer: true }))
    s.plainServer = false
    expect(s.securityMechanism).toBeNull()
    s.curveServer = true
    expect(s.securityMechanism).toBe("curve")
    s.curveServer = false
    expect(s.securityMechanism).toBeNull()
  })
})
