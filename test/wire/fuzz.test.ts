/**
 * Robustness of the wire codec (frame decoders, commands, greeting, and
 * ZmtpDecoder from the first octet to whole messages) against hostile input: arbitrary bytes and
 * mutated valid encodings, fed in arbitrary chunkings. The only exception the
 * decoders may ever raise is a ProtocolError (never a RangeError, TypeError,
 * ...), every call returns (bounded, synchronous), and chunking never changes
 * what is decoded.
 */
import { constants as bufferConstants } from "node:buffer"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { ProtocolError } from "../../lib/errors.js"
import {
  cancelFrame,
  commandBody,
  decodeCommand,
  errorFrame,
  pingFrame,
  pongFrame,
  readyFrame,
  subscribeFrame,
} from "../../lib/wire/command.js"
import { FLAG_COMMAND, FLAG_LONG, FLAG_MORE, encodeFrame } from "../../lib/wire/frame.js"
import { encodeMessage, encodeMessages, encodeMessagesCurve } from "../../lib/wire/encoder.js"
import { V1FrameDecoder, encodeV1Message } from "../../lib/wire/frame-v1.js"
import { checkSignature, decodeGreeting, encodeGreeting } from "../../lib/wire/greeting.js"
import { VersionNegotiator, type PeerProtocol } from "../../lib/wire/negotiation.js"
import { decodeMetadata, encodeMetadata } from "../../lib/wire/metadata.js"
import { curvePair, greeting10, greeting20, runDecoder } from "./codec.js"
import { type DecodeOutcome, chunk, chunkingArb, decodeChunks, fcParams, patternBody } from "./util.js"

const KNOWN_CODES = new Set([
  "ZMTP_BAD_SIGNATURE",
  "ZMTP_BAD_VERSION",
  "ZMTP_BAD_MECHANISM",
  "ZMTP_BAD_FLAGS",
  "ZMTP_OVERSIZE",
  "ZMTP_MALFORMED_COMMAND",
])

/** Runs `fn`; any exception must be a ProtocolError with a known code. Returns the error or undefined. */
function onlyProtocolErrors<T>(fn: () => T): ProtocolError | undefined {
  try {
    fn()
    return undefined
  } catch (err) {
    if (!(err instanceof ProtocolError)) {
      throw new Error(`expected only ProtocolError, got ${(err as Error)?.name}: ${(err as Error)?.message}`, { cause: err })
    }
    expect(KNOWN_CODES.has(err.code), err.code).toBe(true)
    return err
  }
}

// ---------------------------------------------------------------- mutation

type Mutation =
  | { op: "flip"; at: number; xor: number }
  | { op: "set"; at: number; value: number }
  | { op: "truncate"; at: number }
  | { op: "insert"; at: number; bytes: Uint8Array }
  | { op: "delete"; at: number; count: number }

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant("flip" as const), at: fc.nat(), xor: fc.integer({ min: 1, max: 255 }) }),
  fc.record({
    op: fc.constant("set" as const),
    at: fc.nat(),
    value: fc.constantFrom(0x00, 0x01, 0x02, 0x04, 0x07, 0x08, 0x7f, 0x80, 0xff),
  }),
  fc.record({ op: fc.constant("truncate" as const), at: fc.nat() }),
  fc.record({ op: fc.constant("insert" as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 9 }) }),
  fc.record({ op: fc.constant("delete" as const), at: fc.nat(), count: fc.integer({ min: 1, max: 9 }) }),
)

function mutate(input: Buffer, mutations: readonly Mutation[]): Buffer {
  let buf = Buffer.from(input) // never touch the original
  for (const m of mutations) {
    if (buf.length === 0 && m.op !== "insert") continue
    const at = m.at % (buf.length + (m.op === "insert" || m.op === "truncate" ? 1 : 0))
    switch (m.op) {
      case "flip":
        buf[at] = buf[at]! ^ m.xor
        break
      case "set":
        buf[at] = m.value
        break
      case "truncate":
        buf = buf.subarray(0, at)
        break
      case "insert":
        buf = Buffer.concat([buf.subarray(0, at), Buffer.from(m.bytes), buf.subarray(at)])
        break
      case "delete":
        buf = Buffer.concat([buf.subarray(0, at), buf.subarray(at + m.count)])
        break
    }
  }
  return buf
}

