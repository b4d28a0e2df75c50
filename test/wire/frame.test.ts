/**
 * RFC 23 / RFC 37 "Framing": flags(1) size(1 or 8, network order) body.
 *
 *   bit 0 MORE, bit 1 LONG, bit 2 COMMAND, bits 3-7 reserved (MUST be zero).
 *   short frame: body 0..255 octets; long frame: body 0..2^63-1 octets.
 */
import { constants as bufferConstants } from "node:buffer"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { ProtocolError } from "../../lib/errors.js"
import { FLAG_COMMAND, FLAG_LONG, FLAG_MORE, FrameDecoder, encodeFrame, headerSize, writeHeader } from "../../lib/wire/frame.js"
import { encodeMessage } from "../../lib/wire/encoder.js"
import { type Frame, chunk, chunkingArb, decodeChunks, expectProtocolError, fcParams, patternBody } from "./util.js"

/** A long header (flags | LONG, 8-byte size) for an arbitrary 64-bit size given as hi/lo halves. */
function longHeader(flags: number, hi: number, lo: number): Buffer {
  const b = Buffer.alloc(9)
  b[0] = flags | FLAG_LONG
  b.writeUInt32BE(hi >>> 0, 1)
  b.writeUInt32BE(lo >>> 0, 5)
  return b
}

function bytes(...xs: number[]): number[] {
  return xs
}

/** Strips LONG (an encoding detail) so frames can be compared to what was sent. */
function normalize(frames: Frame[]): { flags: number; body: number[] | string }[] {
  return frames.map((f) => ({ flags: f.flags & ~FLAG_LONG, body: f.body.toString("hex") }))
}

describe("RFC 23 framing: short vs long size encoding", () => {
  it("headerSize is 2 up to 255 body octets and 9 from 256", () => {
    expect(headerSize(0)).toBe(2)
    expect(headerSize(1)).toBe(2)
    expect(headerSize(255)).toBe(2)
    expect(headerSize(256)).toBe(9)
    expect(headerSize(70_000)).toBe(9)
  })

  it("encodes an empty frame as flags 0x00, size 0x00", () => {
    expect([...encodeFrame(Buffer.alloc(0))]).toEqual([0x00, 0x00])
  })

  it("encodes a 255-octet body as a short frame: 0x00 0xFF body", () => {
    const body = patternBody(255, 1)
    const f = encodeFrame(body)
    expect(f.length).toBe(257)
    expect([...f.subarray(0, 2)]).toEqual([0x00, 0xff])
    expect(f.subarray(2).equals(body)).toBe(true)
  })

  it("encodes a 256-octet body as a long frame: 0x02 then the size as 8 octets network order", () => {
    const body = patternBody(256, 2)
    const f = encodeFrame(body)
    expect(f.length).toBe(265)
    expect([...f.subarray(0, 9)]).toEqual(bytes(0x02, 0, 0, 0, 0, 0, 0, 0x01, 0x00))
    expect(f.subarray(9).equals(body)).toBe(true)
  })

  it("encodes a 70000-octet body with size 0x00000000_00011170", () => {
    const f = encodeFrame(Buffer.alloc(70_000), FLAG_MORE)
    expect([...f.subarray(0, 9)]).toEqual(bytes(0x03, 0, 0, 0, 0, 0x00, 0x01, 0x11, 0x70))
  })

  it("keeps MORE (0x01) and COMMAND (0x04) in the flags octet, adding LONG (0x02) only for long frames", () => {
    const s = Buffer.from("abc")
    const l = Buffer.alloc(300)
    expect([...encodeFrame(s, FLAG_MORE).subarray(0, 2)]).toEqual([0x01, 3])
    expect([...encodeFrame(s, FLAG_COMMAND).subarray(0, 2)]).toEqual([0x04, 3])
    expect(encodeFrame(l, 0)[0]).toBe(0x02)
    expect(encodeFrame(l, FLAG_MORE)[0]).toBe(0x03)
    expect(encodeFrame(l, FLAG_COMMAND)[0]).toBe(0x06)
    expect([...encodeFrame(l, FLAG_COMMAND).subarray(1, 9)]).toEqual(bytes(0, 0, 0, 0, 0, 0, 0x01, 0x2c))
  })

  it("writeHeader writes sizes above 2^32 as two 32-bit big-endian halves", () => {
    const out = Buffer.alloc(12, 0xee)
    const end = writeHeader(out, 2, FLAG_MORE, 0x1_0000_0005)
    expect(end).toBe(11)
    expect([...out]).toEqual(bytes(0xee, 0xee, 0x03, 0, 0, 0, 0x01, 0, 0, 0, 0x05, 0xee))
    const out2 = Buffer.alloc(9)
    writeHeader(out2, 0, 0, Number.MAX_SAFE_INTEGER)
    expect([...out2]).toEqual(bytes(0x02, 0x00, 0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff))
  })

  it("writeHeader returns the offset just past a short header", () => {
    const out = Buffer.alloc(4, 0xee)
    expect(writeHeader(out, 1, FLAG_COMMAND, 255)).toBe(3)
    expect([...out]).toEqual([0xee, 0x04, 0xff, 0xee])
  })

  it("encodeMessage sets MORE on every part except the last and picks short/long per part", () => {
    const parts = [Buffer.from("id"), Buffer.alloc(0), patternBody(256, 3), Buffer.from("z")]
    const wire = encodeMessage(parts)
    const expected = Buffer.concat([
      Buffer.from([0x01, 2]),
      parts[0]!,
      Buffer.from([0x01, 0]),
      Buffer.from([0x03, 0, 0, 0, 0, 0, 0, 1, 0]),
      parts[2]!,
      Buffer.from([0x00, 1]),
      parts[3]!,
    ])
    expect(wire.equals(expected)).toBe(true)
    expect([...encodeMessage([Buffer.from("x")])]).toEqual([0x00, 1, 0x78])
    expect(encodeMessage([]).length).toBe(0)
  })
})

