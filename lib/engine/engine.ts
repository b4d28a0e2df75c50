/**
 * One ZMTP connection: version negotiation → security handshake (ZMTP 3.x)
 * or identity frame (ZMTP 2.0/1.0 peers) → message flow.
 *
 * The engine owns a byte stream (transports/byte-stream.ts: a net.Socket for tcp/ipc) and moves whole
 * messages between it and a Pipe; it keeps the I/O, the timers and the
 * connection's state. The codec is lib/wire's: ZmtpDecoder turns what is read
 * into events (greeting, commands, whole messages), encoder.ts turns queued
 * messages into buffers. Writes are batched: everything queued in the pipe
 * during one event-loop turn is encoded into one buffer and written once
 * (bodies of 16 KiB and more are written by reference, not copied).
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
import { decodeCommand, errorFrame, pingFrame, pongFrame } from "../wire/command.js"
import { ZmtpDecoder, type ZmtpHandler } from "../wire/decoder.js"
import { encodeBatch, encodeDataFrame, encodeSubscription, type PeerFraming } from "../wire/encoder.js"
import type { Metadata } from "../wire/metadata.js"
import type { Greeting } from "../wire/greeting.js"
import type { PeerProtocol } from "../wire/negotiation.js"
import { isCompatible, zmtp2SocketType } from "../sockets/socket-types.js"
import { Heartbeat } from "./heartbeat.js"
import { checkLegacyPeer, legacyMetadata, legacyName, type LegacyPeer } from "./legacy.js"

const debug = createDebug("omq:engine")

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
  /** The user id ZAP gave the peer, if a ZAP handler was asked. */
  readonly userId?: string | undefined
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

