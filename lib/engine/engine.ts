/**
 * One ZMTP connection: version negotiation → security handshake (ZMTP 3.x)
 * or identity frame (ZMTP 2.0/1.0 peers) → message flow.
 *
 * The engine owns a byte stream (transports/byte-stream.ts: a net.Socket for tcp/ipc) and moves whole
 * messages between it and a Pipe. Writes are batched: everything queued in
 * the pipe during one event-loop turn is encoded into one buffer and written
 * once (bodies of 16 KiB and more are written by reference, not copied).
 * Reads decode every frame in a chunk; message parts are slices of the chunk.
 *
 * Any protocol violation closes this connection only (an ERROR command is
 * sent first where the peer speaks ZMTP); the error goes to the host, never
 * up the stack.
 */
import { createDebug } from "../debug.js"
import { ProtocolError } from "../errors.js"
import type { FrameCodec, Mechanism } from "../mechanisms/mechanism.js"
import type { Pipe, PipeEngine } from "../pipe/pipe.js"
import type { ByteStream } from "../transports/byte-stream.js"
import { decodeCommand } from "../wire/command.js"
import type { Metadata } from "../wire/metadata.js"
import { commandBody, errorFrame } from "../wire/command.js"
import { FLAG_COMMAND, FLAG_MORE, FrameDecoder, encodeFrame, headerSize, writeHeader } from "../wire/frame.js"
import { V1FrameDecoder, encodeV1Message } from "../wire/frame-v1.js"
import type { Greeting } from "../wire/greeting.js"
import { VersionNegotiator, type PeerProtocol } from "../wire/negotiation.js"
import { isCompatible, zmtp2SocketType } from "./compat.js"
import { Heartbeat } from "./heartbeat.js"
import { writeEncrypted, writeV1 } from "./batch-writers.js"
import { checkLegacyPeer, legacyMetadata, legacyName, type LegacyPeer } from "./legacy.js"

const debug = createDebug("omq:engine")

/** Bodies at least this large are handed to the stream by reference instead of copied. */
const ZERO_COPY_MIN = 16 * 1024
/** Bytes of unread command replies (PONGs) after which we stop reading from the peer. */
const COMMAND_BACKLOG_MAX = 256 * 1024
/** Upper bound of bytes encoded per flush, so one busy pipe cannot hog the loop. */
const FLUSH_BUDGET = 1024 * 1024

/**
 * What sockets and connecters need of a connection engine: the ZMTP Engine
 * below, or the RawEngine of STREAM sockets.
 */
export interface ConnectionEngine {
  readonly endpoint: string
  /** The pipe the engine moves messages for (set by attach()). */
  readonly pipe: Pipe | null
  /** Handshake completed (a raw engine is "handshaken" at once). */
  readonly handshaken: boolean
  /** The peer's metadata from the handshake. */
  readonly peerMetadata: Metadata | undefined
  start(): void
  attach(pipe: Pipe): void
  close(lingerMs: number): void
}

export interface EngineHost {
  /** Handshake done; the host attaches a pipe (or closes the engine). */
  engineReady(engine: ConnectionEngine): void
  /** The connection ended; `error` says why when it was not a normal close. */
  engineClosed(engine: ConnectionEngine, error: Error | undefined): void
}

export interface EngineOptions {
  socketType: string
  mechanism: Mechanism
  asServer: boolean
  /** Largest inbound message in bytes; -1 for no limit. */
  maxMessageSize: number
  /** Milliseconds allowed for greeting + handshake; 0 for no limit. */
  handshakeInterval: number
  /** ms between PINGs (0: no heartbeats). */
  heartbeatInterval: number
  /** ms to wait for traffic after a PING (-1: heartbeatInterval). */
  heartbeatTimeout: number
  /** ms sent as TTL in our PINGs (0: none). */
  heartbeatTimeToLive: number
  /** Endpoint for events and debugging. */
  endpoint: string
  /** The identity a ZMTP 1.0/2.0 peer gets from us (libzmq: the routing id; default empty). */
  identity?: Buffer | undefined
}

const enum State {
  Greeting,
  Handshake,
  /** A ZMTP 1.0/2.0 peer: waiting for its identity frame. */
  Identity,
  Active,
  Closing,
  Closed,
}

