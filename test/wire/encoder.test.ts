/**
 * The encoders the engine writes with (lib/wire/encoder.ts): the batched
 * 3.x/2.0 encoder (budget, large bodies by reference), the CURVE and ZMTP 1.0
 * batches, and subscriptions in each peer's form (RFC 37 commands for 3.1,
 * 0x01/0x00-prefixed messages for 3.0 (RFC 23), 2.0 (RFC 15), 1.0 (RFC 13)).
 * Everything is checked by decoding it again with ZmtpDecoder.
 */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { cancelFrame, commandBody, commandFrame, pingFrame, pongFrame, subscribeFrame } from "../../lib/wire/command.js"
import {
  ZERO_COPY_MIN,
  encodeBatch,
  encodeDataFrame,
  encodeMessage,
  encodeMessages,
  encodeMessagesCurve,
  encodeMessagesV1,
  encodeSubscription,
} from "../../lib/wire/encoder.js"
import { FLAG_COMMAND, FLAG_MORE, encodeFrame } from "../../lib/wire/frame.js"
import { encodeV1Message } from "../../lib/wire/frame-v1.js"
import { readyFrame } from "../../lib/wire/command.js"
import { Deque } from "../../lib/pipe/deque.js"
import { MessageQueue } from "../../lib/pipe/message-queue.js"
import { curvePair, greeting10, greeting20, greeting31, hexMessages, runDecoder } from "./codec.js"
import { chunk, chunkingArb, decodeChunks, fcParams, patternBody } from "./util.js"

const READY = readyFrame([["Socket-Type", "ROUTER"]])

/** The 3.x frames of `msgs` built one by one with encodeFrame: the reference the batch must equal. */
function reference(msgs: Buffer[][]): Buffer {
  return Buffer.concat(msgs.flatMap((m) => m.map((p, i) => encodeFrame(p, i < m.length - 1 ? FLAG_MORE : 0))))
}

const lensArb = fc.array(
  fc.array(
    fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 0, max: 400 }) }, { weight: 1, arbitrary: fc.constantFrom(16_383, 16_384, 40_000) }),
    {
      minLength: 1,
      maxLength: 4,
    },
  ),
  { minLength: 1, maxLength: 6 },
)
const build = (lens: number[][]): Buffer[][] => lens.map((m, i) => m.map((n, j) => patternBody(n, 100 + i * 8 + j)))

describe("encodeMessages (ZMTP 3.x / 2.0 batch)", () => {
  it("equals the frames built one by one, and decodes back to the messages in any chunking (property)", () => {
    fc.assert(
      fc.property(lensArb, chunkingArb, (lens, how) => {
        const msgs = build(lens)
        const { chunks, count } = encodeMessages([...msgs], Infinity)
        expect(count).toBe(msgs.length)
        const wire = Buffer.concat(chunks)
        expect(wire.equals(reference(msgs))).toBe(true)
        const { c, error } = runDecoder(chunk(Buffer.concat([greeting31(), READY, wire]), how))
        expect(error).toBeUndefined()
        expect(hexMessages(c.messages)).toEqual(hexMessages(msgs))
      }),
      fcParams(100, 110),
    )
  })

  it("writes bodies of ZERO_COPY_MIN bytes and more by reference, copies the smaller ones into one buffer", () => {
    const big = patternBody(ZERO_COPY_MIN, 1)
    const small = patternBody(ZERO_COPY_MIN - 1, 2)
    const { chunks } = encodeMessages([[Buffer.from("id"), big, small], [big]], Infinity)
    // header+id+header | big | header+small+header | big
    expect(chunks.length).toBe(4)
    expect(chunks[1]).toBe(big)
    expect(chunks[3]).toBe(big)
    expect(chunks.filter((c) => c === small)).toEqual([])
    // The copied segments share one allocation.
    expect(chunks[0]!.buffer).toBe(chunks[2]!.buffer)
    expect(Buffer.concat(chunks).equals(reference([[Buffer.from("id"), big, small], [big]]))).toBe(true)
  })

  it("produces a single buffer when no body is large", () => {
    const { chunks } = encodeMessages([[Buffer.from("a")], [Buffer.from("b"), Buffer.alloc(300)]], Infinity)
    expect(chunks.length).toBe(1)
  })

  it("stops at the message that reaches the budget (at least one), taking just those off the queue", () => {
    const msgs = Array.from({ length: 10 }, (_, i) => [patternBody(98, i)]) // 100 bytes on the wire each
    expect(encodeMessages([...msgs], 250).count).toBe(3)
    expect(encodeMessages([...msgs], 300).count).toBe(3)
    expect(encodeMessages([...msgs], 301).count).toBe(4)
    expect(encodeMessages([...msgs], 1).count).toBe(1)
    expect(encodeMessages([...msgs], Infinity).count).toBe(10)
    const queue = [...msgs]
    const { chunks } = encodeMessages(queue, 250)
    expect(Buffer.concat(chunks).equals(reference(msgs.slice(0, 3)))).toBe(true)
    expect(queue).toEqual(msgs.slice(3))
  })

  it("works on the pipe's Deque, taking what it encodes off it", () => {
    const msgs = [[Buffer.from("x")], [Buffer.from("y")], [patternBody(300, 9)]]
    const queue = new Deque<Buffer[]>()
    for (const m of msgs) queue.push(m)
    expect(Buffer.concat(encodeMessages(queue, 4).chunks).equals(reference(msgs.slice(0, 2)))).toBe(true)
    expect(queue.length).toBe(1)
    expect(queue.peek()).toBe(msgs[2])
  })

  it("encodeMessage is the batch encoder for one message (large bodies joined)", () => {
    const parts = [Buffer.from("id"), patternBody(20_000, 3)]
    expect(encodeMessage(parts).equals(reference([parts]))).toBe(true)
    expect(encodeMessage([]).length).toBe(0)
  })
})

