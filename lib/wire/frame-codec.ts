/**
 * A per-frame transform after the handshake: CURVE wraps every frame in a MESSAGE command
 * (RFC 26). The mechanism makes one; the codec (decoder.ts, encoder.ts) applies it, so the
 * interface lives with the codec and the mechanisms depend on it, not the other way round.
 */
export interface FrameCodec {
  /** Wraps one frame; `flags`: bit 0 MORE, bit 1 COMMAND. Returns the MESSAGE command body. */
  encode(flags: number, body: Buffer): Buffer
  /** Bytes a body of n bytes grows by when wrapped (with encodeInto). */
  readonly overhead?: number
  /** encode(), written at `out[off]` (overhead + body.length bytes); returns how many. */
  encodeInto?(flags: number, body: Buffer, out: Buffer, off: number): number
  /** Unwraps one MESSAGE command body; throws ProtocolError if it does not authenticate. */
  decode(body: Buffer): { flags: number; body: Buffer }
  /** The connection is over: forget the keys (the codec is not used again). */
  dispose?(): void
}
