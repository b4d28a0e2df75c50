/**
 * RFC 23 / RFC 37 "Formal Grammar" (greeting) and "Version Negotiation".
 *
 *   greeting  = signature version mechanism as-server filler
 *   signature = %xFF padding(8) %x7F, version = %x03 %x01,
 *   mechanism = 20 mechanism-char (NUL padded), as-server = %x00 | %x01,
 *   filler    = 31 %x00
 */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { ProtocolError } from "../../lib/errors.js"
import { GREETING_SIZE, SIGNATURE_SIZE, checkSignature, decodeGreeting, encodeGreeting, encodeSignature } from "../../lib/wire/greeting.js"
import { expectProtocolError, fcParams } from "./util.js"

/** Builds the expected 64 greeting bytes by hand, straight from the grammar. */
function handGreeting(mechanism: string, asServer: boolean, minor = 1): Buffer {
  const bytes: number[] = [0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0x7f, 0x03, minor]
  const mech = [...mechanism].map((c) => c.charCodeAt(0))
  while (mech.length < 20) mech.push(0)
  bytes.push(...mech, asServer ? 1 : 0)
  for (let i = 0; i < 31; i++) bytes.push(0)
  return Buffer.from(bytes)
}

const mechanismArb = fc.stringMatching(/^[A-Z0-9_-]{1,20}$/)

describe("RFC 23/37 greeting: encoding", () => {
  it("is exactly 64 octets: 0xFF, 8 zero padding octets, 0x7F, version 3.1, NUL-padded 'NULL', as-server 0, 31 zero filler octets", () => {
    const g = encodeGreeting("NULL", false)
    expect(g.length).toBe(GREETING_SIZE)
    expect(GREETING_SIZE).toBe(64)
    expect(SIGNATURE_SIZE).toBe(10)
    expect([...g]).toEqual([...handGreeting("NULL", false)])
    // Spot-check the fields by offset, as laid out in the RFC 23 worked example.
    expect(g[0]).toBe(0xff)
    expect([...g.subarray(1, 9)]).toEqual([0, 0, 0, 0, 0, 0, 0, 0])
    expect(g[9]).toBe(0x7f)
    expect(g[10]).toBe(3)
    expect(g[11]).toBe(1)
    expect(g.toString("ascii", 12, 16)).toBe("NULL")
    expect([...g.subarray(16, 32)]).toEqual(new Array(16).fill(0))
    expect(g[32]).toBe(0)
    expect([...g.subarray(33, 64)]).toEqual(new Array(31).fill(0))
  })

  it("sets the as-server octet (offset 32) to 0x01 for a server, e.g. CURVE/PLAIN", () => {
    expect([...encodeGreeting("CURVE", true)]).toEqual([...handGreeting("CURVE", true)])
    expect([...encodeGreeting("PLAIN", true)]).toEqual([...handGreeting("PLAIN", true)])
    expect(encodeGreeting("PLAIN", true)[32]).toBe(1)
    expect(encodeGreeting("PLAIN", false)[32]).toBe(0)
  })

  it("can announce version 3.0 (RFC 23 worked example: minor %x00)", () => {
    const g = encodeGreeting("NULL", false, 0)
    expect([...g]).toEqual([...handGreeting("NULL", false, 0)])
    expect(decodeGreeting(g)).toEqual({ major: 3, minor: 0, mechanism: "NULL", asServer: false })
  })

  it("fills all 20 mechanism octets for a 20-character name (no NUL needed)", () => {
    const name = "ABCDEFGHIJ0123456789"
    const g = encodeGreeting(name, false)
    expect(g.toString("ascii", 12, 32)).toBe(name)
    expect(g[32]).toBe(0)
    expect(decodeGreeting(g).mechanism).toBe(name)
  })

  it("rejects mechanism names that cannot be put on the wire (empty, >20 chars, lower case, non-ASCII)", () => {
    for (const bad of ["", "A".repeat(21), "null", "NÜLL", "NU LL", "NU\0LL"]) {
      expect(() => encodeGreeting(bad, false), JSON.stringify(bad)).toThrow(TypeError)
    }
  })
})

describe("RFC 15 signature: sent alone, first", () => {
  it("is 0xFF, our identity's length + 1 as 8 octets (network order), 0x7F: an empty identity gives ff 00 00 00 00 00 00 00 01 7f", () => {
    expect([...encodeSignature()]).toEqual([0xff, 0, 0, 0, 0, 0, 0, 0, 1, 0x7f])
    expect([...encodeSignature(0)]).toEqual([0xff, 0, 0, 0, 0, 0, 0, 0, 1, 0x7f])
    expect([...encodeSignature(5)]).toEqual([0xff, 0, 0, 0, 0, 0, 0, 0, 6, 0x7f])
    expect([...encodeSignature(255)]).toEqual([0xff, 0, 0, 0, 0, 0, 0, 1, 0, 0x7f])
  })

  it("passes checkSignature (3.x peers ignore the padding, RFC 23)", () => {
    for (const n of [0, 1, 254, 255]) expect(() => checkSignature(encodeSignature(n))).not.toThrow()
  })
})

