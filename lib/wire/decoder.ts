/**
 * The inbound half of a ZMTP connection as one pure state machine: bytes in,
 * events out. No I/O, no timers; the engine feeds it every chunk it reads and
 * acts on the events.
 *
 *   1. Version negotiation (negotiation.ts): what to write back to the peer
 *      (`send`), then the peer's protocol (`onPeer`).
 *   2. Frames in that protocol's framing: ZMTP 3.x and 2.0 frames (frame.ts;
 *      RFC 15 reserves the COMMAND bit, so a 2.0 peer sending it is refused),
 *      ZMTP 1.0 frames (frame-v1.ts).
 *   3. A 3.x peer's security handshake: command frames only (`onCommand`),
 *      until the engine says the handshake is done (`startMessages`). A 1.0 /
 *      2.0 peer instead sends its identity as the first frame (`onIdentity`).
 *   4. Messages, whole (`onMessage`; multipart assembled, the size limit
 *      applied) and 3.x commands (`onCommand`). Under CURVE every frame is a
 *      MESSAGE box (RFC 26) which the codec opens to the real flags and body.
 *
 * Chunks may be split at any byte. Message parts that arrive whole inside one
 * chunk are slices of it (no copy); what is held between chunks is only what
 * was received (a partial frame, the parts of a partial message).
 */
import { ProtocolError } from "../errors.js"
import type { FrameCodec } from "./frame-codec.js"
import { FLAG_COMMAND, FLAG_MORE, FrameDecoder } from "./frame.js"
import { V1FrameDecoder } from "./frame-v1.js"
import { VersionNegotiator, type LocalGreeting, type PeerProtocol } from "./negotiation.js"

/** What the decoder reports. Methods of one object (the engine), so that no closure is made per frame. */
export interface ZmtpHandler {
  /** Bytes the version negotiation needs written to the peer now. */
  send(bytes: Buffer): void
  /** The peer's protocol is known; frames of it follow. */
  onPeer(peer: PeerProtocol): void
  /** A command frame body (3.x peers only; unboxed under CURVE): the handshake's, then PING, SUBSCRIBE, ... */
  onCommand(body: Buffer): void
  /** A ZMTP 1.0 / 2.0 peer's first frame, its identity (RFC 13: its flags "SHALL not be validated"). */
  onIdentity(body: Buffer): void
  /** A whole message (at least one part). */
  onMessage(parts: Buffer[]): void
  /** A one-frame message, `chunk[start..end)` (a handler that wants no Buffer for it yet). */
  onRange?(chunk: Buffer, start: number, end: number): void
}

const enum Phase {
  Greeting,
  /** 3.x: security handshake, commands only. */
  Handshake,
  /** 1.0 / 2.0: the next frame is the peer's identity. */
  Identity,
  Messages,
}

export class ZmtpDecoder {
  private phase = Phase.Greeting
  private negotiator: VersionNegotiator | null
  private frames: FrameDecoder | V1FrameDecoder
  /** ZMTP major version of the peer, once known. */
  private version: 1 | 2 | 3 = 3
  private codec: FrameCodec | undefined = undefined
  /** Parts of the message being assembled, and what they count against the limit. */
  private parts: Buffer[] = []
  private partsBytes = 0
  /** Frames kept while held (a ZAP answer is pending), replayed by release(). */
  private deferred: Array<[number, Buffer]> | null = null
  private failed = false
  private readonly frameBound = (flags: number, body: Buffer): void => this.onFrame(flags, body)
  private readonly rangeBound = (chunk: Buffer, start: number, end: number): void => this.onRange(chunk, start, end)

  /**
   * @param handler receives the events
   * @param local our side of the version negotiation
   * @param maxMessageSize largest message in bytes (all parts, each at least 1); -1 for no limit
   */
  constructor(
    private readonly handler: ZmtpHandler,
    local: LocalGreeting,
    readonly maxMessageSize = -1,
  ) {
    this.negotiator = new VersionNegotiator(local)
    // A single frame may not exceed the message limit either: refused on its header, before its body arrives.
    this.frames = new FrameDecoder(this.frameBound, maxMessageSize, handler.onRange === undefined ? undefined : this.rangeBound)
  }

  /** The first bytes to write, before the peer said anything (our signature). */
  start(): Buffer {
    return this.negotiator!.start()
  }

  /** True when no partial frame or message is buffered (and nothing is held). */
  get idle(): boolean {
    return this.frames.idle && this.parts.length === 0 && this.deferred === null
  }