describe("encodeMessagesV1 (ZMTP 1.0 batch)", () => {
  it("one buffer equal to RFC 13 frames of each message, decoded back in any chunking (property)", () => {
    fc.assert(
      fc.property(lensArb, chunkingArb, (lens, how) => {
        const msgs = build(lens)
        const { chunks, count } = encodeMessagesV1([...msgs], Infinity)
        expect(count).toBe(msgs.length)
        expect(chunks.length).toBe(1)
        expect(chunks[0]!.equals(Buffer.concat(msgs.map((m) => encodeV1Message(m))))).toBe(true)
        const wire = Buffer.concat([greeting10(), encodeV1Message([Buffer.from("id")]), chunks[0]!])
        const { c, error } = runDecoder(chunk(wire, how))
        expect(error).toBeUndefined()
        expect(hexMessages(c.messages)).toEqual(hexMessages(msgs))
      }),
      fcParams(60, 111),
    )
  })

  it("stops once the budget is reached (at least one message)", () => {
    const msgs = Array.from({ length: 5 }, (_, i) => [patternBody(98, i)]) // 100 bytes each in 1.0 framing
    expect(encodeMessagesV1([...msgs], 200).count).toBe(2)
    expect(encodeMessagesV1([...msgs], 201).count).toBe(3)
    expect(encodeMessagesV1([...msgs], 1).count).toBe(1)
  })
})

describe("encodeMessagesCurve (CURVE MESSAGE boxes, RFC 26)", () => {
  it("a frame (header and box) per part, all sealed into one buffer; the peer's codec opens them to the parts with MORE on all but the last", () => {
    const { client, server } = curvePair()
    const msgs = [[Buffer.from("a"), Buffer.alloc(0), patternBody(300, 4)], [Buffer.from("z")]]
    const { chunks, count } = encodeMessagesCurve(client, [...msgs], Infinity)
    expect(count).toBe(2)
    expect(chunks.length).toBe(1) // no buffer per box or header: one write
    const frames = decodeChunks([Buffer.concat(chunks)]).frames
    expect(frames.length).toBe(4)
    const opened = frames.map((f) => server.decode(f.body))
    expect(opened.map((o) => o.flags)).toEqual([1, 1, 0, 0])
    expect(opened.map((o) => o.body.toString("hex"))).toEqual(msgs.flat().map((p) => p.toString("hex")))
  })

  it("a codec that cannot seal in place gets a header and a box per part (the same frames)", () => {
    const { client, server } = curvePair()
    const plain = { encode: (f: number, b: Buffer) => client.encode(f, b), decode: (b: Buffer) => client.decode(b) }
    const msgs = [[Buffer.from("a"), patternBody(300, 4)], [Buffer.from("z")]]
    const { chunks } = encodeMessagesCurve(plain, [...msgs], Infinity)
    expect(chunks.length).toBe(6)
    const opened = decodeChunks([Buffer.concat(chunks)]).frames.map((f) => server.decode(f.body))
    expect(opened.map((o) => o.flags)).toEqual([1, 0, 0])
    expect(opened.map((o) => o.body.toString("hex"))).toEqual(msgs.flat().map((p) => p.toString("hex")))
  })

  it("stops once the budget is reached", () => {
    const { client } = curvePair()
    const msgs = Array.from({ length: 5 }, () => [Buffer.alloc(100)])
    // Each part: a 2-byte header and a box of 16 + 1 + 100 + 16 = 133 bytes.
    expect(encodeMessagesCurve(client, [...msgs], 135).count).toBe(1)
    expect(encodeMessagesCurve(client, [...msgs], 136).count).toBe(2)
  })
})

