/**
 * RFC 23 "Version Negotiation" and RFC 15 "Backwards Interoperability": the
 * staged greeting that tells ZMTP 3.x, 2.0 and 1.0 peers apart (as libzmq 4.x
 * does), fed in chunks of any size.
 */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { V1FrameDecoder } from "../../lib/wire/frame-v1.js"
import { decodeGreeting, encodeGreeting } from "../../lib/wire/greeting.js"
import { VersionNegotiator, type LocalGreeting, type PeerProtocol } from "../../lib/wire/negotiation.js"
import { type Frame, chunk, chunkingArb, expectProtocolError, fcParams } from "./util.js"

const PULL = 7
const local = (identity = Buffer.alloc(0), mechanism = "NULL"): LocalGreeting => ({ mechanism, asServer: false, socketType: PULL, identity })

/** JeroMQ 0.3.6's ZMTP 2.0 greeting for a PUSH (as seen on the wire, ZMTP-NOTES). */
const signature2 = Buffer.from([0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0x7f])

interface Outcome {
  /** Every byte the negotiator asked to send, after start(), and after how many peer bytes each was asked. */
  sent: Array<{ after: number; bytes: Buffer }>
  peer: PeerProtocol | undefined
  /** rest of the deciding step, plus the chunks never pushed. */
  rest: Buffer
}

function negotiate(n: VersionNegotiator, chunks: readonly Buffer[]): Outcome {
  const sent: Outcome["sent"] = []
  let fed = 0
  for (let i = 0; i < chunks.length; i++) {
    const c = chunks[i]!
    const step = n.push(c)
    fed += c.length
    for (const b of step.send) sent.push({ after: fed, bytes: Buffer.from(b) })
    if (step.peer !== undefined) {
      return { sent, peer: step.peer, rest: Buffer.concat([...step.rest!, ...chunks.slice(i + 1)]) }
    }
  }
  return { sent, peer: undefined, rest: Buffer.alloc(0) }
}

const allSent = (o: Outcome): Buffer => Buffer.concat(o.sent.map((s) => s.bytes))

describe("RFC 23 version negotiation: a ZMTP 3.x peer", () => {
  it("stages our greeting: signature first, major version after the peer's 10th octet, the rest after its 11th", () => {
    const n = new VersionNegotiator(local())
    const ours = Buffer.concat([n.start()])
    const peer = encodeGreeting("NULL", true)
    const o = negotiate(n, chunk(peer, { kind: "bytes" }))
    expect(o.sent.map((s) => [s.after, s.bytes.length])).toEqual([
      [10, 1],
      [11, 53],
    ])
    expect(o.sent[0]!.bytes[0]).toBe(3)
    // What we sent, in total, is a 3.1 NULL greeting (padding: identity length + 1).
    const greeting = Buffer.concat([ours, allSent(o)])
    expect(greeting.length).toBe(64)
    expect(decodeGreeting(greeting)).toEqual({ major: 3, minor: 1, mechanism: "NULL", asServer: false })
    expect(o.peer).toEqual({ version: 3, greeting: { major: 3, minor: 1, mechanism: "NULL", asServer: true } })
    expect(o.rest.length).toBe(0)
  })

  it("any chunking of a 3.x greeting and what follows: same decision, same bytes sent, the rest handed back intact (property)", () => {
    fc.assert(
      fc.property(
        fc.constantFrom("NULL", "PLAIN", "CURVE"),
        fc.boolean(),
        fc.integer({ min: 2, max: 255 }),
        fc.integer({ min: 0, max: 255 }),
        fc.uint8Array({ maxLength: 100 }),
        chunkingArb,
        (mech, server, major, minor, tail, how) => {
          const g = encodeGreeting(mech, server, minor)
          g[10] = major
          const input = Buffer.concat([g, tail])
          const o = negotiate(new VersionNegotiator(local(Buffer.from("id"), "CURVE")), chunk(input, how))
          expect(o.peer).toEqual({ version: 3, greeting: { major, minor, mechanism: mech, asServer: server } })
          expect(allSent(o).equals(encodeGreeting("CURVE", false).subarray(10))).toBe(true)
          expect(o.rest.equals(Buffer.from(tail))).toBe(true)
          for (const s of o.sent) expect(s.after).toBeGreaterThanOrEqual(s.bytes.length === 1 ? 10 : 11)
        },
      ),
      fcParams(300, 50),
    )
  })

  it("treats revision 2 like 3.x (libzmq 4.x's default branch): sends the rest of its greeting, decodes 64 octets", () => {
    const g = encodeGreeting("NULL", false)
    g[10] = 2
    const o = negotiate(new VersionNegotiator(local()), [g])
    expect(o.peer).toMatchObject({ version: 3, greeting: { major: 2, mechanism: "NULL" } })
    expect(allSent(o).length).toBe(54)
  })

  it("a malformed mechanism field in the peer's 3.x greeting is a ProtocolError at its 64th octet", () => {
    const g = encodeGreeting("NULL", false)
    g.fill(0, 12, 32)
    const n = new VersionNegotiator(local())
    expect(n.push(g.subarray(0, 63)).peer).toBeUndefined()
    expectProtocolError(() => n.push(g.subarray(63)), "ZMTP_BAD_MECHANISM")
  })

  it("a peer that stops mid-greeting leaves the negotiation undecided (the engine's handshake timer drops it)", () => {
    const n = new VersionNegotiator(local())
    const o = negotiate(n, [encodeGreeting("NULL", false).subarray(0, 40)])
    expect(o.peer).toBeUndefined()
    expect(o.sent.length).toBe(2)
  })
})

