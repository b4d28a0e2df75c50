/**
 * RFC 13 "The Framing Layer" (ZMTP 1.0): length (flags included; 1 octet for
 * 1..254, else 0xFF + 8 octets), flags (bit 0 MORE), body of length - 1.
 * And RFC 15 (ZMTP 2.0) framing, which is 3.x framing without COMMAND: the
 * engine decodes it with FrameDecoder, checked here against RFC 15's grammar.
 */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { FLAG_MORE, FrameDecoder } from "../../lib/wire/frame.js"
import { V1FrameDecoder, encodeV1Message, v1HeaderSize, writeV1Header } from "../../lib/wire/frame-v1.js"
import { type Frame, chunk, chunkingArb, decodeChunks, expectProtocolError, fcParams, patternBody } from "./util.js"

/** Pushes `chunks` into a fresh V1FrameDecoder, collecting frames until the first error. */
const decodeV1 = (chunks: readonly Buffer[], maxSize = -1) => decodeChunks(chunks, maxSize, V1FrameDecoder)

/** A 1.0 long header: 0xFF, the length (flags included) as 8 octets, then the flags octet. */
function longV1(length: bigint, flags: number): Buffer {
  const b = Buffer.alloc(10)
  b[0] = 0xff
  b.writeBigUInt64BE(length, 1)
  b[9] = flags
  return b
}

describe("RFC 13 framing: encoding", () => {
  it("an empty frame is length 0x01 (the flags octet alone), flags 0x00", () => {
    expect([...encodeV1Message([Buffer.alloc(0)])]).toEqual([0x01, 0x00])
  })

  it("the length counts the flags octet: 'abc' is 04 00 61 62 63; MORE (0x01) on all parts but the last", () => {
    expect([...encodeV1Message([Buffer.from("abc")])]).toEqual([0x04, 0x00, 0x61, 0x62, 0x63])
    expect([...encodeV1Message([Buffer.from("a"), Buffer.alloc(0), Buffer.from("b")])]).toEqual([
      0x02, 0x01, 0x61, 0x01, 0x01, 0x02, 0x00, 0x62,
    ])
  })

  it("lengths 1..254 take one octet; 255 and more are 0xFF + 8 octets: bodies of 253 and 254 octets", () => {
    expect(v1HeaderSize(0)).toBe(2)
    expect(v1HeaderSize(253)).toBe(2)
    expect(v1HeaderSize(254)).toBe(10)
    const short = encodeV1Message([Buffer.alloc(253, 7)])
    expect([...short.subarray(0, 2)]).toEqual([254, 0])
    expect(short.length).toBe(255)
    const long = encodeV1Message([Buffer.alloc(254, 7)])
    expect([...long.subarray(0, 10)]).toEqual([0xff, 0, 0, 0, 0, 0, 0, 0, 255, 0])
    expect(long.length).toBe(264)
  })

  it("writes lengths above 2^32 as two 32-bit halves", () => {
    const b = Buffer.alloc(10)
    expect(writeV1Header(b, 0, FLAG_MORE, 2 ** 40)).toBe(10)
    expect([...b]).toEqual([0xff, 0, 0, 1, 0, 0, 0, 0, 1, 1])
  })
})

