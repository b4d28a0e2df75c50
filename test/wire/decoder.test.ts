/**
 * ZmtpDecoder (lib/wire/decoder.ts): bytes from the first greeting octet to
 * whole messages. Version negotiation (RFC 23 / RFC 15), 3.x and 2.0 framing
 * (RFC 23, RFC 15), 1.0 framing (RFC 13), the handshake's commands-only rule,
 * the message size limit (ZMQ_MAXMSGSIZE, as libzmq: the whole message), and
 * CURVE MESSAGE boxes (RFC 26) opened with a real codec.
 */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { ZmtpDecoder } from "../../lib/wire/decoder.js"
import { commandBody, commandFrame, pingFrame, readyFrame } from "../../lib/wire/command.js"
import { encodeMessage, encodeMessagesCurve } from "../../lib/wire/encoder.js"
import { FLAG_COMMAND, FLAG_MORE, encodeFrame } from "../../lib/wire/frame.js"
import { encodeV1Message } from "../../lib/wire/frame-v1.js"
import { Collector, LOCAL, curvePair, greeting10, greeting20, greeting31, hexMessages, runDecoder } from "./codec.js"
import { chunk, chunkingArb, expectProtocolError, fcParams, patternBody } from "./util.js"

const READY = readyFrame([["Socket-Type", "ROUTER"]])

const messagesArb = fc.array(
  fc.array(
    fc.oneof(
      { weight: 4, arbitrary: fc.integer({ min: 0, max: 300 }) },
      { weight: 1, arbitrary: fc.constantFrom(255, 256, 16_383, 16_384, 70_000) },
    ),
    { minLength: 1, maxLength: 4 },
  ),
  { maxLength: 5 },
)

const build = (lens: number[][]): Buffer[][] => lens.map((m, i) => m.map((n, j) => patternBody(n, i * 8 + j)))