export class Engine implements PipeEngine, ConnectionEngine {
  pipe: Pipe | null = null
  peerMinor = 1
  /** ZMTP major version spoken with the peer: 3, or 2 / 1 for old peers (known after the greeting). */
  zmtp: 1 | 2 | 3 = 3
  private state = State.Greeting
  private negotiator: VersionNegotiator | null = null
  /** ZMTP 2.0 and 3.x frames; ZMTP 1.0 frames for a 1.0 peer. */
  private decoder: FrameDecoder | V1FrameDecoder
  /** What an old peer's identity frame told us (3.x peers: the mechanism's metadata). */
  private legacyMetadata: Metadata | undefined
  /** An old peer's socket type ("" if unversioned), until its identity arrives. */
  private legacyPeerType = ""
  /** The peer is an unversioned ZMTP 1.0 one (libzmq 2.x): it announced no socket type. */
  private unversionedPeer = false
  private parts: Buffer[] = []
  private partsBytes = 0
  private flushScheduled = false
  private waitingDrain = false
  private handshakeTimer: NodeJS.Timeout | undefined
  private lingerTimer: NodeJS.Timeout | undefined
  private closeError: Error | undefined
  /** RFC 37 heartbeats: PINGs we send, silence we detect, the peer's TTL. */
  private readonly heartbeat: Heartbeat
  private readonly flushBound = () => this.flush()

  constructor(
    readonly stream: ByteStream,
    private readonly host: EngineHost,
    readonly options: EngineOptions,
  ) {
    this.decoder = new FrameDecoder((flags, body) => this.onFrame(flags, body), options.maxMessageSize)
    this.heartbeat = new Heartbeat(
      { interval: options.heartbeatInterval, timeout: options.heartbeatTimeout, timeToLive: options.heartbeatTimeToLive },
      (ttl) => {
        if (this.state !== State.Active) return
        const data = Buffer.allocUnsafe(2)
        data.writeUInt16BE(ttl, 0)
        this.sendCommand("PING", data)
      },
      (why) => this.heartbeatExpired(why),
    )
  }

  get mechanism(): Mechanism {
    return this.options.mechanism
  }

  get peerMetadata(): Metadata | undefined {
    return this.legacyMetadata ?? this.options.mechanism.peerMetadata
  }

  get endpoint(): string {
    return this.options.endpoint
  }

  get active(): boolean {
    return this.state === State.Active
  }

  /** True once the handshake completed (stays true while closing). */
  handshaken = false

  start(): void {
    const s = this.stream
    s.on("data", (chunk: Buffer) => this.onData(chunk))
    s.on("error", (err) => {
      this.closeError ??= err
      this.destroy()
    })
    s.on("end", () => this.destroy())
    s.on("close", () => this.destroy())
    s.on("drain", () => {
      this.waitingDrain = false
      if (this.pausedForWrites) {
        this.pausedForWrites = false
        if (this.pipe === null || !this.pipe.readPaused) s.resume()
      }
      if (this.pipe !== null && this.pipe.out.length > 0) this.scheduleFlush()
    })
    if (this.options.handshakeInterval > 0) {
      this.handshakeTimer = setTimeout(() => {
        this.fail(new ProtocolError("ZMTP_TIMEOUT", "Handshake did not complete in time"), false)
      }, this.options.handshakeInterval)
      this.handshakeTimer.unref()
    }
    this.negotiator = new VersionNegotiator({
      mechanism: this.mechanism.name,
      asServer: this.options.asServer,
      // Every socket type an Engine serves has a ZMTP 2.0 octet (compat.ts); the ?? is for the type checker.
      socketType: zmtp2SocketType(this.options.socketType) ?? 0,
      identity: this.options.identity ?? Buffer.alloc(0),
    })
    s.write(this.negotiator.start())
  }

  // ---- inbound ----