describe("RFC 15 backwards interoperability: a ZMTP 2.0 peer (revision 0x01)", () => {
  it("answers with our socket type, not the rest of a 3.x greeting; the peer's socket type is its 12th octet", () => {
    const n = new VersionNegotiator(local())
    const identityFrame = Buffer.from([0x00, 0x03, 0x61, 0x62, 0x63])
    const o = negotiate(n, [signature2, Buffer.from([0x01]), Buffer.concat([Buffer.from([0x08]), identityFrame])])
    expect(o.sent.map((s) => [...s.bytes])).toEqual([[3], [PULL]])
    expect(o.sent.map((s) => s.after)).toEqual([10, 11])
    expect(o.peer).toEqual({ version: 2, socketType: 8 })
    expect([...o.rest]).toEqual([...identityFrame])
  })

  it("any chunking: the same decision and the 2.0 frames after the greeting handed back intact (property)", () => {
    fc.assert(
      fc.property(fc.nat(255), fc.uint8Array({ maxLength: 64 }), chunkingArb, (type, tail, how) => {
        const input = Buffer.concat([signature2, Buffer.from([0x01, type]), tail])
        const o = negotiate(new VersionNegotiator(local()), chunk(input, how))
        expect(o.peer).toEqual({ version: 2, socketType: type })
        expect(o.rest.equals(Buffer.from(tail))).toBe(true)
        expect(allSent(o).equals(Buffer.from([3, PULL]))).toBe(true)
      }),
      fcParams(200, 51),
    )
  })

  it("revision 0x00 (a versioned ZMTP 1.0, as libzmq names it) is 1.0 framing with a socket type", () => {
    const o = negotiate(new VersionNegotiator(local()), [Buffer.concat([signature2, Buffer.from([0x00, 0x01, 0x01, 0x00])])])
    expect(o.peer).toEqual({ version: 1, socketType: 1 })
    expect([...o.rest]).toEqual([0x01, 0x00])
    expect(allSent(o).equals(Buffer.from([3, PULL]))).toBe(true)
  })
})

describe("RFC 15 backwards interoperability: an unversioned ZMTP 1.0 peer", () => {
  it("is recognised from its first octet when that is not 0xFF; all its bytes are 1.0 frames", () => {
    const n = new VersionNegotiator(local())
    const stream = Buffer.from([0x01, 0x00, 0x03, 0x00, 0x68, 0x69])
    const o = negotiate(n, chunk(stream, { kind: "bytes" }))
    expect(o.peer).toEqual({ version: 1, socketType: null })
    expect(o.rest.equals(stream)).toBe(true)
    expect(o.sent.length).toBe(0) // empty identity: the signature was the whole identity frame
  })

  it("is recognised at the 10th octet when its low bit is clear (a 1.0 long length header), before we send our major version", () => {
    for (const tenth of [0x00, 0x02, 0x7e, 0xfe]) {
      const header = Buffer.from([0xff, 0, 0, 0, 0, 0, 0, 0, 4, tenth])
      const stream = Buffer.concat([header, Buffer.from("abc")])
      const o = negotiate(new VersionNegotiator(local()), chunk(stream, { kind: "bytes" }))
      expect(o.peer).toEqual({ version: 1, socketType: null })
      expect(o.rest.equals(stream)).toBe(true)
      expect(o.sent.length).toBe(0)
    }
  })

  it("gets our identity: signature + what we send after it is one 1.0 frame carrying it (RFC 15: 'We continue by sending the body')", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 255 }), fc.nat(0xfe), (id, first) => {
        const identity = Buffer.from(id)
        const n = new VersionNegotiator(local(identity))
        const o = negotiate(n, [Buffer.from([first])])
        expect(o.peer).toEqual({ version: 1, socketType: null })
        const frames: Frame[] = []
        const d = new V1FrameDecoder((flags, body) => frames.push({ flags, body: Buffer.from(body) }))
        d.push(Buffer.concat([n.start(), allSent(o)]))
        expect(frames.length).toBe(1)
        expect(frames[0]!.body.equals(identity)).toBe(true)
        expect(d.idle).toBe(true)
      }),
      fcParams(100, 52),
    )
  })

  it("any bytes in any chunking: a decision or a wait, never an exception; decided streams are handed back whole (property)", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), chunkingArb, (u, how) => {
        const input = Buffer.from(u)
        let o: Outcome | undefined
        try {
          o = negotiate(new VersionNegotiator(local()), chunk(input, how))
        } catch (err) {
          // Only a 3.x greeting with a bad mechanism field can be refused.
          expectProtocolError(() => {
            throw err
          }, "ZMTP_BAD_MECHANISM")
          expect(input.length).toBeGreaterThanOrEqual(64)
          return
        }
        if (o.peer?.version === 1 && o.peer.socketType === null) expect(o.rest.equals(input)).toBe(true)
        if (o.peer === undefined) expect(input.length).toBeLessThan(64)
      }),
      fcParams(400, 53),
    )
  })
})

describe("negotiator misuse", () => {
  it("refuses an identity longer than 255 octets, and a push after the decision", () => {
    expect(() => new VersionNegotiator(local(Buffer.alloc(256)))).toThrow(RangeError)
    const n = new VersionNegotiator(local())
    n.push(Buffer.from([0x01, 0x00]))
    expect(() => n.push(Buffer.from([0x00]))).toThrow()
  })
})