describe("ZmtpDecoder: version negotiation and framing per peer", () => {
  it("a 3.1 peer: our greeting's later parts are sent at the right points, then its commands and whole messages (any chunking, property)", () => {
    fc.assert(
      fc.property(messagesArb, chunkingArb, (lens, how) => {
        const msgs = build(lens)
        const wire = Buffer.concat([greeting31(), READY, ...msgs.map((m) => encodeMessage(m)), pingFrame(1)])
        const { c, error, idle } = runDecoder(chunk(wire, how))
        expect(error).toBeUndefined()
        expect(idle).toBe(true)
        // RFC 23 staging, as libzmq: major version after the signature, the rest after the peer's major.
        expect(Buffer.concat(c.sent).length).toBe(54)
        expect(c.events[0]).toMatchObject({ kind: "peer", peer: { version: 3, greeting: { major: 3, minor: 1, mechanism: "NULL" } } })
        expect(c.commands.map((b) => b.toString("hex"))).toEqual([READY.subarray(2), pingFrame(1).subarray(2)].map((b) => b.toString("hex")))
        expect(hexMessages(c.messages)).toEqual(hexMessages(msgs))
      }),
      fcParams(150, 100),
    )
  })

  it("a 3.x stream decodes the same split at every byte boundary", () => {
    const msgs = [[Buffer.from("a"), Buffer.alloc(0), patternBody(300, 1)], [Buffer.from("z")]]
    const wire = Buffer.concat([greeting31(), READY, ...msgs.map((m) => encodeMessage(m))])
    for (let i = 0; i <= wire.length; i++) {
      const { c, error } = runDecoder([wire.subarray(0, i), wire.subarray(i)])
      expect(error, `split at ${i}`).toBeUndefined()
      expect(hexMessages(c.messages), `split at ${i}`).toEqual(hexMessages(msgs))
    }
  })

  it("parts that arrive whole in one chunk are slices of it (no copy)", () => {
    const wire = Buffer.concat([greeting31(), READY, encodeMessage([Buffer.from("hello"), patternBody(1000, 2)])])
    const { c } = runDecoder([wire])
    for (const part of c.messages[0]!) expect(part.buffer).toBe(wire.buffer)
  })

  it("a 2.0 peer: its first frame is its identity, alone even with MORE set (RFC 13/15: not validated); then messages", () => {
    const wire = Buffer.concat([greeting20(), encodeFrame(Buffer.from("id"), FLAG_MORE), encodeMessage([Buffer.from("a"), Buffer.from("b")])])
    for (const how of [{ kind: "whole" }, { kind: "bytes" }] as const) {
      const { c, error } = runDecoder(chunk(wire, how))
      expect(error).toBeUndefined()
      expect(c.events.map((e) => e.kind)).toEqual(["peer", "identity", "message"])
      expect(c.events[0]).toEqual({ kind: "peer", peer: { version: 2, socketType: 6 } })
      expect(c.events[1]).toMatchObject({ kind: "identity", body: Buffer.from("id") })
      expect(hexMessages(c.messages)).toEqual([["61", "62"]])
    }
  })

  it("a 2.0 peer may not set COMMAND (RFC 15: bit 2 reserved), neither on its identity nor later: ZMTP_BAD_FLAGS", () => {
    const early = runDecoder([Buffer.concat([greeting20(), encodeFrame(Buffer.from("id"), FLAG_COMMAND)])])
    expect(early.error?.code).toBe("ZMTP_BAD_FLAGS")
    const late = runDecoder([Buffer.concat([greeting20(), encodeFrame(Buffer.from("id")), commandFrame("PING", Buffer.alloc(2))])])
    expect(late.error?.code).toBe("ZMTP_BAD_FLAGS")
    expect(late.c.events.map((e) => e.kind)).toEqual(["peer", "identity"])
  })

  it("a versioned 1.0 peer (revision 0): 1.0 frames, identity first, then whole messages", () => {
    const msgs = [[Buffer.from("x"), patternBody(254, 3)], [Buffer.alloc(0)]]
    const wire = Buffer.concat([greeting10(), encodeV1Message([Buffer.from("me")]), ...msgs.map((m) => encodeV1Message(m))])
    for (let i = 0; i <= wire.length; i++) {
      const { c, error } = runDecoder([wire.subarray(0, i), wire.subarray(i)])
      expect(error).toBeUndefined()
      expect(c.events[0]).toEqual({ kind: "peer", peer: { version: 1, socketType: 6 } })
      expect(c.events[1]).toMatchObject({ kind: "identity", body: Buffer.from("me") })
      expect(hexMessages(c.messages)).toEqual(hexMessages(msgs))
    }
  })

  it("an unversioned 1.0 peer: everything it sent, from its first octet, is 1.0 frames", () => {
    const wire = Buffer.concat([encodeV1Message([Buffer.from("peer-id")]), encodeV1Message([Buffer.from("m1"), Buffer.from("m2")])])
    for (const how of [{ kind: "whole" }, { kind: "bytes" }] as const) {
      const { c, error } = runDecoder(chunk(wire, how))
      expect(error).toBeUndefined()
      expect(c.events[0]).toEqual({ kind: "peer", peer: { version: 1, socketType: null } })
      expect(c.events[1]).toMatchObject({ kind: "identity", body: Buffer.from("peer-id") })
      expect(hexMessages(c.messages)).toEqual([[Buffer.from("m1").toString("hex"), Buffer.from("m2").toString("hex")]])
    }
  })

  it("reports nothing until the greeting is complete, and the peer before any frame", () => {
    const wire = Buffer.concat([greeting31(), READY])
    const { c } = runDecoder([wire.subarray(0, 63)])
    expect(c.events).toEqual([])
    const whole = runDecoder([wire])
    expect(whole.c.events.map((e) => e.kind)).toEqual(["peer", "command"])
  })
})