  private onData(chunk: Buffer): void {
    if (this.state >= State.Closing) return
    if (this.heartbeat.tracking) this.heartbeat.traffic()
    try {
      if (this.state === State.Greeting) {
        const step = this.negotiator!.push(chunk)
        for (const b of step.send) this.stream.write(b)
        if (step.peer === undefined) return
        this.negotiator = null
        this.onPeerProtocol(step.peer)
        for (const c of step.rest!) if (c.length > 0 && this.state < State.Closing) this.decoder.push(c)
        return
      }
      this.decoder.push(chunk)
    } catch (err) {
      // Whatever goes wrong with this peer's bytes ends this connection only.
      let perr: ProtocolError
      if (err instanceof ProtocolError) {
        perr = err
      } else {
        debug("%s unexpected error %O", this.endpoint, err)
        perr = new ProtocolError("ZMTP_HANDSHAKE", `Internal error: ${String(err)}`)
        perr.reason = "Internal error" // details stay on our side
      }
      this.fail(perr, this.state !== State.Greeting)
    } finally {
      // Wake the socket once for everything this read delivered.
      this.pipe?.commit()
    }
  }

  private onPeerProtocol(peer: PeerProtocol): void {
    if (peer.version === 3) this.onGreeting(peer.greeting)
    else this.startLegacy(peer)
  }

  private onGreeting(g: Greeting): void {
    // Revision 2 and majors above 3 speak 3.1 with us, as with libzmq.
    this.peerMinor = g.major === 3 ? g.minor : 1
    if (g.mechanism !== this.mechanism.name) {
      throw new ProtocolError(
        "ZMTP_BAD_MECHANISM",
        `Security mechanism mismatch: we use ${this.mechanism.name}, peer uses ${g.mechanism}`,
      )
    }
    this.state = State.Handshake
    this.writeFrames(this.mechanism.start())
    this.checkHandshakeDone()
  }

  private onFrame(flags: number, body: Buffer): void {
    if (this.state === State.Active) {
      const codec = this.codec
      if (codec !== undefined) {
        // CURVE: every frame is a MESSAGE box carrying the real flags.
        const d = codec.decode(body)
        flags = (d.flags & 1 ? FLAG_MORE : 0) | (d.flags & 2 ? FLAG_COMMAND : 0)
        body = d.body
      }
      if ((flags & FLAG_COMMAND) === 0) {
        this.parts.push(body)
        // Each part costs at least a byte, so endless empty parts also hit the limit.
        this.partsBytes += body.length > 0 ? body.length : 1
        if (this.options.maxMessageSize >= 0 && this.partsBytes > this.options.maxMessageSize) {
          throw new ProtocolError("ZMTP_OVERSIZE", `Message exceeds ${this.options.maxMessageSize} bytes`)
        }
        if ((flags & FLAG_MORE) === 0) {
          const msg = this.parts
          this.parts = []
          this.partsBytes = 0
          if (this.pipe !== null && !this.pipe.deliverQuiet(msg)) this.stream.pause()
        }
        return
      }
      this.onActiveCommand(body)
      return
    }
    if (this.state === State.Identity) {
      this.onIdentity(flags, body)
      return
    }
    if (this.state !== State.Handshake) return
    if (this.deferred !== null) {
      // A ZAP answer is pending: keep what arrives until it is known.
      this.deferred.push([flags, body])
      return
    }
    if ((flags & FLAG_COMMAND) === 0) {
      throw new ProtocolError("ZMTP_HANDSHAKE", "Message frame received before the handshake completed")
    }
    const step = this.mechanism.onCommand(body)
    if (Array.isArray(step)) {
      this.writeFrames(step)
      this.checkHandshakeDone()
      return
    }
    this.deferred = []
    this.stream.pause()
    step.then(
      (frames) => {
        if (this.state !== State.Handshake) return
        const later = this.deferred ?? []
        this.deferred = null
        try {
          this.writeFrames(frames)
          this.checkHandshakeDone()
          for (const [f, b] of later) this.onFrame(f, b)
          this.pipe?.commit()
        } catch (err) {
          this.failWith(err)
          return
        }
        this.stream.resume()
      },
      (err: unknown) => this.failWith(err),
    )
  }

  /** Frames received while the mechanism waits for ZAP (null when not waiting). */
  private deferred: Array<[number, Buffer]> | null = null
  /** CURVE's frame codec once the handshake is done. */
  private codec: FrameCodec | undefined

