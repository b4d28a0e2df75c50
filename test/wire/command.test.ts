/**
 * RFC 23 "The NULL Security Mechanism" (READY/ERROR, metadata) and RFC 37
 * "Connection Heartbeating" (PING/PONG) and "The Publish-Subscribe Pattern"
 * (SUBSCRIBE/CANCEL). A command frame body is `name-size(1) name data`.
 */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import {
  type Command,
  cancelFrame,
  commandBody,
  commandFrame,
  decodeCommand,
  errorFrame,
  parseRawCommand,
  pingFrame,
  pongFrame,
  readyFrame,
  subscribeFrame,
} from "../../lib/wire/command.js"
import { FLAG_COMMAND, FLAG_LONG } from "../../lib/wire/frame.js"
import { decodeMetadata, encodeMetadata } from "../../lib/wire/metadata.js"
import { chunk, decodeChunks, expectProtocolError, fcParams } from "./util.js"

/** Decodes one complete command frame off the wire (header included). */
function decodeWire(frame: Buffer): Command {
  const { frames, error, idle } = decodeChunks(chunk(frame, { kind: "bytes" }))
  expect(error).toBeUndefined()
  expect(idle).toBe(true)
  expect(frames.length).toBe(1)
  expect(frames[0]!.flags & FLAG_COMMAND).toBe(FLAG_COMMAND)
  return decodeCommand(frames[0]!.body)
}

/** A command body with an explicit name and raw data. */
function body(name: string, data: number[] | Buffer = []): Buffer {
  return commandBody(name, Buffer.from(data))
}

const MALFORMED = "ZMTP_MALFORMED_COMMAND"

describe("RFC 23 command frame: name-size name data", () => {
  it("commandFrame is flags 0x04, short size, name length, name, data", () => {
    expect([...commandFrame("HELLO", Buffer.from([1, 2]))]).toEqual([0x04, 8, 5, 0x48, 0x45, 0x4c, 0x4c, 0x4f, 1, 2])
    expect([...commandFrame("X")]).toEqual([0x04, 2, 1, 0x58])
  })

  it("uses a long frame (flags 0x06) once the body exceeds 255 octets", () => {
    const f = subscribeFrame(Buffer.alloc(300, 0x61))
    expect(f[0]).toBe(FLAG_COMMAND | FLAG_LONG)
    expect([...f.subarray(1, 9)]).toEqual([0, 0, 0, 0, 0, 0, 0x01, 0x36]) // 1 + 9 + 300 = 310
    const cmd = decodeWire(f)
    expect(cmd.name).toBe("SUBSCRIBE")
    expect((cmd as { topic: Buffer }).topic.equals(Buffer.alloc(300, 0x61))).toBe(true)
  })

  it("rejects command names that cannot be encoded (empty or longer than 255)", () => {
    expect(() => commandBody("")).toThrow(TypeError)
    expect(() => commandBody("A".repeat(256))).toThrow(TypeError)
    expect(commandBody("A".repeat(255))[0]).toBe(255)
  })

  it("parseRawCommand splits name and data", () => {
    const raw = parseRawCommand(body("WELCOME", [9, 8, 7]))
    expect(raw.name).toBe("WELCOME")
    expect([...raw.data]).toEqual([9, 8, 7])
  })
})