// ---------------------------------------------------------------- inputs

const smallBody = fc.uint8Array({ maxLength: 300 }).map((u) => Buffer.from(u))

/** Valid frame streams: messages, data frames around the 255/256 boundary, and commands. */
const validStreamArb: fc.Arbitrary<Buffer> = fc
  .array(
    fc.oneof(
      fc.array(smallBody, { minLength: 1, maxLength: 4 }).map((parts) => encodeMessage(parts)),
      fc
        .tuple(fc.constantFrom(0, FLAG_MORE, FLAG_COMMAND), fc.integer({ min: 250, max: 262 }), fc.nat(255))
        .map(([flags, n, s]) => encodeFrame(patternBody(n, s), flags)),
      fc.constantFrom(
        readyFrame([
          ["Socket-Type", "DEALER"],
          ["Identity", ""],
        ]),
        errorFrame("no"),
        pingFrame(100, Buffer.from("ctx")),
        pongFrame(Buffer.from("ctx")),
        subscribeFrame(Buffer.from("topic")),
        cancelFrame(Buffer.alloc(0)),
      ),
    ),
    { maxLength: 5 },
  )
  .map((parts) => Buffer.concat(parts))

/** Arbitrary bytes, biased towards interesting header octets so long/short/bad-flag paths are all reached. */
const hostileBytesArb: fc.Arbitrary<Buffer> = fc
  .array(
    fc.oneof(
      { weight: 4, arbitrary: fc.integer({ min: 0, max: 255 }) },
      { weight: 2, arbitrary: fc.constantFrom(0x00, 0x01, 0x02, 0x03, 0x04, 0x06, 0x07, 0x08, 0x80, 0xff) },
    ),
    { maxLength: 400 },
  )
  .map((xs) => Buffer.from(xs))

/** maxSize for the decoder: bounded so a random long header never allocates more than 1 MiB. */
const maxSizeArb = fc.oneof(fc.constantFrom(0, 1, 255, 256), fc.integer({ min: 0, max: 1 << 20 }))

function sameOutcome(a: DecodeOutcome, b: DecodeOutcome): void {
  expect(b.frames.length).toBe(a.frames.length)
  for (let i = 0; i < a.frames.length; i++) {
    expect(b.frames[i]!.flags).toBe(a.frames[i]!.flags)
    expect(b.frames[i]!.body.equals(a.frames[i]!.body)).toBe(true)
  }
  expect((b.error as ProtocolError | undefined)?.code).toBe((a.error as ProtocolError | undefined)?.code)
  if (a.error === undefined) expect(b.idle).toBe(a.idle)
}

function checkDecoderRun(input: Buffer, how: Parameters<typeof chunk>[1], maxSize: number): void {
  const chunked = decodeChunks(chunk(input, how), maxSize)
  if (chunked.error !== undefined) {
    expect(chunked.error).toBeInstanceOf(ProtocolError)
    expect(KNOWN_CODES.has((chunked.error as ProtocolError).code)).toBe(true)
  }
  let delivered = 0
  for (const f of chunked.frames) {
    expect(f.flags & 0xf8).toBe(0)
    expect(f.body.length).toBeLessThanOrEqual(maxSize)
    delivered += f.body.length
  }
  expect(delivered).toBeLessThanOrEqual(input.length)
  // The chunking must not change the outcome: same frames, same error (if any).
  sameOutcome(decodeChunks([input], maxSize), chunked)
}

// ---------------------------------------------------------------- tests

