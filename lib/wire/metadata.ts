/**
 * ZMTP metadata (RFC 23, "The READY command"): a sequence of properties,
 * each `name-size(1) name value-size(4, network order) value`. Names are
 * case-insensitive ASCII; omq keys the decoded map by the lower-cased name.
 */
import { ProtocolError } from "../errors.js"

export type Metadata = Map<string, Buffer>

export function encodeMetadata(props: Iterable<[string, Buffer | string]>): Buffer {
  const parts: Buffer[] = []
  for (const [name, value] of props) {
    const n = Buffer.from(name, "ascii")
    if (n.length === 0 || n.length > 255) throw new TypeError(`Invalid property name: ${name}`)
    const v = typeof value === "string" ? Buffer.from(value) : value
    const head = Buffer.allocUnsafe(1 + n.length + 4)
    head[0] = n.length
    n.copy(head, 1)
    head.writeUInt32BE(v.length, 1 + n.length)
    parts.push(head, v)
  }
  return Buffer.concat(parts)
}

export function decodeMetadata(buf: Buffer): Metadata {
  const out: Metadata = new Map()
  let pos = 0
  while (pos < buf.length) {
    const nameLen = buf[pos]!
    pos++
    if (nameLen === 0 || pos + nameLen + 4 > buf.length) {
      throw new ProtocolError("ZMTP_MALFORMED_COMMAND", "Malformed metadata property")
    }
    const name = buf.toString("ascii", pos, pos + nameLen).toLowerCase()
    pos += nameLen
    const valueLen = buf.readUInt32BE(pos)
    pos += 4
    if (pos + valueLen > buf.length) {
      throw new ProtocolError("ZMTP_MALFORMED_COMMAND", "Metadata value overruns the command")
    }
    out.set(name, buf.subarray(pos, pos + valueLen))
    pos += valueLen
  }
  return out
}