describe("RFC 23 framing: FrameDecoder", () => {
  it("decodes short and long frames with their flags, including the LONG bit as received", () => {
    const wire = Buffer.concat([
      encodeFrame(Buffer.from("hello"), FLAG_MORE),
      encodeFrame(Buffer.alloc(0), FLAG_COMMAND),
      encodeFrame(patternBody(256, 4), 0),
    ])
    const { frames, error, idle } = decodeChunks([wire])
    expect(error).toBeUndefined()
    expect(idle).toBe(true)
    expect(frames.map((f) => f.flags)).toEqual([FLAG_MORE, FLAG_COMMAND, FLAG_LONG])
    expect(frames[0]!.body.toString()).toBe("hello")
    expect(frames[1]!.body.length).toBe(0)
    expect(frames[2]!.body.equals(patternBody(256, 4))).toBe(true)
  })

  it("accepts a long size field for a short body (non-minimal encoding, as libzmq does)", () => {
    const wire = Buffer.concat([longHeader(FLAG_MORE, 0, 3), Buffer.from("abc"), longHeader(0, 0, 0)])
    const { frames, error } = decodeChunks(chunk(wire, { kind: "bytes" }))
    expect(error).toBeUndefined()
    expect(normalize(frames)).toEqual([
      { flags: FLAG_MORE, body: "616263" },
      { flags: 0, body: "" },
    ])
  })

  it("is idle only between frames", () => {
    const frames: Frame[] = []
    const dec = new FrameDecoder((flags, body) => frames.push({ flags, body }))
    expect(dec.idle).toBe(true)
    const wire = encodeFrame(Buffer.from("abcdef"), FLAG_MORE)
    for (let i = 0; i < wire.length - 1; i++) {
      dec.push(wire.subarray(i, i + 1))
      expect(dec.idle).toBe(false)
      expect(frames.length).toBe(0)
    }
    dec.push(wire.subarray(wire.length - 1))
    expect(dec.idle).toBe(true)
    expect(frames.length).toBe(1)
  })

  it("treats empty chunks as no-ops in every state", () => {
    const frames: Frame[] = []
    const dec = new FrameDecoder((flags, body) => frames.push({ flags, body }))
    const wire = encodeFrame(patternBody(300, 5), FLAG_MORE)
    for (let i = 0; i < wire.length; i++) {
      dec.push(Buffer.alloc(0))
      dec.push(wire.subarray(i, i + 1))
    }
    dec.push(Buffer.alloc(0))
    expect(frames.length).toBe(1)
    expect(frames[0]!.body.equals(patternBody(300, 5))).toBe(true)
  })

  it("delivers each frame exactly once however the stream is chunked (property: encode → chunk → decode is the identity)", () => {
    const bodyArb = fc.oneof(
      { weight: 3, arbitrary: fc.uint8Array({ maxLength: 300 }).map((u) => Buffer.from(u)) },
      {
        weight: 2,
        arbitrary: fc
          .tuple(fc.constantFrom(0, 1, 2, 254, 255, 256, 257, 65_535, 65_536, 65_537), fc.nat(255))
          .map(([n, s]) => patternBody(n, s)),
      },
      {
        weight: 1,
        arbitrary: fc.tuple(fc.integer({ min: 0, max: 70_000 }), fc.nat(255)).map(([n, s]) => patternBody(n, s)),
      },
    )
    const frameArb = fc.record({
      flags: fc.constantFrom(0, FLAG_MORE, FLAG_COMMAND, FLAG_MORE | FLAG_COMMAND),
      body: bodyArb,
    })
    fc.assert(
      fc.property(fc.array(frameArb, { maxLength: 8 }), chunkingArb, (sent, how) => {
        const wire = Buffer.concat(sent.map((f) => encodeFrame(f.body, f.flags)))
        const chunks = chunk(wire, how)
        expect(Buffer.concat(chunks).equals(wire)).toBe(true)
        const { frames, error, idle } = decodeChunks(chunks)
        expect(error).toBeUndefined()
        expect(idle).toBe(true)
        expect(frames.length).toBe(sent.length)
        for (let i = 0; i < sent.length; i++) {
          const got = frames[i]!
          const want = sent[i]!
          expect(got.flags & ~FLAG_LONG).toBe(want.flags)
          expect((got.flags & FLAG_LONG) !== 0).toBe(want.body.length > 255)
          expect(got.body.length).toBe(want.body.length)
          expect(got.body.equals(want.body)).toBe(true)
        }
      }),
      fcParams(150, 2),
    )
  })

  it("round-trips encodeMessage output as one message: MORE on all parts but the last (property)", () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 600 }), { minLength: 1, maxLength: 6 }), chunkingArb, (parts, how) => {
        const bufs = parts.map((p) => Buffer.from(p))
        const { frames, error } = decodeChunks(chunk(encodeMessage(bufs), how))
        expect(error).toBeUndefined()
        expect(frames.map((f) => f.flags & FLAG_MORE)).toEqual(bufs.map((_, i) => (i < bufs.length - 1 ? 1 : 0)))
        expect(frames.map((f) => f.body.toString("hex"))).toEqual(bufs.map((b) => b.toString("hex")))
      }),
      fcParams(100, 3),
    )
  })

  it("delivers bodies that stay valid after later input is pushed (no reuse of internal buffers)", () => {
    const a = patternBody(1000, 6)
    const b = patternBody(1000, 7)
    const wire = Buffer.concat([encodeFrame(a), encodeFrame(b), encodeFrame(Buffer.from("x"))])
    const { frames } = decodeChunks(chunk(wire, { kind: "cycle", sizes: [3, 500, 7] }))
    expect(frames[0]!.body.equals(a)).toBe(true)
    expect(frames[1]!.body.equals(b)).toBe(true)
  })
})