describe("fuzz: FrameDecoder", () => {
  it("arbitrary bytes in arbitrary chunkings: only ProtocolError, and the same result as one chunk", () => {
    fc.assert(
      fc.property(hostileBytesArb, chunkingArb, maxSizeArb, (input, how, maxSize) => {
        checkDecoderRun(input, how, maxSize)
      }),
      fcParams(400, 20),
    )
  })

  it("mutated valid frame streams in arbitrary chunkings: only ProtocolError, and the same result as one chunk", () => {
    fc.assert(
      fc.property(
        validStreamArb,
        fc.array(mutationArb, { minLength: 1, maxLength: 4 }),
        chunkingArb,
        maxSizeArb,
        (valid, muts, how, maxSize) => {
          checkDecoderRun(mutate(valid, muts), how, maxSize)
        },
      ),
      fcParams(400, 21),
    )
  })

  it("random long headers with no size limit: only ProtocolError (never a RangeError from allocation)", () => {
    // Sizes above the largest allocatable Buffer (or above 2^53) must be refused as ZMTP_OVERSIZE.
    const maxLen = bufferConstants.MAX_LENGTH
    const tooBigArb = fc.oneof(
      fc.tuple(fc.integer({ min: 0x0020_0000, max: 0xffff_ffff }), fc.nat({ max: 0xffff_ffff })),
      fc
        .integer({ min: maxLen + 1, max: Number.MAX_SAFE_INTEGER })
        .map((n) => [Math.floor(n / 0x1_0000_0000), n % 0x1_0000_0000] as [number, number]),
    )
    fc.assert(
      fc.property(tooBigArb, fc.constantFrom(0, FLAG_MORE, FLAG_COMMAND), chunkingArb, ([hi, lo], flags, how) => {
        const header = Buffer.alloc(9 + 3)
        header[0] = flags | FLAG_LONG
        header.writeUInt32BE(hi, 1)
        header.writeUInt32BE(lo, 5)
        const out = decodeChunks(chunk(header, how))
        expect(out.frames.length).toBe(0)
        expect(out.error).toBeInstanceOf(ProtocolError)
        expect((out.error as ProtocolError).code).toBe("ZMTP_OVERSIZE")
      }),
      fcParams(200, 22),
    )
  })
})

describe("fuzz: V1FrameDecoder (ZMTP 1.0)", () => {
  const decodeV1Chunks = (chunks: readonly Buffer[], maxSize: number): DecodeOutcome => decodeChunks(chunks, maxSize, V1FrameDecoder)

  function checkV1Run(input: Buffer, how: Parameters<typeof chunk>[1], maxSize: number): void {
    const chunked = decodeV1Chunks(chunk(input, how), maxSize)
    if (chunked.error !== undefined) {
      expect(chunked.error).toBeInstanceOf(ProtocolError)
      expect(KNOWN_CODES.has((chunked.error as ProtocolError).code)).toBe(true)
    }
    let delivered = 0
    for (const f of chunked.frames) {
      expect(f.flags & ~FLAG_MORE).toBe(0)
      expect(f.body.length).toBeLessThanOrEqual(maxSize)
      delivered += f.body.length
    }
    expect(delivered).toBeLessThanOrEqual(input.length)
    sameOutcome(decodeV1Chunks([input], maxSize), chunked)
  }

  const validV1Arb = fc
    .array(
      fc.array(smallBody, { minLength: 1, maxLength: 4 }).map((parts) => encodeV1Message(parts)),
      { maxLength: 5 },
    )
    .map((parts) => Buffer.concat(parts))

  it("arbitrary bytes in arbitrary chunkings: only ProtocolError, and the same result as one chunk", () => {
    fc.assert(
      fc.property(hostileBytesArb, chunkingArb, maxSizeArb, (input, how, maxSize) => checkV1Run(input, how, maxSize)),
      fcParams(400, 25),
    )
  })

  it("mutated valid 1.0 streams in arbitrary chunkings: only ProtocolError, and the same result as one chunk", () => {
    fc.assert(
      fc.property(validV1Arb, fc.array(mutationArb, { minLength: 1, maxLength: 4 }), chunkingArb, maxSizeArb, (valid, muts, how, maxSize) =>
        checkV1Run(mutate(valid, muts), how, maxSize),
      ),
      fcParams(400, 26),
    )
  })
})