describe("RFC 23 READY command and metadata", () => {
  it("encodes the RFC 23 worked example (DEALER, empty Identity) byte for byte", () => {
    const f = readyFrame([
      ["Socket-Type", "DEALER"],
      ["Identity", ""],
    ])
    const expected = Buffer.concat([
      Buffer.from([0x04, 41, 0x05]),
      Buffer.from("READY"),
      Buffer.from([11]),
      Buffer.from("Socket-Type"),
      Buffer.from([0, 0, 0, 6]),
      Buffer.from("DEALER"),
      Buffer.from([8]),
      Buffer.from("Identity"),
      Buffer.from([0, 0, 0, 0]),
    ])
    expect(f.toString("hex")).toBe(expected.toString("hex"))
  })

  it("round-trips Socket-Type and an empty Identity, keyed by lower-cased name", () => {
    const cmd = decodeWire(
      readyFrame([
        ["Socket-Type", "DEALER"],
        ["Identity", ""],
      ]),
    )
    expect(cmd.name).toBe("READY")
    if (cmd.name !== "READY") return
    expect([...cmd.metadata.keys()]).toEqual(["socket-type", "identity"])
    expect(cmd.metadata.get("socket-type")!.toString()).toBe("DEALER")
    expect(cmd.metadata.get("identity")!.length).toBe(0)
  })

  it("round-trips a binary Identity and a ROUTER reply with only Socket-Type", () => {
    const id = Buffer.from([0x01, 0x00, 0xff, 0x80])
    const cmd = decodeWire(
      readyFrame([
        ["Socket-Type", "ROUTER"],
        ["Identity", id],
      ]),
    )
    if (cmd.name !== "READY") return expect.unreachable()
    expect(cmd.metadata.get("identity")!.equals(id)).toBe(true)
    const reply = decodeWire(readyFrame([["Socket-Type", "ROUTER"]]))
    if (reply.name !== "READY") return expect.unreachable()
    expect([...reply.metadata.entries()].map(([k, v]) => [k, v.toString()])).toEqual([["socket-type", "ROUTER"]])
  })

  it("treats property names case-insensitively (RFC 23: case SHALL NOT be significant)", () => {
    const md = decodeMetadata(
      encodeMetadata([
        ["SOCKET-TYPE", "PUB"],
        ["X-Custom.Name+1", "v"],
      ]),
    )
    expect(md.get("socket-type")!.toString()).toBe("PUB")
    expect(md.get("x-custom.name+1")!.toString()).toBe("v")
  })

  it("decodes an empty READY (no properties) to an empty map", () => {
    const cmd = decodeWire(readyFrame([]))
    if (cmd.name !== "READY") return expect.unreachable()
    expect(cmd.metadata.size).toBe(0)
    expect(encodeMetadata([]).length).toBe(0)
  })

  it("round-trips arbitrary properties (names 1..255 name-chars, values 0..600 octets) (property)", () => {
    const nameArb = fc.stringMatching(/^[A-Za-z0-9_.+-]{1,255}$/)
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.tuple(nameArb, fc.uint8Array({ maxLength: 600 })), {
          maxLength: 6,
          selector: ([n]) => n.toLowerCase(),
        }),
        (props) => {
          const enc = encodeMetadata(props.map(([n, v]) => [n, Buffer.from(v)]))
          const md = decodeMetadata(enc)
          expect([...md.keys()]).toEqual(props.map(([n]) => n.toLowerCase()))
          for (const [n, v] of props) expect(md.get(n.toLowerCase())!.equals(Buffer.from(v))).toBe(true)
          // And the same through a READY frame.
          const cmd = decodeCommand(body("READY", enc))
          expect(cmd.name).toBe("READY")
        },
      ),
      fcParams(150, 10),
    )
  })

  it("rejects property names that cannot be encoded (empty or longer than 255)", () => {
    expect(() => encodeMetadata([["", "x"]])).toThrow(TypeError)
    expect(() => encodeMetadata([["a".repeat(256), "x"]])).toThrow(TypeError)
  })

  describe("malformed metadata → ZMTP_MALFORMED_COMMAND", () => {
    const good = encodeMetadata([["Socket-Type", "PAIR"]])
    const cases: [string, Buffer][] = [
      ["name length 0", Buffer.from([0, 0, 0, 0, 0])],
      ["name length 0 after a valid property", Buffer.concat([good, Buffer.from([0, 0, 0, 0, 0])])],
      ["name overruns the buffer", Buffer.from([5, 0x61, 0x62])],
      ["name without a value-size", Buffer.from([1, 0x61])],
      ["value-size truncated to 3 octets", Buffer.from([1, 0x61, 0, 0, 0])],
      ["value overruns by one octet", Buffer.from([1, 0x61, 0, 0, 0, 2, 0x7a])],
      ["value-size 0xFFFFFFFF", Buffer.from([1, 0x61, 0xff, 0xff, 0xff, 0xff, 0x7a])],
      ["trailing lone name-size", Buffer.concat([good, Buffer.from([3])])],
    ]
    for (const [what, md] of cases) {
      it(`${what}`, () => {
        expectProtocolError(() => decodeMetadata(md), MALFORMED)
        expectProtocolError(() => decodeCommand(body("READY", md)), MALFORMED)
      })
    }

    it("every strict prefix of a valid property list that cuts inside a property", () => {
      const md = encodeMetadata([
        ["Socket-Type", "DEALER"],
        ["Identity", "abc"],
      ])
      const boundaries = new Set([0, 1 + 11 + 4 + 6, md.length])
      for (let n = 0; n <= md.length; n++) {
        const prefix = md.subarray(0, n)
        if (boundaries.has(n)) expect(() => decodeMetadata(prefix)).not.toThrow()
        else expectProtocolError(() => decodeMetadata(prefix), MALFORMED)
      }
    })
  })
})