describe("RFC 23/37 greeting: decoding", () => {
  it("round-trips any valid mechanism, as-server flag and minor version (property)", () => {
    fc.assert(
      fc.property(mechanismArb, fc.boolean(), fc.integer({ min: 0, max: 255 }), (mech, server, minor) => {
        const g = encodeGreeting(mech, server, minor)
        expect(g.length).toBe(64)
        expect(decodeGreeting(g)).toEqual({ major: 3, minor, mechanism: mech, asServer: server })
      }),
      fcParams(200, 1),
    )
  })

  it("decodes the RFC 23 worked example greeting byte for byte", () => {
    const bytes = Buffer.concat([
      Buffer.from([0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0x7f, 0x03]),
      Buffer.from([0x00]),
      Buffer.from("NULL\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", "ascii"),
      Buffer.from([0x00]),
      Buffer.alloc(31),
    ])
    expect(bytes.length).toBe(64)
    expect(decodeGreeting(bytes)).toEqual({ major: 3, minor: 0, mechanism: "NULL", asServer: false })
  })

  it("assigns no significance to the 8 padding octets (RFC 23: MUST NOT validate them)", () => {
    const g = encodeGreeting("NULL", false)
    g.fill(0xa5, 1, 9)
    checkSignature(g)
    expect(decodeGreeting(g).mechanism).toBe("NULL")
  })

  it("accepts protocol versions higher than 3.1 (RFC 37: MUST accept higher versions)", () => {
    for (const [major, minor] of [
      [3, 2],
      [3, 255],
      [4, 0],
      [255, 255],
    ] as const) {
      const g = encodeGreeting("NULL", false)
      g[10] = major
      g[11] = minor
      expect(decodeGreeting(g)).toMatchObject({ major, minor, mechanism: "NULL" })
    }
  })

  it("decodes only the first 64 octets when more data follows in the same buffer", () => {
    const g = Buffer.concat([encodeGreeting("NULL", true), Buffer.from([0x04, 0x00, 0xff, 0xff])])
    expect(decodeGreeting(g)).toEqual({ major: 3, minor: 1, mechanism: "NULL", asServer: true })
  })
})

describe("RFC 23/37 greeting: errors are typed ProtocolErrors", () => {
  // Such streams are ZMTP 1.0 peers, which the negotiation (negotiation.test.ts) sends to
  // the 1.0 framing before any greeting is decoded: for decodeGreeting they are no greeting.
  it("refuses a stream whose first octet is not 0xFF (not a versioned signature) with ZMTP_BAD_SIGNATURE", () => {
    for (const first of [0x00, 0x01, 0x7f, 0xfe]) {
      const g = encodeGreeting("NULL", false)
      g[0] = first
      expectProtocolError(() => checkSignature(g.subarray(0, SIGNATURE_SIZE)), "ZMTP_BAD_SIGNATURE")
      expectProtocolError(() => decodeGreeting(g), "ZMTP_BAD_SIGNATURE")
    }
  })

  it("refuses a signature whose 10th octet has the low bit clear (a ZMTP 1.0 long length) with ZMTP_BAD_SIGNATURE", () => {
    for (const tenth of [0x00, 0x7e, 0xfe]) {
      const g = encodeGreeting("NULL", false)
      g[9] = tenth
      expectProtocolError(() => checkSignature(g.subarray(0, SIGNATURE_SIZE)), "ZMTP_BAD_SIGNATURE")
      expectProtocolError(() => decodeGreeting(g), "ZMTP_BAD_SIGNATURE")
    }
  })

  it("accepts the first 10 octets of a valid greeting in checkSignature", () => {
    expect(() => checkSignature(encodeGreeting("NULL", false).subarray(0, SIGNATURE_SIZE))).not.toThrow()
  })

  it("refuses major versions 0 and 1 (ZMTP 1.0/2.0 greetings are 12 octets, not 64) with ZMTP_BAD_VERSION", () => {
    for (const major of [0, 1]) {
      const g = encodeGreeting("NULL", false)
      g[10] = major
      expectProtocolError(() => decodeGreeting(g), "ZMTP_BAD_VERSION")
    }
  })

  it("reads major version 2 (never used) as a 3.x greeting, as libzmq 4.x does", () => {
    const g = encodeGreeting("NULL", true)
    g[10] = 2
    expect(decodeGreeting(g)).toEqual({ major: 2, minor: 1, mechanism: "NULL", asServer: true })
  })

  it("refuses a mechanism field that is not NUL padded (non-NUL after the first NUL) with ZMTP_BAD_MECHANISM", () => {
    const g = encodeGreeting("NULL", false)
    g[17] = 0x41 // "NULL\0A\0..." : garbage after the terminating NUL
    expectProtocolError(() => decodeGreeting(g), "ZMTP_BAD_MECHANISM")
    const h = encodeGreeting("NULL", false)
    h[31] = 0x5a // last mechanism octet
    expectProtocolError(() => decodeGreeting(h), "ZMTP_BAD_MECHANISM")
    const i = encodeGreeting("NULL", false)
    i[12] = 0 // leading NUL then "ULL"
    expectProtocolError(() => decodeGreeting(i), "ZMTP_BAD_MECHANISM")
  })

  it("refuses an empty (all-NUL) mechanism with ZMTP_BAD_MECHANISM", () => {
    const g = encodeGreeting("NULL", false)
    g.fill(0, 12, 32)
    expectProtocolError(() => decodeGreeting(g), "ZMTP_BAD_MECHANISM")
  })

  it("refuses a truncated greeting (every length 0..63) with a ProtocolError", () => {
    const g = encodeGreeting("NULL", false)
    for (let n = 0; n < GREETING_SIZE; n++) {
      const err = expectProtocolError(() => decodeGreeting(g.subarray(0, n)))
      expect(err.code).toMatch(/^ZMTP_/)
    }
  })

  it("reports errors as ProtocolError instances with name 'ProtocolError' and a message", () => {
    const g = encodeGreeting("NULL", false)
    g[10] = 1
    const err = expectProtocolError(() => decodeGreeting(g), "ZMTP_BAD_VERSION")
    expect(err).toBeInstanceOf(Error)
    expect(err).toBeInstanceOf(ProtocolError)
    expect(err.name).toBe("ProtocolError")
    expect(err.message).toMatch(/1\.1/)
  })
})