describe("ZmtpDecoder: the handshake", () => {
  it("refuses a message frame before the handshake completed with ZMTP_HANDSHAKE (at its first frame, MORE or not)", () => {
    for (const flags of [0, FLAG_MORE]) {
      const { error, c } = runDecoder([Buffer.concat([greeting31(), encodeFrame(Buffer.from("early"), flags)])])
      expect(error?.code).toBe("ZMTP_HANDSHAKE")
      expect(error?.message).toBe("Message frame received before the handshake completed")
      expect(c.messages).toEqual([])
    }
  })

  it("takes commands only until startMessages(), which applies from the next frame of the same chunk", () => {
    // Two handshake commands, then a message, all in one chunk.
    const hello = commandFrame("HELLO", Buffer.from("x"))
    const wire = Buffer.concat([greeting31(), hello, READY, encodeMessage([Buffer.from("m")])])
    const { c, error } = runDecoder([wire], -1, { handshakeCommands: 2 })
    expect(error).toBeUndefined()
    expect(c.events.map((e) => e.kind)).toEqual(["peer", "command", "command", "message"])
  })

  it("hold() keeps the frames that follow (the ZAP wait), release() reports them in order, messages included", () => {
    const c = new Collector({
      handshakeCommands: 99,
      onCommand: (col, body) => {
        if (body.equals(commandBody("HELLO"))) col.decoder.hold()
      },
    })
    const d = new ZmtpDecoder(c, LOCAL)
    c.decoder = d
    d.push(Buffer.concat([greeting31(), commandFrame("HELLO"), commandFrame("INITIATE"), encodeMessage([Buffer.from("held")])]))
    expect(c.commands.length).toBe(1)
    expect(d.idle).toBe(false)
    // More input while held is kept too.
    d.push(encodeMessage([Buffer.from("later")]))
    expect(c.events.map((e) => e.kind)).toEqual(["peer", "command"])
    // The ZAP answer: the handshake is now done, so the kept message frames are messages.
    d.startMessages()
    d.release()
    expect(c.events.map((e) => e.kind)).toEqual(["peer", "command", "command", "message", "message"])
    expect(hexMessages(c.messages)).toEqual([[Buffer.from("held").toString("hex")], [Buffer.from("later").toString("hex")]])
    expect(d.idle).toBe(true)
  })

  it("a frame kept by hold() that breaks the rules throws from release(), and the decoder stays failed", () => {
    const c = new Collector({ handshakeCommands: 99, onCommand: (col) => col.decoder.hold() })
    const d = new ZmtpDecoder(c, LOCAL)
    c.decoder = d
    d.push(Buffer.concat([greeting31(), commandFrame("HELLO"), encodeMessage([Buffer.from("too early")])]))
    expectProtocolError(() => d.release(), "ZMTP_HANDSHAKE")
    expectProtocolError(() => d.push(Buffer.alloc(0)))
  })
})

describe("ZmtpDecoder: the message size limit", () => {
  // The limit also bounds each frame, handshake commands included: a 2-byte command ends this handshake.
  const start = Buffer.concat([greeting31(), commandFrame("X")])

  it("accepts a multipart message of exactly maxMessageSize bytes, refuses one more with ZMTP_OVERSIZE 'Message exceeds N bytes'", () => {
    const ok = runDecoder([start, encodeMessage([Buffer.alloc(60), Buffer.alloc(40)])], 100)
    expect(ok.error).toBeUndefined()
    expect(ok.c.messages.length).toBe(1)
    const bad = runDecoder([start, encodeMessage([Buffer.alloc(60), Buffer.alloc(41)])], 100)
    expect(bad.error?.code).toBe("ZMTP_OVERSIZE")
    expect(bad.error?.message).toBe("Message exceeds 100 bytes")
    expect(bad.c.messages).toEqual([])
  })

  it("counts each empty part as one byte, so endless empty MORE parts hit the limit", () => {
    const empties = (n: number) => Buffer.concat(Array.from({ length: n }, () => encodeFrame(Buffer.alloc(0), FLAG_MORE)))
    const ok = runDecoder([start, empties(9), encodeFrame(Buffer.alloc(0))], 10)
    expect(ok.error).toBeUndefined()
    expect(ok.c.messages[0]!.length).toBe(10)
    const bad = runDecoder([start, empties(11)], 10)
    expect(bad.error?.code).toBe("ZMTP_OVERSIZE")
    expect(bad.error?.message).toBe("Message exceeds 10 bytes")
  })

  it("the limit is per message: many messages under it pass", () => {
    const wire = Buffer.concat([start, ...Array.from({ length: 50 }, () => encodeMessage([Buffer.alloc(5), Buffer.alloc(5)]))])
    const { c, error } = runDecoder([wire], 10)
    expect(error).toBeUndefined()
    expect(c.messages.length).toBe(50)
  })

  it("a single frame over the limit is refused on its header, before its body arrives", () => {
    const header = encodeFrame(Buffer.alloc(1000)).subarray(0, 9)
    const { error } = runDecoder([start, header], 999)
    expect(error?.code).toBe("ZMTP_OVERSIZE")
  })

  it("applies to 1.0 peers' messages too", () => {
    const wire = Buffer.concat([greeting10(), encodeV1Message([Buffer.from("id")]), encodeV1Message([Buffer.alloc(6), Buffer.alloc(5)])])
    expect(runDecoder([wire], 10).error?.message).toBe("Message exceeds 10 bytes")
    expect(runDecoder([wire], 11).error).toBeUndefined()
  })

  it("refuses all input after an error", () => {
    const c = new Collector()
    const d = new ZmtpDecoder(c, LOCAL, 3)
    c.decoder = d
    expectProtocolError(() => d.push(Buffer.concat([start, encodeMessage([Buffer.alloc(4)])])), "ZMTP_OVERSIZE")
    expectProtocolError(() => d.push(encodeMessage([Buffer.alloc(1)])))
    expect(c.messages).toEqual([])
  })

  it("holds no more memory than was received: a header claiming 1 GiB with no limit allocates nothing of that size", () => {
    const real = Buffer.allocUnsafe
    let largest = 0
    Buffer.allocUnsafe = ((n: number) => {
      largest = Math.max(largest, n)
      return real(n)
    }) as typeof Buffer.allocUnsafe
    try {
      const header = Buffer.alloc(9)
      header[0] = 0x02
      header.writeUInt32BE(2 ** 30, 5)
      const { error, idle } = runDecoder([start, header, Buffer.alloc(1000)])
      expect(error).toBeUndefined()
      expect(idle).toBe(false)
    } finally {
      Buffer.allocUnsafe = real
    }
    expect(largest).toBeLessThan(2 ** 20)
  })
})