describe("RFC 23 ERROR command", () => {
  it("round-trips an error reason", () => {
    const f = errorFrame("Invalid socket type")
    expect([...f.subarray(0, 9)]).toEqual([0x04, 1 + 5 + 1 + 19, 5, 0x45, 0x52, 0x52, 0x4f, 0x52, 19])
    expect(decodeWire(f)).toEqual({ name: "ERROR", reason: "Invalid socket type" })
  })

  it("round-trips an empty reason (error-reason = short-size 0*255VCHAR)", () => {
    expect([...errorFrame("")]).toEqual([0x04, 7, 5, 0x45, 0x52, 0x52, 0x4f, 0x52, 0])
    expect(decodeWire(errorFrame(""))).toEqual({ name: "ERROR", reason: "" })
  })

  it("truncates reasons to 255 octets", () => {
    expect(decodeWire(errorFrame("r".repeat(255)))).toEqual({ name: "ERROR", reason: "r".repeat(255) })
    expect(decodeWire(errorFrame("r".repeat(400)))).toEqual({ name: "ERROR", reason: "r".repeat(255) })
  })

  it("rejects an ERROR without reason-size or whose reason overruns the frame", () => {
    expectProtocolError(() => decodeCommand(body("ERROR")), MALFORMED)
    expectProtocolError(() => decodeCommand(body("ERROR", [5, 0x61, 0x62])), MALFORMED)
    expectProtocolError(() => decodeCommand(body("ERROR", [255])), MALFORMED)
  })
})

describe("RFC 37 PING / PONG (connection heartbeating)", () => {
  it("encodes PING as ttl (16-bit network order, deciseconds) followed by the context", () => {
    const f = pingFrame(0x1234, Buffer.from("ctx"))
    expect([...f]).toEqual([0x04, 1 + 4 + 2 + 3, 4, 0x50, 0x49, 0x4e, 0x47, 0x12, 0x34, 0x63, 0x74, 0x78])
  })

  it("round-trips ttl and context, for ttl 0..65535 and contexts of 0..16 octets (property)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffff }), fc.uint8Array({ maxLength: 16 }), (ttl, ctx) => {
        const cmd = decodeWire(pingFrame(ttl, Buffer.from(ctx)))
        expect(cmd.name).toBe("PING")
        if (cmd.name !== "PING") return
        expect(cmd.ttl).toBe(ttl)
        expect(cmd.context.equals(Buffer.from(ctx))).toBe(true)
      }),
      fcParams(150, 11),
    )
  })

  it("defaults to an empty context and clamps ttl to 0..65535", () => {
    expect(decodeWire(pingFrame(10))).toMatchObject({ name: "PING", ttl: 10 })
    expect((decodeWire(pingFrame(10)) as { context: Buffer }).context.length).toBe(0)
    expect(decodeWire(pingFrame(70_000))).toMatchObject({ ttl: 65_535 })
    expect(decodeWire(pingFrame(-5))).toMatchObject({ ttl: 0 })
  })

  it("accepts a 16-octet context and rejects 17 octets (ping-context = 0*16OCTET)", () => {
    const ok = decodeCommand(body("PING", [0, 1, ...new Array(16).fill(7)]))
    expect(ok).toMatchObject({ name: "PING", ttl: 1 })
    expectProtocolError(() => decodeCommand(body("PING", [0, 1, ...new Array(17).fill(7)])), MALFORMED)
  })

  it("rejects a PING shorter than its 2-octet ttl", () => {
    expectProtocolError(() => decodeCommand(body("PING")), MALFORMED)
    expectProtocolError(() => decodeCommand(body("PING", [0x01])), MALFORMED)
  })

  it("round-trips PONG echoing the ping context, including an empty one", () => {
    for (const ctx of [Buffer.alloc(0), Buffer.from([0, 0xff, 1]), Buffer.alloc(16, 0xab)]) {
      const f = pongFrame(ctx)
      expect([...f.subarray(0, 7)]).toEqual([0x04, 5 + ctx.length, 4, 0x50, 0x4f, 0x4e, 0x47])
      const cmd = decodeWire(f)
      expect(cmd.name).toBe("PONG")
      expect((cmd as { context: Buffer }).context.equals(ctx)).toBe(true)
    }
  })
})

