/**
 * Shared helpers for the wire-codec tests: deterministic fast-check settings,
 * chunking of a byte stream, and a collecting FrameDecoder driver.
 */
import fc from "fast-check"
import { expect } from "vitest"
import { ProtocolError } from "../../lib/errors.js"
import { FrameDecoder } from "../../lib/wire/frame.js"

/**
 * fast-check parameters: a fixed seed keeps runs deterministic; set
 * OMQ_FC_SEED to explore other seeds locally.
 */
export function fcParams<T>(numRuns: number, salt = 0): fc.Parameters<T> {
  const env = process.env.OMQ_FC_SEED
  const base = env !== undefined && env !== "" ? Number(env) : 0x0_2a_37_23
  return { seed: (base + salt) | 0, numRuns, endOnFailure: false }
}

export interface Frame {
  flags: number
  body: Buffer
}

/** How a byte stream is cut into chunks before being pushed. */
export type Chunking =
  | { kind: "whole" }
  | { kind: "bytes" } // 1-byte chunks
  | { kind: "cycle"; sizes: number[] } // chunk sizes taken round-robin
  | { kind: "cuts"; cuts: number[] } // cut positions (taken modulo length + 1)

export const chunkingArb: fc.Arbitrary<Chunking> = fc.oneof(
  fc.constant<Chunking>({ kind: "whole" }),
  fc.constant<Chunking>({ kind: "bytes" }),
  fc.record({
    kind: fc.constant("cycle" as const),
    sizes: fc.array(fc.oneof(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 70_000 })), {
      minLength: 1,
      maxLength: 8,
    }),
  }),
  fc.record({
    kind: fc.constant("cuts" as const),
    cuts: fc.array(fc.nat(), { maxLength: 40 }),
  }),
)

/** Cuts `buf` into chunks (views, no copies); the chunks always concatenate back to `buf`. */
export function chunk(buf: Buffer, how: Chunking): Buffer[] {
  const len = buf.length
  switch (how.kind) {
    case "whole":
      return [buf]
    case "bytes": {
      const out: Buffer[] = []
      for (let i = 0; i < len; i++) out.push(buf.subarray(i, i + 1))
      return out
    }
    case "cycle": {
      const out: Buffer[] = []
      let pos = 0
      let i = 0
      while (pos < len) {
        const n = how.sizes[i++ % how.sizes.length]!
        out.push(buf.subarray(pos, pos + n))
        pos += n
      }
      return out
    }
    case "cuts": {
      const points = [...new Set(how.cuts.map((c) => c % (len + 1)))].sort((a, b) => a - b)
      const out: Buffer[] = []
      let prev = 0
      // Cuts may produce empty chunks (cut at 0, at len): pushing those must be harmless.
      for (const p of points) {
        out.push(buf.subarray(prev, p))
        prev = p
      }
      out.push(buf.subarray(prev))
      return out
    }
  }
}

export interface DecodeOutcome {
  frames: Frame[]
  /** The error the decoder raised, if any (after which no more input is pushed). */
  error: unknown
  /** decoder.idle after the last push. */
  idle: boolean
}

/** A frame decoder class: FrameDecoder (ZMTP 3.x, 2.0) or V1FrameDecoder (ZMTP 1.0). */
type DecoderClass = new (
  onFrame: (flags: number, body: Buffer) => void,
  maxSize: number,
) => { push(chunk: Buffer): void; readonly idle: boolean }

/** Pushes `chunks` into a fresh decoder (FrameDecoder unless told), collecting frames until the first error. */
export function decodeChunks(chunks: readonly Buffer[], maxSize = -1, Decoder: DecoderClass = FrameDecoder): DecodeOutcome {
  const frames: Frame[] = []
  const dec = new Decoder((flags, body) => frames.push({ flags, body }), maxSize)
  let error: unknown = undefined
  for (const c of chunks) {
    try {
      dec.push(c)
    } catch (err) {
      error = err
      break
    }
  }
  return { frames, error, idle: dec.idle }
}

/** Asserts `fn` throws a ProtocolError (optionally with `code`) and returns it. */
export function expectProtocolError(fn: () => unknown, code?: string): ProtocolError {
  let caught: unknown
  try {
    fn()
  } catch (err) {
    caught = err
  }
  expect(caught, "expected a ProtocolError to be thrown").toBeInstanceOf(ProtocolError)
  const pe = caught as ProtocolError
  if (code !== undefined) expect(pe.code).toBe(code)
  return pe
}

/** A deterministic body of `len` bytes (cheap to build, distinct per seed). */
export function patternBody(len: number, seed: number): Buffer {
  const b = Buffer.allocUnsafe(len)
  let x = (seed * 2654435761) >>> 0 || 1
  for (let i = 0; i < len; i++) {
    // xorshift32
    x ^= x << 13
    x >>>= 0
    x ^= x >>> 17
    x ^= x << 5
    x >>>= 0
    b[i] = x & 0xff
  }
  return b
}