describe("encodeBatch picks the peer's framing", () => {
  const msgs = [[Buffer.from("m"), Buffer.from("n")]]
  it("3.x and 2.0: RFC 23 frames; 1.0: RFC 13 frames; a codec: boxes", () => {
    expect(Buffer.concat(encodeBatch({ zmtp: 3, minor: 1 }, [...msgs], Infinity).chunks).equals(reference(msgs))).toBe(true)
    expect(Buffer.concat(encodeBatch({ zmtp: 2, minor: 0 }, [...msgs], Infinity).chunks).equals(reference(msgs))).toBe(true)
    expect(Buffer.concat(encodeBatch({ zmtp: 1, minor: 0 }, [...msgs], Infinity).chunks).equals(encodeV1Message(msgs[0]!))).toBe(true)
    const { client, server } = curvePair()
    const boxed = encodeBatch({ zmtp: 3, minor: 1, codec: client }, [...msgs], Infinity).chunks
    const frames = decodeChunks([Buffer.concat(boxed)]).frames
    expect(frames.map((f) => server.decode(f.body).body.toString())).toEqual(["m", "n"])
  })
})

describe("subscriptions and commands in each peer's form", () => {
  const topic = Buffer.from("weather")

  it("ZMTP 3.1: SUBSCRIBE / CANCEL commands (RFC 37)", () => {
    expect(encodeSubscription({ zmtp: 3, minor: 1 }, true, topic).equals(subscribeFrame(topic))).toBe(true)
    expect(encodeSubscription({ zmtp: 3, minor: 1 }, false, topic).equals(cancelFrame(topic))).toBe(true)
    expect(subscribeFrame(topic).equals(commandFrame("SUBSCRIBE", topic))).toBe(true)
  })

  it("ZMTP 3.0 and 2.0: a message 0x01 + topic (subscribe) or 0x00 + topic (cancel)", () => {
    for (const peer of [
      { zmtp: 3, minor: 0 },
      { zmtp: 2, minor: 0 },
    ] as const) {
      expect(encodeSubscription(peer, true, topic).equals(encodeFrame(Buffer.concat([Buffer.from([1]), topic])))).toBe(true)
      expect(encodeSubscription(peer, false, topic).equals(encodeFrame(Buffer.concat([Buffer.from([0]), topic])))).toBe(true)
    }
  })

  it("ZMTP 1.0: the same message in RFC 13 framing", () => {
    expect(encodeSubscription({ zmtp: 1, minor: 0 }, true, topic).equals(encodeV1Message([Buffer.concat([Buffer.from([1]), topic])]))).toBe(
      true,
    )
    expect(encodeDataFrame({ zmtp: 1, minor: 0 }, Buffer.from("id")).equals(encodeV1Message([Buffer.from("id")]))).toBe(true)
  })

  it("under CURVE: boxed, the command with COMMAND inside the box (3.1), the message without (3.0)", () => {
    const { client, server } = curvePair()
    const open = (frame: Buffer) => server.decode(decodeChunks([frame]).frames[0]!.body)
    const cmd = open(encodeSubscription({ zmtp: 3, minor: 1, codec: client }, true, topic))
    expect(cmd.flags).toBe(2)
    expect(cmd.body.equals(commandBody("SUBSCRIBE", topic))).toBe(true)
    const msg = open(encodeSubscription({ zmtp: 3, minor: 0, codec: client }, false, topic))
    expect(msg.flags).toBe(0)
    expect(msg.body.equals(Buffer.concat([Buffer.from([0]), topic]))).toBe(true)
  })

  it("PING / PONG: plain command frames, or boxed with the codec", () => {
    expect(pingFrame(12).equals(commandFrame("PING", Buffer.from([0, 12])))).toBe(true)
    const { client, server } = curvePair()
    const ping = server.decode(decodeChunks([pingFrame(12, Buffer.from("c"), client)]).frames[0]!.body)
    expect(ping).toEqual({ flags: 2, body: commandBody("PING", Buffer.from([0, 12, 0x63])) })
    const pong = server.decode(decodeChunks([pongFrame(Buffer.from("c"), client)]).frames[0]!.body)
    expect(pong).toEqual({ flags: 2, body: commandBody("PONG", Buffer.from("c")) })
    // A boxed frame's outer flags are plain data (RFC 26: every frame is a MESSAGE).
    expect(pingFrame(12, undefined, client)[0]! & FLAG_COMMAND).toBe(0)
  })

  it("a 3.1 subscription round-trips through ZmtpDecoder as a command; a 3.0 / 2.0 one as a message", () => {
    const sub31 = runDecoder([Buffer.concat([greeting31(), READY, encodeSubscription({ zmtp: 3, minor: 1 }, true, topic)])])
    expect(sub31.c.commands[1]!.equals(commandBody("SUBSCRIBE", topic))).toBe(true)
    const sub20 = runDecoder([
      Buffer.concat([greeting20(), encodeFrame(Buffer.alloc(0)), encodeSubscription({ zmtp: 2, minor: 0 }, true, topic)]),
    ])
    expect(hexMessages(sub20.c.messages)).toEqual([[Buffer.concat([Buffer.from([1]), topic]).toString("hex")]])
  })
})