describe("fuzz: decodeCommand / decodeMetadata", () => {
  const commandNames = ["READY", "ERROR", "PING", "PONG", "SUBSCRIBE", "CANCEL", "HELLO", "JOIN"]

  it("arbitrary command bodies: only ProtocolError (ZMTP_MALFORMED_COMMAND)", () => {
    fc.assert(
      fc.property(hostileBytesArb, (b) => {
        const err = onlyProtocolErrors(() => decodeCommand(b))
        if (err) expect(err.code).toBe("ZMTP_MALFORMED_COMMAND")
      }),
      fcParams(500, 30),
    )
  })

  it("known command names followed by arbitrary data: only ProtocolError (ZMTP_MALFORMED_COMMAND)", () => {
    fc.assert(
      fc.property(fc.constantFrom(...commandNames), hostileBytesArb, (name, data) => {
        const err = onlyProtocolErrors(() => decodeCommand(commandBody(name, data)))
        if (err) expect(err.code).toBe("ZMTP_MALFORMED_COMMAND")
      }),
      fcParams(500, 31),
    )
  })

  it("mutated valid command frames, re-framed through FrameDecoder in arbitrary chunkings: only ProtocolError", () => {
    const validCommandArb = fc.oneof(
      fc
        .array(fc.tuple(fc.stringMatching(/^[A-Za-z-]{1,12}$/), fc.uint8Array({ maxLength: 40 })), { maxLength: 4 })
        .map((props) => readyFrame(props.map(([n, v]) => [n, Buffer.from(v)]))),
      fc.string({ maxLength: 40 }).map((r) => errorFrame(r)),
      fc.tuple(fc.nat(0xffff), fc.uint8Array({ maxLength: 16 })).map(([t, c]) => pingFrame(t, Buffer.from(c))),
      fc.uint8Array({ maxLength: 16 }).map((c) => pongFrame(Buffer.from(c))),
      fc.uint8Array({ maxLength: 300 }).map((t) => subscribeFrame(Buffer.from(t))),
      fc.uint8Array({ maxLength: 30 }).map((t) => cancelFrame(Buffer.from(t))),
    )
    fc.assert(
      fc.property(validCommandArb, fc.array(mutationArb, { maxLength: 4 }), chunkingArb, (valid, muts, how) => {
        const wire = mutate(valid, muts)
        const out = decodeChunks(chunk(wire, how), 1 << 16)
        if (out.error !== undefined) expect(out.error).toBeInstanceOf(ProtocolError)
        for (const f of out.frames) {
          // Decode every frame as a command, whatever its flags say: hostile peers lie.
          const err = onlyProtocolErrors(() => decodeCommand(f.body))
          if (err) expect(err.code).toBe("ZMTP_MALFORMED_COMMAND")
        }
      }),
      fcParams(400, 32),
    )
  })

  it("arbitrary and mutated metadata: only ProtocolError (ZMTP_MALFORMED_COMMAND), values never overrun the input", () => {
    const validMetadataArb = fc
      .array(fc.tuple(fc.stringMatching(/^[A-Za-z0-9_.+-]{1,20}$/), fc.uint8Array({ maxLength: 50 })), {
        maxLength: 5,
      })
      .map((props) => encodeMetadata(props.map(([n, v]) => [n, Buffer.from(v)])))
    const inputArb = fc.oneof(
      hostileBytesArb,
      fc.tuple(validMetadataArb, fc.array(mutationArb, { minLength: 1, maxLength: 4 })).map(([v, m]) => mutate(v, m)),
    )
    fc.assert(
      fc.property(inputArb, (b) => {
        let md: Map<string, Buffer> | undefined
        const err = onlyProtocolErrors(() => {
          md = decodeMetadata(b)
        })
        if (err) expect(err.code).toBe("ZMTP_MALFORMED_COMMAND")
        else {
          let total = 0
          for (const [k, v] of md!) {
            expect(k.length).toBeGreaterThan(0)
            expect(k).toBe(k.toLowerCase())
            total += k.length + v.length
          }
          expect(total).toBeLessThanOrEqual(b.length)
        }
      }),
      fcParams(500, 33),
    )
  })
})

