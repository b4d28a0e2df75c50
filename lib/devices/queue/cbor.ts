/**
 * CBOR for the queue protocol (RFC 8949). Decoding is cbor-x's. Encoding of
 * the protocol's own maps is done here because the protocol needs integers
 * above 2^32 (sequence numbers, timestamps) as CBOR integers, which cbor-x
 * writes as floats; and the few shapes the hot path sends are cheaper to
 * write directly. User headers are encoded by the client with cbor-x.
 */
import { Decoder, Encoder } from "cbor-x"

const decoder = new Decoder({ mapsAsObjects: true, useRecords: false })
/** cbor-x as a plain CBOR encoder: no record extension, minimal map headers, no typed-array tags. */
export const headerEncoder = new Encoder({ mapsAsObjects: true, useRecords: false, variableMapSize: true, tagUint8Array: false })

/** Decodes one CBOR item filling the whole buffer; throws on malformed or trailing data. */
export function decodeCbor(buf: Uint8Array): unknown {
  return decoder.decode(buf)
}

let scratch = Buffer.allocUnsafe(64 * 1024)
let pos = 0

function room(n: number): void {
  if (pos + n <= scratch.length) return
  const bigger = Buffer.allocUnsafe(Math.max(scratch.length * 2, pos + n))
  scratch.copy(bigger, 0, 0, pos)
  scratch = bigger
}

function head(major: number, n: number): void {
  room(9)
  const m = major << 5
  if (n < 24) scratch[pos++] = m | n
  else if (n < 0x100) {
    scratch[pos++] = m | 24
    scratch[pos++] = n
  } else if (n < 0x10000) {
    scratch[pos++] = m | 25
    scratch.writeUInt16BE(n, pos)
    pos += 2
  } else if (n < 0x100000000) {
    scratch[pos++] = m | 26
    scratch.writeUInt32BE(n, pos)
    pos += 4
  } else {
    scratch[pos++] = m | 27
    scratch.writeUInt32BE(Math.floor(n / 0x100000000), pos)
    scratch.writeUInt32BE(n >>> 0, pos + 4)
    pos += 8
  }
}

function bytes(major: number, b: Uint8Array): void {
  head(major, b.length)
  room(b.length)
  scratch.set(b, pos)
  pos += b.length
}

function item(v: unknown): void {
  switch (typeof v) {
    case "number":
      if (Number.isSafeInteger(v)) {
        if (v >= 0) head(0, v)
        else head(1, -1 - v)
      } else {
        room(9)
        scratch[pos++] = 0xfb
        scratch.writeDoubleBE(v, pos)
        pos += 8
      }
      return
    case "string": {
      const n = Buffer.byteLength(v, "utf8")
      head(3, n)
      room(n)
      pos += scratch.write(v, pos, "utf8")
      return
    }
    case "boolean":
      room(1)
      scratch[pos++] = v ? 0xf5 : 0xf4
      return
    case "bigint":
      if (v >= 0n) {
        if (v > 0xffffffffffffffffn) throw new RangeError("integer too large for CBOR")
        room(9)
        scratch[pos++] = 0x1b
        scratch.writeBigUInt64BE(v, pos)
      } else {
        if (-1n - v > 0xffffffffffffffffn) throw new RangeError("integer too large for CBOR")
        room(9)
        scratch[pos++] = 0x3b
        scratch.writeBigUInt64BE(-1n - v, pos)
      }
      pos += 8
      return
    case "undefined":
      room(1)
      scratch[pos++] = 0xf6 // null: undefined has no place on the wire
      return
    case "object":
      if (v === null) {
        room(1)
        scratch[pos++] = 0xf6
      } else if (v instanceof Uint8Array) bytes(2, v)
      else if (Array.isArray(v)) {
        head(4, v.length)
        for (const x of v) item(x)
      } else {
        const o = v as Record<string, unknown>
        let n = 0
        for (const k in o) if (o[k] !== undefined) n++
        head(5, n)
        for (const k in o) {
          const x = o[k]
          if (x === undefined) continue
          item(k)
          item(x)
        }
      }
      return
    default:
      throw new TypeError(`cannot encode a ${typeof v} as CBOR`)
  }
}

/**
 * Encodes a value (maps from plain objects, skipping undefined members;
 * safe integers and bigints as CBOR integers; other numbers as float64;
 * Uint8Array as byte strings) into a new Buffer.
 */
export function encodeCbor(v: unknown): Buffer {
  pos = 0
  item(v)
  const out = Buffer.allocUnsafe(pos)
  scratch.copy(out, 0, 0, pos)
  return out
}

/**
 * Incremental writing for hot paths that know their shape (no intermediate
 * objects): start(), then heads and items, then finish() for the Buffer.
 */
export const cborWriter = {
  start(): void {
    pos = 0
  },
  /** Array (major 4) or map (major 5) head for `n` items / pairs. */
  array(n: number): void {
    head(4, n)
  },
  map(n: number): void {
    head(5, n)
  },
  /** Any value item() accepts. */
  value(v: unknown): void {
    item(v)
  },
  uint(n: number): void {
    head(0, n)
  },
  finish(): Buffer {
    const out = Buffer.allocUnsafe(pos)
    scratch.copy(out, 0, 0, pos)
    return out
  },
}

/** The empty map, the most common argument and result. */
export const EMPTY_MAP: Buffer = Buffer.from([0xa0])