  /**
   * Decodes `chunk`, reporting every event it completes, in order. Throws
   * ProtocolError on bad input (and passes on what a handler throws); after a
   * throw the decoder refuses further input.
   */
  push(chunk: Buffer): void {
    if (this.failed) throw new ProtocolError("ZMTP_BAD_FLAGS", "Decoder already failed")
    try {
      if (this.phase === Phase.Greeting) this.pushGreeting(chunk)
      else this.frames.push(chunk)
    } catch (err) {
      this.failed = true
      throw err
    }
  }

  /**
   * The security handshake is done (the engine decides: the mechanism says
   * so): message frames are accepted from now on, opened with `codec` (CURVE)
   * when one is given. Takes effect with the next frame, also within a chunk.
   */
  startMessages(codec?: FrameCodec): void {
    this.codec = codec
    this.phase = Phase.Messages
  }

  /**
   * Keeps the frames decoded from now on instead of reporting them, until
   * release(): while a ZAP handler decides on a command, what follows it must
   * wait (the engine also pauses reading, which bounds what is kept).
   */
  hold(): void {
    this.deferred ??= []
  }

  /** Reports the frames kept since hold(), in order (a handler may hold again: the rest stays kept). */
  release(): void {
    const later = this.deferred
    if (later === null) return
    this.deferred = null
    try {
      for (const [flags, body] of later) this.onFrame(flags, body)
    } catch (err) {
      this.failed = true
      throw err
    }
  }

  private pushGreeting(chunk: Buffer): void {
    const step = this.negotiator!.push(chunk)
    for (const b of step.send) this.handler.send(b)
    const peer = step.peer
    if (peer === undefined) return
    this.negotiator = null
    this.version = peer.version
    if (peer.version === 1) this.frames = new V1FrameDecoder(this.frameBound, this.maxMessageSize)
    this.phase = peer.version === 3 ? Phase.Handshake : Phase.Identity
    this.handler.onPeer(peer)
    for (const c of step.rest!) if (c.length > 0) this.frames.push(c)
  }

  /**
   * A final, short, non-empty, non-command frame whole in its chunk (FrameDecoder's fast path): a message of
   * its own when nothing is assembled or held and no codec has to open it, handed on as the range
   * (the frame decoder already checked its size against the message limit); otherwise a frame.
   */
  private onRange(chunk: Buffer, start: number, end: number): void {
    if (this.phase === Phase.Messages && this.codec === undefined && this.parts.length === 0 && this.deferred === null) {
      this.handler.onRange!(chunk, start, end)
      return
    }
    this.onFrame(0, chunk.subarray(start, end))
  }

  private onFrame(flags: number, body: Buffer): void {
    if (this.deferred !== null) {
      this.deferred.push([flags, body])
      return
    }
    if (this.phase === Phase.Messages) {
      const codec = this.codec
      if (codec !== undefined) {
        // CURVE: every frame is a MESSAGE box carrying the real flags (bit 0 MORE, bit 1 COMMAND).
        const d = codec.decode(body)
        flags = (d.flags & 1 ? FLAG_MORE : 0) | (d.flags & 2 ? FLAG_COMMAND : 0)
        body = d.body
      }
      if ((flags & FLAG_COMMAND) === 0) {
        this.parts.push(body)
        // Each part costs at least a byte, so endless empty parts also hit the limit.
        this.partsBytes += body.length > 0 ? body.length : 1
        if (this.maxMessageSize >= 0 && this.partsBytes > this.maxMessageSize) {
          throw new ProtocolError("ZMTP_OVERSIZE", `Message exceeds ${this.maxMessageSize} bytes`)
        }
        if ((flags & FLAG_MORE) === 0) {
          const msg = this.parts
          this.parts = []
          this.partsBytes = 0
          this.handler.onMessage(msg)
        }
        return
      }
      if (this.version !== 3) throw noCommands()
      this.handler.onCommand(body)
      return
    }
    if (this.phase === Phase.Identity) {
      if ((flags & FLAG_COMMAND) !== 0) throw noCommands()
      this.phase = Phase.Messages
      this.handler.onIdentity(body)
      return
    }
    if ((flags & FLAG_COMMAND) === 0) {
      throw new ProtocolError("ZMTP_HANDSHAKE", "Message frame received before the handshake completed")
    }
    this.handler.onCommand(body)
  }
}

/** ZMTP 1.0/2.0 have no commands: in 2.0 framing, flag bit 2 is reserved (RFC 15). */
function noCommands(): ProtocolError {
  return new ProtocolError("ZMTP_BAD_FLAGS", "Reserved frame flag bit 2 set by a ZMTP 2.0 peer (it has no commands)")
}