export class Engine implements PipeEngine, ConnectionEngine, ZmtpHandler {
  pipe: Pipe | null = null
  private state = State.Greeting
  /** Everything read from the peer goes through it: greeting, frames, messages. */
  private readonly decoder: ZmtpDecoder
  /** What an old peer's identity frame told us (3.x peers: the mechanism's metadata). */
  private legacyMetadata: Metadata | undefined
  /** An old peer's socket type ("" if unversioned), until its identity arrives. */
  private legacyPeerType = ""
  /** The peer is an unversioned ZMTP 1.0 one (libzmq 2.x): it announced no socket type. */
  private unversionedPeer = false
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
    this.decoder = new ZmtpDecoder(
      this,
      {
        mechanism: options.mechanism.name,
        asServer: options.asServer,
        // Every socket type an Engine serves has a ZMTP 2.0 octet (sockets/socket-types.ts); the ?? is for the type checker.
        socketType: zmtp2SocketType(options.socketType) ?? 0,
        identity: options.identity ?? Buffer.alloc(0),
      },
      options.maxMessageSize,
    )
    this.heartbeat = new Heartbeat(
      { interval: options.heartbeatInterval, timeout: options.heartbeatTimeout, timeToLive: options.heartbeatTimeToLive },
      (ttl) => {
        if (this.state !== State.Active) return
        this.sendCommand(pingFrame(ttl, undefined, this.codec))
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

  get userId(): string | undefined {
    return this.options.mechanism.userId
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
    s.write(this.decoder.start())
  }

  // ---- inbound ----

  private onData(chunk: Buffer): void {
    if (this.state >= State.Closing) return
    if (this.heartbeat.tracking) this.heartbeat.traffic()
    try {
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

  // ---- decoder events (ZmtpHandler) ----

  /** The version negotiation's replies. */
  send(bytes: Buffer): void {
    this.stream.write(bytes)
  }

  onPeer(peer: PeerProtocol): void {
    if (peer.version === 3) this.onGreeting(peer.greeting)
    else this.startLegacy(peer)
  }

  onMessage(msg: Buffer[]): void {
    if (this.state !== State.Active) return
    if (this.pipe !== null && !this.pipe.deliverQuiet(msg)) this.stream.pause()
  }

  onRange(chunk: Buffer, start: number, end: number): void {
    if (this.state !== State.Active) return
    if (this.pipe !== null && !this.pipe.deliverRange(chunk, start, end)) this.stream.pause()
  }

  onCommand(body: Buffer): void {
    if (this.state === State.Active) this.onActiveCommand(body)
    else if (this.state === State.Handshake) this.onHandshakeCommand(body)
  }

  private onGreeting(g: Greeting): void {
    // Revision 2 and majors above 3 speak 3.1 with us, as with libzmq.
    this.framing.minor = g.major === 3 ? g.minor : 1
    if (g.mechanism !== this.mechanism.name) {
      throw new ProtocolError("ZMTP_BAD_MECHANISM", `Security mechanism mismatch: we use ${this.mechanism.name}, peer uses ${g.mechanism}`)
    }
    this.state = State.Handshake
    this.writeFrames(this.mechanism.start())
    this.checkHandshakeDone()
  }

  private onHandshakeCommand(body: Buffer): void {
    const step = this.mechanism.onCommand(body)
    if (Array.isArray(step)) {
      this.writeFrames(step)
      this.checkHandshakeDone()
      return
    }
    // A ZAP answer is pending: the decoder keeps what arrives until it is known.
    this.decoder.hold()
    this.stream.pause()
    step.then(
      (frames) => {
        if (this.state !== State.Handshake) return
        try {
          this.writeFrames(frames)
          this.checkHandshakeDone()
          this.decoder.release()
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

  /** How we frame for the peer (encoder.ts): ZMTP version, 3.x minor, CURVE's codec once the handshake is done. */
  private readonly framing: PeerFraming = { zmtp: 3, minor: 1, codec: undefined }

  /** ZMTP major version spoken with the peer: 3, or 2 / 1 for old peers (known after the greeting). */
  get zmtp(): 1 | 2 | 3 {
    return this.framing.zmtp
  }

  /** The 3.x peer's minor version (0 for old peers: subscriptions travel as messages, as with 3.0). */
  get peerMinor(): number {
    return this.framing.minor
  }

  private get codec(): FrameCodec | undefined {
    return this.framing.codec
  }

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
    this.framing.codec = this.mechanism.codec
    this.decoder.startMessages(this.codec)
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
    this.framing.zmtp = peer.version
    this.framing.minor = 0 // subscriptions travel as messages, as with 3.0 peers
    this.unversionedPeer = peer.socketType === null
    this.state = State.Identity
    debug("%s peer speaks %s (%s)", this.endpoint, legacyName(peer), this.legacyPeerType || "type not announced")
    // An unversioned 1.0 peer already has our identity: the signature was its header, the negotiator sent the body.
    if (!this.unversionedPeer) this.stream.write(encodeDataFrame(this.framing, this.options.identity ?? Buffer.alloc(0)))
  }

  /** An old peer's first frame (the decoder refuses COMMAND from it; RFC 13: its other flags "SHALL not be validated"). */
  onIdentity(body: Buffer): void {
    if (this.state !== State.Identity) return
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

  private onActiveCommand(body: Buffer): void {
    const cmd = decodeCommand(body)
    switch (cmd.name) {
      case "PING":
        this.sendCommand(pongFrame(cmd.context, this.codec))
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
    // A command to 3.1 peers, a message to 3.0, 2.0 and 1.0 ones (encoder.ts).
    this.stream.write(encodeSubscription(this.framing, subscribe, topic))
  }

  /** Writes a command frame after the handshake (PING, PONG: already boxed when CURVE is in use). */
  private sendCommand(frame: Buffer): void {
    this.stream.write(frame)
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
    // encoder.ts takes what fits the budget off the queue and returns the buffers to write.
    const { chunks } = encodeBatch(this.framing, out, budget)

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
    this.mechanism.dispose?.()
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