  private failWith(err: unknown): void {
    let perr: ProtocolError
    if (err instanceof ProtocolError) {
      perr = err
    } else {
      perr = new ProtocolError("ZMTP_HANDSHAKE", `Internal error: ${String(err)}`)
      perr.reason = "Internal error"
    }
    this.fail(perr, this.state !== State.Greeting)
  }

  private checkHandshakeDone(): void {
    if (!this.mechanism.done || this.state !== State.Handshake) return
    const peerType = this.mechanism.peerMetadata?.get("socket-type")?.toString("ascii") ?? ""
    if (!isCompatible(this.options.socketType, peerType)) {
      throw new ProtocolError(
        "ZMTP_INCOMPATIBLE_SOCKET",
        `Invalid socket type: ${this.options.socketType} cannot talk to ${peerType || "(none)"}`,
      )
    }
    this.state = State.Active
    this.handshaken = true
    this.codec = this.mechanism.codec
    if (this.handshakeTimer) clearTimeout(this.handshakeTimer)
    this.handshakeTimer = undefined
    debug("%s handshake done with %s (ZMTP 3.%d)", this.endpoint, peerType, this.peerMinor)
    // PING/PONG exist from ZMTP 3.1 on.
    if (this.peerMinor >= 1) this.heartbeat.start()
    this.host.engineReady(this)
  }

  // ---- ZMTP 2.0 / 1.0 peers ----

  /** An old peer: no security handshake; each side sends its identity as the first frame. */
  private startLegacy(peer: LegacyPeer): void {
    this.legacyPeerType = checkLegacyPeer(peer, this.options.socketType, this.mechanism)
    this.zmtp = peer.version
    this.peerMinor = 0 // subscriptions travel as messages, as with 3.0 peers
    if (peer.version === 1) {
      this.decoder = new V1FrameDecoder((flags, body) => this.onFrame(flags, body), this.options.maxMessageSize)
    }
    this.unversionedPeer = peer.socketType === null
    this.state = State.Identity
    debug("%s peer speaks %s (%s)", this.endpoint, legacyName(peer), this.legacyPeerType || "type not announced")
    // An unversioned 1.0 peer already has our identity: the signature was its header, the negotiator sent the body.
    if (!this.unversionedPeer) this.stream.write(this.dataFrame(this.options.identity ?? Buffer.alloc(0)))
  }

  private onIdentity(flags: number, body: Buffer): void {
    if ((flags & FLAG_COMMAND) !== 0) throw noCommands()
    // RFC 13: the identity frame's flags "SHALL not be validated".
    this.legacyMetadata = legacyMetadata(this.legacyPeerType, body)
    this.state = State.Active
    this.handshaken = true
    if (this.handshakeTimer) clearTimeout(this.handshakeTimer)
    this.handshakeTimer = undefined
    debug("%s handshake done with %s (ZMTP %d.0)", this.endpoint, this.legacyPeerType || "?", this.zmtp)
    this.host.engineReady(this)
    const pipe = this.pipe
    if (this.unversionedPeer && pipe !== null && (this.options.socketType === "PUB" || this.options.socketType === "XPUB")) {
      // A 1.0 subscriber filters on its side and sends no subscriptions: like libzmq, subscribe it to everything.
      pipe.owner.pipeCommand?.(pipe, "SUBSCRIBE", Buffer.alloc(0))
    }
  }

  /** One final message frame in the peer's framing (3.x and 2.0 share theirs; not for CURVE). */
  private dataFrame(body: Buffer): Buffer {
    return this.zmtp === 1 ? encodeV1Message([body]) : encodeFrame(body)
  }

  private onActiveCommand(body: Buffer): void {
    if (this.zmtp !== 3) throw noCommands()
    const cmd = decodeCommand(body)
    switch (cmd.name) {
      case "PING":
        this.sendCommand("PONG", cmd.context)
        if (cmd.ttl > 0) this.heartbeat.peerTtl(cmd.ttl * 100)
        return
      case "PONG":
        return
      case "ERROR":
        throw new ProtocolError("ZMTP_PEER_ERROR", `Peer sent ERROR: ${cmd.reason}`)
      case "SUBSCRIBE":
      case "CANCEL":
        if (this.pipe?.owner.pipeCommand) this.pipe.owner.pipeCommand(this.pipe, cmd.name, cmd.topic)
        return
      case "READY":
        throw new ProtocolError("ZMTP_UNEXPECTED_COMMAND", "READY after the handshake")
      default:
        // RFC 37: unknown commands are ignored.
        return
    }
  }

