/**
 * The records' checksum: the portable CRC-32 (used where Node has no `zlib.crc32`, before
 * 20.15 and 22.2) gives zlib's values, so a log written on one Node reads on any other.
 */
import * as zlib from "node:zlib"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { crc32, crc32Portable } from "../../lib/devices/queue/journal/crc32.js"

describe("record checksum (CRC-32, zlib's)", () => {
  it("has the catalogued check value and the empty-input value", () => {
    // "123456789" → 0xCBF43926 is CRC-32/ISO-HDLC's check value in every CRC catalogue.
    expect(crc32Portable(Buffer.from("123456789"))).toBe(0xcbf43926)
    expect(crc32Portable(new Uint8Array(0))).toBe(0)
    expect(crc32(Buffer.from("123456789"))).toBe(0xcbf43926)
  })

  it("the portable version agrees with zlib's on any bytes, at any offset into a buffer", () => {
    const native = (zlib as { crc32?: (b: Uint8Array) => number }).crc32
    if (typeof native !== "function") return void console.warn(`zlib.crc32: skipped, Node ${process.version} has none`)
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), fc.nat({ max: 7 }), (bytes, skip) => {
        const view = Buffer.from(bytes).subarray(Math.min(skip, bytes.length))
        expect(crc32Portable(view)).toBe(native(view))
      }),
      { numRuns: 300 },
    )
  })
})