describe("RFC 23 framing: maximum size (maxSize) is enforced on the header", () => {
  it("accepts a body of exactly maxSize octets and rejects maxSize+1 with ZMTP_OVERSIZE", () => {
    for (const max of [0, 1, 100, 255, 256, 1000]) {
      const ok = decodeChunks([encodeFrame(Buffer.alloc(max))], max)
      expect(ok.error).toBeUndefined()
      expect(ok.frames.length).toBe(1)
      const bad = decodeChunks([encodeFrame(Buffer.alloc(max + 1))], max)
      expect(bad.error).toBeInstanceOf(ProtocolError)
      expect((bad.error as ProtocolError).code).toBe("ZMTP_OVERSIZE")
      expect(bad.frames.length).toBe(0)
    }
  })

  it("errors on a short header claiming more than the limit before any body octet arrives", () => {
    const dec = new FrameDecoder(() => expect.unreachable("no frame expected"), 100)
    expectProtocolError(() => dec.push(Buffer.from([0x00, 101])), "ZMTP_OVERSIZE")
    const dec2 = new FrameDecoder(() => expect.unreachable("no frame expected"), 100)
    dec2.push(Buffer.from([0x01]))
    expectProtocolError(() => dec2.push(Buffer.from([0xff])), "ZMTP_OVERSIZE")
  })

  it("errors on a long header claiming more than the limit as soon as its 8th size octet arrives", () => {
    const dec = new FrameDecoder(() => expect.unreachable("no frame expected"), 65_536)
    const header = longHeader(FLAG_COMMAND, 0, 65_537)
    for (let i = 0; i < 8; i++) dec.push(header.subarray(i, i + 1))
    expectProtocolError(() => dec.push(header.subarray(8, 9)), "ZMTP_OVERSIZE")
  })

  it("errors on a header claiming 2^53 or more octets (not representable) with ZMTP_OVERSIZE", () => {
    for (const [hi, lo] of [
      [0x0020_0000, 0],
      [0x7fff_ffff, 0xffff_ffff],
      [0xffff_ffff, 0xffff_ffff],
      [0x8000_0000, 0],
    ] as const) {
      const dec = new FrameDecoder(() => expect.unreachable("no frame expected"))
      expectProtocolError(() => dec.push(longHeader(0, hi, lo)), "ZMTP_OVERSIZE")
    }
  })

  it("with no limit set, refuses a header larger than the largest allocatable Buffer with ZMTP_OVERSIZE (not a RangeError)", () => {
    const tooBig = bufferConstants.MAX_LENGTH + 1
    for (const size of [tooBig, Number.MAX_SAFE_INTEGER]) {
      const hi = Math.floor(size / 0x1_0000_0000)
      const lo = size % 0x1_0000_0000
      const dec = new FrameDecoder(() => expect.unreachable("no frame expected"))
      expectProtocolError(() => dec.push(longHeader(0, hi, lo)), "ZMTP_OVERSIZE")
      // Also when a (too generous) explicit limit is configured.
      const dec2 = new FrameDecoder(() => expect.unreachable("no frame expected"), Number.MAX_SAFE_INTEGER)
      expectProtocolError(() => dec2.push(longHeader(0, hi, lo)), "ZMTP_OVERSIZE")
    }
  })

  it("delivers the frames preceding an oversized one in the same chunk", () => {
    const wire = Buffer.concat([encodeFrame(Buffer.from("ok"), FLAG_MORE), encodeFrame(Buffer.alloc(11))])
    const { frames, error } = decodeChunks([wire], 10)
    expect(normalize(frames)).toEqual([{ flags: FLAG_MORE, body: "6f6b" }])
    expect((error as ProtocolError).code).toBe("ZMTP_OVERSIZE")
  })
})

