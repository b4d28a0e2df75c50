/**
 * CRC-32 as zlib computes it (ISO-HDLC: reflected polynomial 0xEDB88320, initial value and
 * final XOR 0xFFFFFFFF), the checksum of every log and checkpoint record.
 *
 * Node has `zlib.crc32` from 20.15 and 22.2 on; older runtimes that omq supports get the
 * table-driven version below, which gives the same values (test/queue/crc32.test.ts).
 * The namespace import matters: a named import of a missing export fails the whole module
 * graph at link time, before this file could choose.
 */
import * as zlib from "node:zlib"

/** The table for one byte at a time: TABLE[n] is the CRC of the byte n alone, before the final XOR. */
const TABLE = (() => {
  const t = new Uint32Array(256)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
    t[n] = c >>> 0
  }
  return t
})()

/** CRC-32 of `data` in plain JavaScript: the fallback where `zlib.crc32` is missing. */
export function crc32Portable(data: Uint8Array): number {
  let c = 0xffffffff
  for (let i = 0; i < data.length; i++) c = TABLE[(c ^ data[i]!) & 0xff]! ^ (c >>> 8)
  return (c ^ 0xffffffff) >>> 0
}

type Crc32 = (data: Uint8Array) => number
const native = (zlib as { crc32?: Crc32 }).crc32

/** CRC-32 of `data` (an unsigned 32-bit integer): zlib's where the runtime has it. */
export const crc32: Crc32 = typeof native === "function" ? native : crc32Portable