  private heartbeatExpired(why: string): void {
    debug("%s heartbeat: %s", this.endpoint, why)
    this.closeError = new ProtocolError("ZMTP_TIMEOUT", `Heartbeat: ${why}`)
    this.destroy()
  }

  /** Called by the pipe when its input has room again. */
  resumeReading(): void {
    if (this.state === State.Active && !this.pausedForWrites) this.stream.resume()
  }

  // ---- outbound ----

  attach(pipe: Pipe): void {
    this.pipe = pipe
    pipe.engine = this
    if (pipe.readPaused) this.stream.pause()
    if (pipe.out.length > 0) this.scheduleFlush()
  }

  scheduleFlush(): void {
    if (this.flushScheduled || this.waitingDrain || this.state !== State.Active) return
    this.flushScheduled = true
    setImmediate(this.flushBound)
  }

  sendSubscription(subscribe: boolean, topic: Buffer): void {
    if (this.state !== State.Active) return
    if (this.peerMinor >= 1) {
      this.sendCommand(subscribe ? "SUBSCRIBE" : "CANCEL", topic)
    } else {
      // ZMTP 3.0, 2.0 and 1.0 peers expect subscriptions as messages.
      const body = Buffer.allocUnsafe(topic.length + 1)
      body[0] = subscribe ? 1 : 0
      topic.copy(body, 1)
      this.stream.write(this.codec ? encodeFrame(this.codec.encode(0, body)) : this.dataFrame(body))
    }
  }

  /** Writes a command after the handshake (boxed when CURVE is in use). */
  private sendCommand(name: string, data: Buffer): void {
    const body = commandBody(name, data)
    this.stream.write(this.codec ? encodeFrame(this.codec.encode(2, body)) : encodeFrame(body, FLAG_COMMAND))
    // A peer that makes us answer (PING → PONG) but never reads must not grow our memory:
    // stop reading from it until what we wrote has drained.
    if (this.stream.writableLength > COMMAND_BACKLOG_MAX && !this.pausedForWrites) {
      this.pausedForWrites = true
      this.stream.pause()
    }
  }

  /** Reading paused because our replies to the peer piled up unread. */
  private pausedForWrites = false

  private writeFrames(frames: Buffer[]): void {
    for (const f of frames) this.stream.write(f)
  }

  /** Encodes queued messages from the pipe and writes them in one go. */
  private flush(budget = FLUSH_BUDGET): void {
    this.flushScheduled = false
    const pipe = this.pipe
    if (pipe === null || (this.state !== State.Active && this.state !== State.Closing)) return
    const out = pipe.out
    if (out.length === 0) return
    const wasFull = pipe.full
    if (this.codec !== undefined || this.zmtp === 1) {
      // CURVE boxes and ZMTP 1.0 framing: batch-writers.ts.
      const ok = this.codec !== undefined ? writeEncrypted(this.stream, this.codec, out, budget) : writeV1(this.stream, out, budget)
      if (!ok) this.waitingDrain = true
      pipe.drained(wasFull)
      if (out.length > 0 && !this.waitingDrain) this.scheduleFlush()
      return
    }

    // Pass 1: how many messages fit the budget, and how many bytes get copied.
    let count = 0
    let copyBytes = 0
    let total = 0
    const queued = out.length
    for (let m = 0; m < queued; m++) {
      const msg = out.at(m)!
      for (let i = 0; i < msg.length; i++) {
        const len = msg[i]!.length
        copyBytes += headerSize(len)
        if (len < ZERO_COPY_MIN) copyBytes += len
        total += headerSize(len) + len
      }
      count++
      if (total >= budget) break
    }

    // Pass 2: encode.
    const buf = Buffer.allocUnsafe(copyBytes)
    const chunks: Buffer[] = []
    let off = 0
    let segStart = 0
    for (let m = 0; m < count; m++) {
      const msg = out.shift()!
      const last = msg.length - 1
      for (let i = 0; i <= last; i++) {
        const part = msg[i]!
        off = writeHeader(buf, off, i < last ? FLAG_MORE : 0, part.length)
        if (part.length < ZERO_COPY_MIN) {
          off += part.copy(buf, off)
        } else {
          chunks.push(buf.subarray(segStart, off), part)
          segStart = off
        }
      }
    }
    if (off > segStart) chunks.push(buf.subarray(segStart, off))

    const s = this.stream
    let ok: boolean
    if (chunks.length === 1) {
      ok = s.write(chunks[0]!)
    } else {
      s.cork()
      for (const c of chunks) s.write(c)
      s.uncork()
      ok = s.writableLength < s.writableHighWaterMark
    }
    if (!ok) this.waitingDrain = true
    pipe.drained(wasFull)
    if (out.length > 0 && !this.waitingDrain) this.scheduleFlush()
  }