describe("RFC 23 framing: reserved flag bits 3-7 MUST be zero", () => {
  it("rejects every flags octet with a reserved bit set with ZMTP_BAD_FLAGS", () => {
    for (let flags = 0; flags < 256; flags++) {
      const wire = Buffer.from([flags, 0, 0, 0, 0, 0, 0, 0, 0])
      const { error } = decodeChunks([wire])
      if ((flags & 0xf8) !== 0) {
        expect(error, `flags 0x${flags.toString(16)}`).toBeInstanceOf(ProtocolError)
        expect((error as ProtocolError).code).toBe("ZMTP_BAD_FLAGS")
      } else {
        expect(error, `flags 0x${flags.toString(16)}`).toBeUndefined()
      }
    }
  })

  it("rejects each single reserved bit, after delivering the valid frames before it", () => {
    for (let bit = 3; bit <= 7; bit++) {
      const wire = Buffer.concat([encodeFrame(Buffer.from("a"), FLAG_MORE), Buffer.from([1 << bit, 0])])
      for (const how of [{ kind: "whole" }, { kind: "bytes" }] as const) {
        const { frames, error } = decodeChunks(chunk(wire, how))
        expect(normalize(frames)).toEqual([{ flags: FLAG_MORE, body: "61" }])
        expect((error as ProtocolError).code).toBe("ZMTP_BAD_FLAGS")
      }
    }
  })

  it("accepts all combinations of MORE, LONG and COMMAND (0x00-0x07)", () => {
    for (let flags = 0; flags < 8; flags++) {
      const wire = (flags & FLAG_LONG) !== 0 ? Buffer.concat([longHeader(flags, 0, 1), Buffer.from("q")]) : Buffer.from([flags, 1, 0x71])
      const { frames, error } = decodeChunks([wire])
      expect(error).toBeUndefined()
      expect(frames).toEqual([{ flags, body: Buffer.from("q") }])
    }
  })
})

describe("FrameDecoder after an error", () => {
  const failures: [string, Buffer, number][] = [
    ["reserved flag bits", Buffer.from([0x08, 0x00]), -1],
    ["oversize short frame", Buffer.from([0x00, 0x05]), 4],
    ["oversize long frame", longHeader(0, 0, 1 << 20), 1000],
    ["size beyond 2^53", longHeader(0, 0xffff_ffff, 0), -1],
  ]
  for (const [what, bad, max] of failures) {
    it(`refuses all further input with a ProtocolError (${what})`, () => {
      const frames: Frame[] = []
      const dec = new FrameDecoder((flags, body) => frames.push({ flags, body }), max)
      expectProtocolError(() => dec.push(bad))
      // Valid frames, empty chunks, anything: the decoder stays failed and delivers nothing.
      expectProtocolError(() => dec.push(encodeFrame(Buffer.from("valid"))))
      expectProtocolError(() => dec.push(Buffer.alloc(0)))
      expectProtocolError(() => dec.push(Buffer.from([0x00])))
      expect(frames.length).toBe(0)
    })
  }
})