describe("RFC 13 framing: V1FrameDecoder", () => {
  it("decodes short and long frames (the long form may carry small lengths, RFC 13: 'this encoding MAY be also used')", () => {
    const input = Buffer.concat([Buffer.from([0x01, 0x00]), Buffer.from([0x03, 0x01, 0x68, 0x69]), longV1(3n, 0x00), Buffer.from("yo")])
    const { frames, error, idle } = decodeV1([input])
    expect(error).toBeUndefined()
    expect(idle).toBe(true)
    expect(frames.map((f) => [f.flags, f.body.toString()])).toEqual([
      [0, ""],
      [FLAG_MORE, "hi"],
      [0, "yo"],
    ])
  })

  it("keeps only MORE from the flags octet: reserved bits 1-7 are ignored, as libzmq does", () => {
    const { frames } = decodeV1([Buffer.from([0x02, 0xfe, 0x41, 0x02, 0xff, 0x42, 0x02, 0x7f, 0x43])])
    expect(frames.map((f) => f.flags)).toEqual([0, FLAG_MORE, FLAG_MORE])
  })

  it("refuses a length of 0 (no room for the flags octet) with ZMTP_BAD_FLAGS, in short and long form", () => {
    expectProtocolError(() => new V1FrameDecoder(() => {}).push(Buffer.from([0x00])), "ZMTP_BAD_FLAGS")
    expectProtocolError(() => new V1FrameDecoder(() => {}).push(longV1(0n, 0).subarray(0, 9)), "ZMTP_BAD_FLAGS")
  })

  it("checks maxSize on the length, before any body octet: body of maxSize accepted, maxSize + 1 refused", () => {
    expect(decodeV1([encodeV1Message([Buffer.alloc(100)])], 100).frames.length).toBe(1)
    const over = decodeV1([Buffer.from([102])], 100)
    expectProtocolError(() => {
      throw over.error
    }, "ZMTP_OVERSIZE")
    // A long length is judged at its 8th octet, before the flags octet.
    const claim = decodeV1([longV1(2n ** 40n, 0).subarray(0, 9)], 1000)
    expectProtocolError(() => {
      throw claim.error
    }, "ZMTP_OVERSIZE")
  })

  it("with no limit, refuses lengths of 2^53 and more (up to 2^64-1) with ZMTP_OVERSIZE, never a RangeError", () => {
    for (const len of [2n ** 53n + 1n, 2n ** 63n, 2n ** 64n - 1n]) {
      const { error } = decodeV1([longV1(len, 0)])
      expectProtocolError(() => {
        throw error
      }, "ZMTP_OVERSIZE")
    }
  })

  it("a long claim with no limit allocates as bytes arrive, not what the header says", () => {
    const real = Buffer.allocUnsafe
    let largest = 0
    Buffer.allocUnsafe = ((n: number) => {
      largest = Math.max(largest, n)
      return real(n)
    }) as typeof Buffer.allocUnsafe
    try {
      const d = new V1FrameDecoder(() => {})
      d.push(longV1(2n ** 31n, 0)) // 2 GiB claimed (below Buffer's limit): must not throw, must not allocate it
      d.push(Buffer.alloc(1000))
      expect(d.idle).toBe(false)
    } finally {
      Buffer.allocUnsafe = real
    }
    expect(largest).toBeLessThan(2 ** 20)
  })

  it("refuses all input after an error", () => {
    const d = new V1FrameDecoder(() => {})
    expect(() => d.push(Buffer.from([0]))).toThrow()
    expectProtocolError(() => d.push(Buffer.from([0x01, 0x00])), "ZMTP_BAD_FLAGS")
  })

  it("encode → any chunking → decode is the identity, bodies of 0..70000 octets (property)", () => {
    const partArb = fc.oneof(
      { weight: 4, arbitrary: fc.integer({ min: 0, max: 300 }) },
      { weight: 1, arbitrary: fc.integer({ min: 0, max: 70_000 }) },
    )
    fc.assert(
      fc.property(fc.array(fc.array(partArb, { minLength: 1, maxLength: 4 }), { maxLength: 5 }), chunkingArb, (msgs, how) => {
        const messages = msgs.map((m, i) => m.map((len, j) => patternBody(len, i * 10 + j)))
        const wire = Buffer.concat(messages.map((m) => encodeV1Message(m)))
        const { frames, error, idle } = decodeV1(chunk(wire, how))
        expect(error).toBeUndefined()
        expect(idle).toBe(true)
        const expected = messages.flatMap((m) => m.map((p, j) => ({ flags: j < m.length - 1 ? FLAG_MORE : 0, body: p })))
        expect(frames.length).toBe(expected.length)
        frames.forEach((f, i) => {
          expect(f.flags).toBe(expected[i]!.flags)
          expect(f.body.equals(expected[i]!.body)).toBe(true)
        })
      }),
      fcParams(200, 60),
    )
  })

  it("arbitrary bytes in any chunking: only ProtocolError, the same frames as one chunk, nothing above maxSize (property)", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), chunkingArb, fc.constantFrom(-1, 0, 10, 200), (u, how, max) => {
        const b = Buffer.from(u)
        const whole = decodeV1([b], max)
        const split = decodeV1(chunk(b, how), max)
        for (const o of [whole, split]) {
          if (o.error !== undefined)
            expectProtocolError(() => {
              throw o.error
            })
          if (max >= 0) for (const f of o.frames) expect(f.body.length).toBeLessThanOrEqual(max)
        }
        expect(split.frames.map((f) => [f.flags, f.body.toString("hex")])).toEqual(whole.frames.map((f) => [f.flags, f.body.toString("hex")]))
        expect((split.error as { code?: string } | undefined)?.code).toBe((whole.error as { code?: string } | undefined)?.code)
      }),
      fcParams(400, 61),
    )
  })
})

describe("RFC 15 framing (ZMTP 2.0) through FrameDecoder", () => {
  /** Frames built by hand from RFC 15's grammar: more-short %x01, final-short %x00, more-long %x03, final-long %x02. */
  function rfc15(parts: Buffer[]): Buffer {
    return Buffer.concat(
      parts.map((p, i) => {
        const more = i < parts.length - 1
        if (p.length <= 255) return Buffer.concat([Buffer.from([more ? 0x01 : 0x00, p.length]), p])
        const h = Buffer.alloc(9)
        h[0] = more ? 0x03 : 0x02
        h.writeBigUInt64BE(BigInt(p.length), 1)
        return Buffer.concat([h, p])
      }),
    )
  }

  it("decodes RFC 15 messages in any chunking: MORE as sent, bodies intact (property)", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 1000 }), { minLength: 1, maxLength: 5 }), chunkingArb, (lens, how) => {
        const parts = lens.map((n, i) => patternBody(n, i))
        const got: Frame[] = []
        const d = new FrameDecoder((flags, body) => got.push({ flags, body: Buffer.from(body) }))
        for (const c of chunk(rfc15(parts), how)) d.push(c)
        expect(got.map((f) => f.flags & FLAG_MORE)).toEqual(parts.map((_, i) => (i < parts.length - 1 ? FLAG_MORE : 0)))
        got.forEach((f, i) => expect(f.body.equals(parts[i]!)).toBe(true))
      }),
      fcParams(150, 62),
    )
  })
})