  // ---- shutdown ----

  /**
   * Closes the connection. With `lingerMs` > 0 (or -1 for no limit) queued
   * outbound messages are written first; 0 drops them.
   */
  /** close() was called by our side (not a failure to report). */
  private closingLocally = false

  close(lingerMs = 0): void {
    if (this.state >= State.Closing) return
    this.closingLocally = true
    if (lingerMs === 0 || this.state !== State.Active) {
      // linger 0 drops what is queued, but what send() handed over in this turn is written if
      // the stream takes it now: libzmq's I/O thread would have sent it already.
      if (this.state === State.Active && !this.waitingDrain && this.pipe !== null && this.pipe.out.length > 0) this.flush()
      this.destroy()
      return
    }
    this.state = State.Closing
    this.stream.pause()
    this.armLinger(lingerMs)
    // Once everything is handed to the kernel the fd can be closed: the
    // kernel still delivers what it buffered.
    this.stream.once("finish", () => this.destroy())
    const flushAll = (): void => {
      if (this.state !== State.Closing) return
      while (this.pipe !== null && this.pipe.out.length > 0 && !this.waitingDrain) this.flush()
      if (this.waitingDrain) this.stream.once("drain", flushAll)
      else this.stream.end()
    }
    flushAll()
  }

  private armLinger(lingerMs: number): void {
    if (lingerMs > 0) {
      this.lingerTimer = setTimeout(() => this.destroy(), lingerMs)
      this.lingerTimer.unref()
    }
  }

  /** Fails the connection with a protocol error; `sayError` sends an ERROR command first. */
  fail(err: ProtocolError, sayError: boolean): void {
    if (this.state >= State.Closing) return
    debug("%s protocol error: %s", this.endpoint, err.message)
    this.closeError = err
    // Old peers know no ERROR command: they are just disconnected.
    if (sayError && this.state !== State.Greeting && this.zmtp === 3) {
      try {
        this.stream.end(errorFrame((err.reason ?? err.message).slice(0, 255)))
      } catch {
        /* stream already gone */
      }
      this.state = State.Closing
      // Do not wait for the peer to close its side.
      setTimeout(() => this.destroy(), 100).unref()
      this.stream.pause()
      return
    }
    this.destroy()
  }

  destroy(): void {
    if (this.state === State.Closed) return
    if (!this.handshaken && this.closeError === undefined && !this.closingLocally) {
      // The peer went away mid-handshake (libzmq reports this as a handshake failure too).
      this.closeError = Object.assign(new Error("Connection closed by the peer during the handshake"), {
        code: "ECONNRESET",
        errno: 104,
      })
    }
    this.state = State.Closed
    if (this.handshakeTimer) clearTimeout(this.handshakeTimer)
    if (this.lingerTimer) clearTimeout(this.lingerTimer)
    this.heartbeat.stop()
    this.stream.destroy()
    // The stream's handle outlives destroy() by a loop turn; our listeners must not keep this
    // engine (and its socket) reachable through it.
    this.stream.removeAllListeners()
    this.stream.on("error", () => {})
    if (this.pipe !== null) {
      this.pipe.engine = null
    }
    this.host.engineClosed(this, this.closeError)
  }
}

/** ZMTP 1.0/2.0 have no commands: in 2.0 framing, flag bit 2 is reserved (RFC 15). */
function noCommands(): ProtocolError {
  return new ProtocolError("ZMTP_BAD_FLAGS", "Reserved frame flag bit 2 set by a ZMTP 2.0 peer (it has no commands)")
}