describe("fuzz: greeting", () => {
  /** Reads a greeting from chunks as the engine does: through the version negotiation (which decodes a 3.x greeting at 64 octets). */
  function readGreeting(chunks: readonly Buffer[]): PeerProtocol | undefined {
    const n = new VersionNegotiator({ mechanism: "NULL", asServer: false, socketType: 5, identity: Buffer.alloc(0) })
    for (const c of chunks) {
      const step = n.push(c)
      if (step.peer !== undefined) return step.peer
    }
    return undefined
  }

  it("arbitrary bytes (0..80 octets) in arbitrary chunkings: only ProtocolError", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), chunkingArb, (u, how) => {
        const b = Buffer.from(u)
        onlyProtocolErrors(() => decodeGreeting(b))
        onlyProtocolErrors(() => checkSignature(b))
        onlyProtocolErrors(() => readGreeting(chunk(b, how)))
      }),
      fcParams(400, 40),
    )
  })

  it("mutated valid greetings in arbitrary chunkings: only ProtocolError; unmutated fields still decode", () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[A-Z0-9_-]{1,20}$/),
        fc.boolean(),
        fc.array(mutationArb, { maxLength: 4 }),
        chunkingArb,
        (mech, server, muts, how) => {
          const valid = encodeGreeting(mech, server)
          const g = mutate(valid, muts)
          const err = onlyProtocolErrors(() => readGreeting(chunk(g, how)))
          const direct = onlyProtocolErrors(() => decodeGreeting(g))
          // Whatever the mutation, the negotiation decides the same as on the whole buffer.
          const whole = onlyProtocolErrors(() => readGreeting([g]))
          expect(err?.code).toBe(whole?.code)
          if (err === undefined) expect(readGreeting(chunk(g, how))).toEqual(readGreeting([g]))
          if (direct === undefined) {
            const d = decodeGreeting(g)
            expect(d.major).toBeGreaterThanOrEqual(2)
            expect(d.mechanism.length).toBeGreaterThan(0)
            expect(d.mechanism.length).toBeLessThanOrEqual(20)
          }
          if (g.subarray(0, 64).equals(valid)) {
            expect(err).toBeUndefined()
            expect(decodeGreeting(g)).toEqual({ major: 3, minor: 1, mechanism: mech, asServer: server })
            expect(readGreeting(chunk(g, how))).toEqual({ version: 3, greeting: { major: 3, minor: 1, mechanism: mech, asServer: server } })
          }
        },
      ),
      fcParams(400, 41),
    )
  })
})

