/**
 * ZMTP commands (RFC 23 / RFC 37): a command frame body is
 * `name-size(1) name data`. This module encodes and decodes the commands
 * omq speaks: READY, ERROR, PING, PONG, SUBSCRIBE, CANCEL, and passes any
 * other (mechanism-specific: HELLO, WELCOME, INITIATE, ...) through as raw data.
 */
import { ProtocolError } from "../errors.js"
import type { FrameCodec } from "./frame-codec.js"
import { FLAG_COMMAND, encodeFrame } from "./frame.js"
import { decodeMetadata, encodeMetadata, type Metadata } from "./metadata.js"

export interface RawCommand {
  name: string
  data: Buffer
}

export type Command =
  | { name: "READY"; metadata: Metadata }
  | { name: "ERROR"; reason: string }
  | { name: "PING"; ttl: number; context: Buffer }
  | { name: "PONG"; context: Buffer }
  | { name: "SUBSCRIBE"; topic: Buffer }
  | { name: "CANCEL"; topic: Buffer }
  | { name: "OTHER"; command: RawCommand }

/**
 * libzmq 4.3.x writes its ERROR command name as "\x5ERROR", which C reads as
 * the bytes 0x5E "RROR": a 5-byte body prefix "^RROR" instead of
 * "\x05ERROR". Seen on the wire from libzmq 4.3.5 when ZAP denies a PLAIN
 * client. omq accepts that form as ERROR (and sends the correct one).
 */
const LIBZMQ_BAD_ERROR = Buffer.from([0x5e, 0x52, 0x52, 0x4f, 0x52])

export function parseRawCommand(body: Buffer): RawCommand {
  if (body.length < 1) throw new ProtocolError("ZMTP_MALFORMED_COMMAND", "Empty command frame")
  if (body.length >= 6 && body[0] === 0x5e && body.subarray(0, 5).equals(LIBZMQ_BAD_ERROR)) {
    return { name: "ERROR", data: body.subarray(5) }
  }
  const nameLen = body[0]!
  if (nameLen === 0 || 1 + nameLen > body.length) {
    throw new ProtocolError("ZMTP_MALFORMED_COMMAND", "Command name overruns the frame")
  }
  return { name: body.toString("ascii", 1, 1 + nameLen), data: body.subarray(1 + nameLen) }
}

export function decodeCommand(body: Buffer): Command {
  const raw = parseRawCommand(body)
  const data = raw.data
  switch (raw.name) {
    case "READY":
      return { name: "READY", metadata: decodeMetadata(data) }
    case "ERROR": {
      if (data.length < 1 || 1 + data[0]! > data.length) {
        throw new ProtocolError("ZMTP_MALFORMED_COMMAND", "Malformed ERROR command")
      }
      return { name: "ERROR", reason: data.toString("utf8", 1, 1 + data[0]!) }
    }
    case "PING": {
      if (data.length < 2) throw new ProtocolError("ZMTP_MALFORMED_COMMAND", "Malformed PING command")
      const context = data.subarray(2)
      if (context.length > 16) throw new ProtocolError("ZMTP_MALFORMED_COMMAND", "PING context too long")
      return { name: "PING", ttl: data.readUInt16BE(0), context }
    }
    case "PONG":
      return { name: "PONG", context: data }
    case "SUBSCRIBE":
      return { name: "SUBSCRIBE", topic: data }
    case "CANCEL":
      return { name: "CANCEL", topic: data }
    default:
      return { name: "OTHER", command: raw }
  }
}

/** Body of a command frame (without the frame header). */
export function commandBody(name: string, data?: Buffer): Buffer {
  const n = Buffer.from(name, "ascii")
  if (n.length === 0 || n.length > 255) throw new TypeError(`Invalid command name: ${name}`)
  const dlen = data ? data.length : 0
  const out = Buffer.allocUnsafe(1 + n.length + dlen)
  out[0] = n.length
  n.copy(out, 1)
  if (data) data.copy(out, 1 + n.length)
  return out
}

/**
 * A complete command frame, ready for the wire. With CURVE's codec (after its
 * handshake) the command travels boxed, in a MESSAGE whose inner flags carry
 * COMMAND (RFC 26: every frame is a MESSAGE; flags bit 1 marks a command).
 */
export function commandFrame(name: string, data?: Buffer, codec?: FrameCodec): Buffer {
  const body = commandBody(name, data)
  return codec !== undefined ? encodeFrame(codec.encode(2, body)) : encodeFrame(body, FLAG_COMMAND)
}

export function readyFrame(props: Iterable<[string, Buffer | string]>): Buffer {
  return commandFrame("READY", encodeMetadata(props))
}

export function errorFrame(reason: string): Buffer {
  const r = Buffer.from(reason.slice(0, 255))
  const data = Buffer.allocUnsafe(1 + Math.min(r.length, 255))
  data[0] = data.length - 1
  r.copy(data, 1, 0, data.length - 1)
  return commandFrame("ERROR", data)
}

/** PING (RFC 37): TTL in deciseconds (16 bits) and up to 16 bytes of context; boxed under CURVE. */
export function pingFrame(ttlDeciseconds: number, context: Buffer = EMPTY, codec?: FrameCodec): Buffer {
  const data = Buffer.allocUnsafe(2 + context.length)
  data.writeUInt16BE(Math.max(0, Math.min(0xffff, ttlDeciseconds | 0)), 0)
  context.copy(data, 2)
  return commandFrame("PING", data, codec)
}

/** PONG (RFC 37): echoes the PING's context; boxed under CURVE. */
export function pongFrame(context: Buffer, codec?: FrameCodec): Buffer {
  return commandFrame("PONG", context, codec)
}

/** SUBSCRIBE (RFC 37, ZMTP 3.1 peers only: older ones take wire/encoder.ts's encodeSubscription message). */
export function subscribeFrame(topic: Buffer, codec?: FrameCodec): Buffer {
  return commandFrame("SUBSCRIBE", topic, codec)
}

/** CANCEL (RFC 37, ZMTP 3.1 peers only). */
export function cancelFrame(topic: Buffer, codec?: FrameCodec): Buffer {
  return commandFrame("CANCEL", topic, codec)
}

const EMPTY = Buffer.alloc(0)