describe("ZmtpDecoder: CURVE MESSAGE boxes (RFC 26)", () => {
  it("opens every frame with the codec: the inner flags give MORE and COMMAND, any chunking (property)", () => {
    fc.assert(
      fc.property(messagesArb, chunkingArb, (lens, how) => {
        const { client, server } = curvePair()
        const msgs = build(lens)
        const queue = [...msgs]
        const boxed = encodeMessagesCurve(client, queue, Infinity)
        expect(boxed.count).toBe(msgs.length)
        const ping = pingFrame(7, Buffer.from("ctx"), client)
        const wire = Buffer.concat([greeting31(), READY, ...boxed.chunks, ping])
        const { c, error } = runDecoder(chunk(wire, how), -1, { codec: server })
        expect(error).toBeUndefined()
        expect(hexMessages(c.messages)).toEqual(hexMessages(msgs))
        // The boxed PING comes out as a command, unboxed.
        expect(c.commands[1]!.equals(pingFrame(7, Buffer.from("ctx")).subarray(2))).toBe(true)
      }),
      fcParams(60, 101),
    )
  })

  it("decodes the same split at every byte boundary", () => {
    const msgs = [[Buffer.from("a"), Buffer.alloc(0)], [patternBody(300, 5)]]
    const boxed = encodeMessagesCurve(curvePair().client, [...msgs], Infinity).chunks
    const wire = Buffer.concat([greeting31(), READY, ...boxed])
    for (let i = 0; i <= wire.length; i++) {
      const { c, error } = runDecoder([wire.subarray(0, i), wire.subarray(i)], -1, { codec: curvePair().server })
      expect(error, `split at ${i}`).toBeUndefined()
      expect(hexMessages(c.messages), `split at ${i}`).toEqual(hexMessages(msgs))
    }
  })

  it("refuses a plain frame once the codec is set (it is not a MESSAGE box)", () => {
    const { server } = curvePair()
    const { error } = runDecoder([Buffer.concat([greeting31(), READY, encodeMessage([Buffer.from("plain")])])], -1, { codec: server })
    expect(error?.code).toBe("ZMTP_MALFORMED_COMMAND")
  })

  it("refuses a replayed box (ZMTP_SEQUENCE)", () => {
    const { client, server } = curvePair()
    const box = encodeMessagesCurve(client, [[Buffer.from("once")]], Infinity).chunks
    const { error, c } = runDecoder([Buffer.concat([greeting31(), READY, ...box, ...box])], -1, { codec: server })
    expect(c.messages.length).toBe(1)
    expect(error?.code).toBe("ZMTP_SEQUENCE")
  })

  it("applies the size limit to the opened message", () => {
    const { client, server } = curvePair()
    const box = encodeMessagesCurve(client, [[Buffer.alloc(20), Buffer.alloc(20), Buffer.alloc(20)]], Infinity).chunks
    const wire = Buffer.concat([greeting31(), READY, ...box])
    // Each box (a frame of 53 bytes) is 33 bytes larger than its part: the frames pass both limits, the message of 60 only the first.
    expect(runDecoder([wire], 60, { codec: server }).error).toBeUndefined()
    expect(runDecoder([wire], 55, { codec: curvePair().server }).error?.message).toBe("Message exceeds 55 bytes")
  })
})