describe("RFC 37 SUBSCRIBE / CANCEL", () => {
  it("encodes SUBSCRIBE as %d9 'SUBSCRIBE' subscription and CANCEL as %d6 'CANCEL' subscription", () => {
    expect([...subscribeFrame(Buffer.from("A"))]).toEqual([0x04, 11, 9, ...Buffer.from("SUBSCRIBE"), 0x41])
    expect([...cancelFrame(Buffer.from("A"))]).toEqual([0x04, 8, 6, ...Buffer.from("CANCEL"), 0x41])
  })

  it("round-trips empty topics (match everything)", () => {
    const s = decodeWire(subscribeFrame(Buffer.alloc(0)))
    const c = decodeWire(cancelFrame(Buffer.alloc(0)))
    expect(s.name).toBe("SUBSCRIBE")
    expect(c.name).toBe("CANCEL")
    expect((s as { topic: Buffer }).topic.length).toBe(0)
    expect((c as { topic: Buffer }).topic.length).toBe(0)
  })

  it("round-trips arbitrary binary topics, including NUL and 0xFF octets (property)", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), fc.boolean(), (t, sub) => {
        const topic = Buffer.from(t)
        const cmd = decodeWire(sub ? subscribeFrame(topic) : cancelFrame(topic))
        expect(cmd.name).toBe(sub ? "SUBSCRIBE" : "CANCEL")
        expect((cmd as { topic: Buffer }).topic.equals(topic)).toBe(true)
      }),
      fcParams(150, 12),
    )
    const bin = Buffer.from([0x00, 0xff, 0x00, 0x80])
    expect((decodeWire(subscribeFrame(bin)) as { topic: Buffer }).topic.equals(bin)).toBe(true)
  })
})

describe("unknown commands", () => {
  it("pass through as OTHER with the raw name and data (e.g. HELLO, WELCOME, JOIN)", () => {
    expect(decodeCommand(body("HELLO", [1, 2, 3]))).toEqual({
      name: "OTHER",
      command: { name: "HELLO", data: Buffer.from([1, 2, 3]) },
    })
    expect(decodeCommand(body("JOIN", Buffer.from("group")))).toEqual({
      name: "OTHER",
      command: { name: "JOIN", data: Buffer.from("group") },
    })
    expect(decodeCommand(body("WELCOME"))).toEqual({
      name: "OTHER",
      command: { name: "WELCOME", data: Buffer.alloc(0) },
    })
  })

  it("are matched by exact name: 'ready' or 'PINGX' are not READY/PING", () => {
    expect(decodeCommand(body("ready", [0]))).toMatchObject({ name: "OTHER", command: { name: "ready" } })
    expect(decodeCommand(body("PINGX"))).toMatchObject({ name: "OTHER", command: { name: "PINGX" } })
  })
})

describe("malformed command frames → ZMTP_MALFORMED_COMMAND", () => {
  it("an empty command body", () => {
    expectProtocolError(() => decodeCommand(Buffer.alloc(0)), MALFORMED)
  })

  it("a command name of length 0", () => {
    expectProtocolError(() => decodeCommand(Buffer.from([0])), MALFORMED)
    expectProtocolError(() => decodeCommand(Buffer.from([0, 0x52, 0x45])), MALFORMED)
  })

  it("a command name that overruns the body", () => {
    expectProtocolError(() => decodeCommand(Buffer.from([5, 0x52, 0x45, 0x41, 0x44])), MALFORMED)
    expectProtocolError(() => decodeCommand(Buffer.from([255])), MALFORMED)
  })

  it("every truncation of a valid READY, ERROR and PING body that cuts the name or a field", () => {
    const ready = commandBody("READY", encodeMetadata([["Socket-Type", "PULL"]]))
    const okReadyLengths = new Set([1 + 5, ready.length])
    for (let n = 0; n < ready.length; n++) {
      if (okReadyLengths.has(n)) expect(decodeCommand(ready.subarray(0, n)).name).toBe("READY")
      else expectProtocolError(() => decodeCommand(ready.subarray(0, n)), MALFORMED)
    }
    const err = commandBody("ERROR", Buffer.from([3, 0x61, 0x62, 0x63]))
    for (let n = 0; n < err.length; n++) expectProtocolError(() => decodeCommand(err.subarray(0, n)), MALFORMED)
    const ping = commandBody("PING", Buffer.from([0, 10]))
    for (let n = 0; n < ping.length; n++) expectProtocolError(() => decodeCommand(ping.subarray(0, n)), MALFORMED)
  })
})