describe("fuzz: ZmtpDecoder (greeting to whole messages)", () => {
  /** What ZmtpDecoder may raise: the frame decoders' codes, the greeting's, and its own (handshake, CURVE boxes). */
  const DECODER_CODES = new Set([...KNOWN_CODES, "ZMTP_HANDSHAKE", "ZMTP_SEQUENCE", "ZMTP_CRYPTOGRAPHIC"])

  /** The same run with one chunk and with `how`: identical events and error; only known ProtocolErrors; the limit holds. */
  function checkRun(input: Buffer, how: Parameters<typeof chunk>[1], maxSize: number, curve: boolean): void {
    const run = (chunks: readonly Buffer[]) => runDecoder(chunks, maxSize, curve ? { codec: curvePair().server } : {})
    const split = run(chunk(input, how))
    const whole = run([input])
    for (const r of [split, whole]) {
      if (r.error !== undefined) expect(DECODER_CODES.has(r.error.code), r.error.code).toBe(true)
      let delivered = 0
      for (const m of r.c.messages) {
        expect(m.length).toBeGreaterThan(0)
        const cost = m.reduce((n, p) => n + Math.max(1, p.length), 0)
        if (maxSize >= 0) expect(cost).toBeLessThanOrEqual(maxSize)
        delivered += m.reduce((n, p) => n + p.length, 0)
      }
      // Parts are never more than what came in (CURVE's plaintext is smaller still).
      expect(delivered).toBeLessThanOrEqual(input.length)
    }
    const view = (r: typeof split) =>
      r.c.events.map((e) =>
        e.kind === "message" || e.kind === "range"
          ? e.parts.map((p) => p.toString("hex"))
          : e.kind === "peer"
            ? e.peer
            : [e.kind, e.body.toString("hex")],
      )
    expect(view(split)).toEqual(view(whole))
    expect(split.error?.code).toBe(whole.error?.code)
  }

  const v3Stream = fc
    .array(
      fc.oneof(
        fc.array(smallBody, { minLength: 1, maxLength: 4 }).map((parts) => encodeMessage(parts)),
        fc.constantFrom(pingFrame(1), pongFrame(Buffer.from("c")), subscribeFrame(Buffer.from("t")), errorFrame("x")),
      ),
      { maxLength: 5 },
    )
    .map((xs) => Buffer.concat([encodeGreeting("NULL", true), readyFrame([["Socket-Type", "ROUTER"]]), ...xs]))
  const v2Stream = fc
    .array(fc.array(smallBody, { minLength: 1, maxLength: 4 }), { maxLength: 5 })
    .map((ms) => Buffer.concat([greeting20(), encodeFrame(Buffer.from("id")), ...ms.map((m) => encodeMessage(m))]))
  const v1Stream = fc
    .array(fc.array(smallBody, { minLength: 1, maxLength: 4 }), { maxLength: 5 })
    .chain((ms) =>
      fc
        .constantFrom(greeting10(), Buffer.alloc(0))
        .map((g) => Buffer.concat([g, encodeV1Message([Buffer.from("id")]), ...ms.map((m) => encodeV1Message(m))])),
    )
  const curveStream = fc
    .array(fc.array(smallBody, { minLength: 1, maxLength: 3 }), { maxLength: 4 })
    .map((ms) =>
      Buffer.concat([
        encodeGreeting("NULL", true),
        readyFrame([["Socket-Type", "ROUTER"]]),
        ...encodeMessagesCurve(curvePair().client, ms, Infinity).chunks,
      ]),
    )

  it("arbitrary bytes from the first octet: only known ProtocolErrors, chunking changes nothing", () => {
    fc.assert(
      fc.property(hostileBytesArb, chunkingArb, maxSizeArb, (input, how, maxSize) => checkRun(input, how, maxSize, false)),
      fcParams(300, 120),
    )
  })

  it("mutated valid 3.x / 2.0 / 1.0 / CURVE streams: only known ProtocolErrors, chunking changes nothing, messages within the limit", () => {
    const streamArb = fc.oneof(
      v3Stream.map((b) => [b, false] as const),
      v2Stream.map((b) => [b, false] as const),
      v1Stream.map((b) => [b, false] as const),
      curveStream.map((b) => [b, true] as const),
    )
    fc.assert(
      fc.property(streamArb, fc.array(mutationArb, { maxLength: 4 }), chunkingArb, maxSizeArb, ([valid, curve], muts, how, maxSize) =>
        checkRun(mutate(valid, muts), how, maxSize, curve),
      ),
      fcParams(400, 121),
    )
  })

  it("unmutated streams deliver exactly what was sent, whatever the chunking", () => {
    fc.assert(
      fc.property(fc.array(fc.array(smallBody, { minLength: 1, maxLength: 4 }), { maxLength: 6 }), chunkingArb, (ms, how) => {
        const wire = Buffer.concat([greeting20(), encodeFrame(Buffer.from("id")), ...encodeMessages([...ms], Infinity).chunks])
        const { c, error, idle } = runDecoder(chunk(wire, how))
        expect(error).toBeUndefined()
        expect(idle).toBe(true)
        expect(c.messages.map((m) => m.map((p) => p.toString("hex")))).toEqual(ms.map((m) => m.map((p) => p.toString("hex"))))
      }),
      fcParams(150, 122),
    )
  })
})