describe("ZmtpDecoder: one-frame messages as ranges of the chunk (a handler with onRange)", () => {
  it("gives the same messages in the same order as without onRange, any chunking; only whole short one-frame messages are ranges (property)", () => {
    fc.assert(
      fc.property(messagesArb, chunkingArb, (lens, how) => {
        const msgs = build(lens)
        const wire = Buffer.concat([greeting31(), READY, ...msgs.map((m) => encodeMessage(m)), pingFrame(1)])
        const plain = runDecoder(chunk(wire, how))
        const ranged = runDecoder(chunk(wire, how), -1, { ranges: true })
        expect(ranged.error).toBeUndefined()
        expect(ranged.c.events.map((e) => (e.kind === "range" ? "message" : e.kind))).toEqual(plain.c.events.map((e) => e.kind))
        expect(hexMessages(ranged.c.messages)).toEqual(hexMessages(msgs))
        for (const e of ranged.c.events) {
          if (e.kind !== "range") continue
          expect(e.parts.length).toBe(1)
          expect(e.parts[0]!.length).toBeGreaterThan(0)
          expect(e.parts[0]!.length).toBeLessThan(256)
        }
      }),
      fcParams(150, 102),
    )
  })

  it("a one-frame message in one chunk is a range; multi-part, empty, long and split ones are messages", () => {
    const wire = Buffer.concat([
      greeting31(),
      READY,
      encodeMessage([Buffer.from("one")]),
      encodeMessage([Buffer.from("a"), Buffer.from("b")]),
      encodeMessage([Buffer.alloc(0)]),
      encodeMessage([patternBody(300, 1)]),
      encodeMessage([Buffer.from("two")]),
    ])
    const split = wire.length - 2 // inside the last message's body
    const { c, error } = runDecoder([wire.subarray(0, split), wire.subarray(split)], -1, { ranges: true })
    expect(error).toBeUndefined()
    expect(c.events.map((e) => e.kind)).toEqual(["peer", "command", "range", "message", "message", "message", "message"])
  })

  it("frames kept by hold() are messages when released, not ranges of a chunk that is gone", () => {
    const c = new Collector({
      handshakeCommands: 99,
      ranges: true,
      onCommand: (col, body) => {
        if (body.equals(commandBody("HELLO"))) col.decoder.hold()
      },
    })
    const d = new ZmtpDecoder(c, LOCAL)
    c.decoder = d
    d.push(Buffer.concat([greeting31(), commandFrame("HELLO"), commandFrame("INITIATE"), encodeMessage([Buffer.from("held")])]))
    d.startMessages()
    d.release()
    d.push(encodeMessage([Buffer.from("after")]))
    expect(c.events.map((e) => e.kind)).toEqual(["peer", "command", "command", "message", "range"])
    expect(hexMessages(c.messages)).toEqual([[Buffer.from("held").toString("hex")], [Buffer.from("after").toString("hex")]])
  })

  it("under CURVE no frame is a range (each must be opened), and the limit still applies to a range", () => {
    const { client, server } = curvePair()
    const boxed = encodeMessagesCurve(client, [[Buffer.from("x")]], Infinity).chunks
    const curve = runDecoder([Buffer.concat([greeting31(), READY, ...boxed])], -1, { codec: server, ranges: true })
    expect(curve.c.events.map((e) => e.kind)).toEqual(["peer", "command", "message"])
    // (The limit applies to the READY command's frame too: 60 bytes leave room for it.)
    const wire = Buffer.concat([greeting31(), READY, encodeMessage([Buffer.alloc(60, 1)])])
    expect(runDecoder([wire], 59, { ranges: true }).error?.code).toBe("ZMTP_OVERSIZE")
    expect(runDecoder([wire], 60, { ranges: true }).c.events.map((e) => e.kind)).toEqual(["peer", "command", "range"])
  })
})