describe("encoders over a queue holding ranges (the pipe's MessageQueue: small one-frame messages as ranges of a send slab)", () => {
  /** The same messages twice: as messages in a Deque, and in a MessageQueue with every small one-frame message as a range. */
  function queues(msgs: Buffer[][]): { plain: Deque<Buffer[]>; ranged: MessageQueue; ranges: number } {
    const plain = new Deque<Buffer[]>()
    const ranged = new MessageQueue()
    const slab = Buffer.alloc(msgs.reduce((n, m) => n + m[0]!.length + 3, 0))
    let pos = 1 // never at 0, so the offsets matter
    let ranges = 0
    for (const m of msgs) {
      plain.push(m)
      if (m.length === 1 && m[0]!.length > 0 && m[0]!.length <= 128) {
        m[0]!.copy(slab, pos)
        ranged.pushRange(slab, pos, pos + m[0]!.length)
        pos += m[0]!.length + 2
        ranges++
      } else ranged.push(m)
    }
    return { plain, ranged, ranges }
  }
  const msgsArb = fc.array(
    fc.oneof(
      { weight: 3, arbitrary: fc.integer({ min: 1, max: 128 }).map((n) => [n]) },
      { weight: 1, arbitrary: fc.array(fc.integer({ min: 0, max: 300 }), { minLength: 1, maxLength: 3 }) },
      { weight: 1, arbitrary: fc.constant([20_000]).map((m) => [...m]) },
    ),
    { maxLength: 40 },
  )
  const build = (lens: number[][]) => lens.map((m, i) => m.map((n, j) => patternBody(n, i * 4 + j)))

  it("3.x: the same bytes and counts as the messages themselves, under any budget (property)", () => {
    fc.assert(
      fc.property(msgsArb, fc.integer({ min: 1, max: 30_000 }), (lens, budget) => {
        const { plain, ranged } = queues(build(lens))
        while (plain.length > 0) {
          const a = encodeMessages(plain, budget)
          const b = encodeMessages(ranged, budget)
          expect(b.count).toBe(a.count)
          expect(Buffer.concat(b.chunks).equals(Buffer.concat(a.chunks))).toBe(true)
        }
        expect(ranged.length).toBe(0)
      }),
      fcParams(150, 103),
    )
  })

  it("ZMTP 1.0 and CURVE: the same messages come out of the peer's decoder", () => {
    const msgs = build([[5], [1, 2], [128], [300], [60], [0]])
    const v1 = queues(msgs)
    expect(v1.ranges).toBe(3)
    expect(Buffer.concat(encodeMessagesV1(v1.ranged, Infinity).chunks).equals(Buffer.concat(encodeMessagesV1(v1.plain, Infinity).chunks))).toBe(
      true,
    )
    const { client, server } = curvePair()
    const curve = queues(msgs)
    const boxed = encodeMessagesCurve(client, curve.ranged, Infinity)
    expect(boxed.count).toBe(msgs.length)
    const { c, error } = runDecoder([Buffer.concat([greeting31(), READY, ...boxed.chunks])], -1, { codec: server })
    expect(error).toBeUndefined()
    expect(hexMessages(c.messages)).toEqual(hexMessages(msgs))
  })
})
