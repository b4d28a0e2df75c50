/**
 * ZWS 2.0 (RFC 45) as a ByteStream, so the ZMTP engine runs over a WebSocket unchanged.
 *
 * ZWS has no greeting: the mechanism is the WebSocket subprotocol the two sides agreed on, and
 * each ZMTP frame is one binary WebSocket message, a flags octet (0x00 last, 0x01 more, 0x02
 * command) followed by the body. This adapter translates at the edge:
 *
 * - `ZWS2.0/NULL`, `/PLAIN`, `/CURVE`: towards the engine it plays a ZMTP 3.1 peer whose
 *   greeting names the agreed mechanism (3.1: heartbeats, PING/PONG commands, work as over
 *   tcp); each WebSocket message becomes a ZMTP 3.x frame (header, then the body as a slice,
 *   not a copy). What the engine writes is parsed back into frames after its 64-byte
 *   greeting, which is dropped; SUBSCRIBE/CANCEL commands go out as 0x01/0x00 messages, as
 *   RFC 45 says (omq's publishers take both forms).
 * - `ZWS2.0` (no mechanism, what jszmq speaks): like ZMTP 2.0 without socket types: each side
 *   first sends its routing id as a message. Towards the engine it plays an unversioned ZMTP 1.0
 *   peer, the one kind of old peer that announces no socket type.
 *
 * WebSocket framing itself (RFC 6455, masking, fragments, ping/pong) is the `ws` library's.
 */
import { EventEmitter } from "node:events"
import type { WebSocket } from "ws"
import { ProtocolError } from "../errors.js"
import { FLAG_COMMAND, FLAG_MORE, FrameDecoder, headerSize, writeHeader } from "../wire/frame.js"
import { V1FrameDecoder, v1HeaderSize, writeV1Header } from "../wire/frame-v1.js"
import { GREETING_SIZE, encodeGreeting } from "../wire/greeting.js"
import type { DialedStream } from "./connecter.js"
import type { StreamOptions } from "./transport.js"

/** ZWS flags octet values. */
const ZWS_LAST = 0x00
const ZWS_MORE = 0x01
const ZWS_COMMAND = 0x02

/** The subprotocol of each mechanism, and `ZWS2.0` for none. */
export type ZwsMechanism = "NULL" | "PLAIN" | "CURVE" | null

export function subprotocolOf(mechanism: ZwsMechanism): string {
  return mechanism === null ? "ZWS2.0" : `ZWS2.0/${mechanism}`
}

/** The mechanism a socket's options select, as ZWS names it. */
export function mechanismFor(o: StreamOptions): "NULL" | "PLAIN" | "CURVE" {
  return o.securityMechanism === "curve" ? "CURVE" : o.securityMechanism === "plain" ? "PLAIN" : "NULL"
}

/** The greeting's as-server flag of a socket (PLAIN and CURVE servers). */
export function asServer(o: StreamOptions): boolean {
  return o.curveServer || o.plainServer
}

/** What the bare ZWS2.0 stands for with this socket: its mechanism if PLAIN or CURVE, else none (see ws.ts's choose). */
export function impliedMechanism(o: StreamOptions): ZwsMechanism {
  const m = mechanismFor(o)
  return m === "NULL" ? null : m
}

/** The mechanism an agreed subprotocol names, or undefined for one that is not ZWS 2.0. */
export function mechanismOf(subprotocol: string): ZwsMechanism | undefined {
  if (subprotocol === "ZWS2.0") return null
  const m = /^ZWS2\.0\/(NULL|PLAIN|CURVE)$/.exec(subprotocol)
  return m === null ? undefined : (m[1] as ZwsMechanism)
}

/** Frames up to this size reach the engine as one chunk, header and body (copied); larger bodies as a slice. */
const SMALL_MAX = 4096

const SUBSCRIBE = Buffer.from("\x09SUBSCRIBE")
const CANCEL = Buffer.from("\x06CANCEL")

/** A SUBSCRIBE or CANCEL command body as the equivalent subscription message, else undefined. */
function subscriptionOf(command: Buffer): Buffer | undefined {
  const name = command[0] === 9 ? SUBSCRIBE : command[0] === 6 ? CANCEL : undefined
  if (name === undefined || command.length < name.length || !command.subarray(0, name.length).equals(name)) return undefined
  const msg = Buffer.allocUnsafe(command.length - name.length + 1)
  msg[0] = name === SUBSCRIBE ? 1 : 0
  command.copy(msg, 1, name.length)
  return msg
}

export class WsStream extends EventEmitter implements DialedStream {
  readonly writableHighWaterMark = 64 * 1024
  /** Bytes handed to the WebSocket and not yet written by it. */
  writableLength = 0
  private ended = false
  private destroyed = false
  private started = false
  /** Our greeting bytes still to drop (mechanism mode). */
  private greetingLeft = GREETING_SIZE
  private outbound: FrameDecoder | V1FrameDecoder
  private waitingDrain = false
  /** The agreed mechanism; known once the WebSocket is open (a client learns it from the server). */
  private mechanism: ZwsMechanism = null

  /**
   * @param ws the WebSocket, open or opening
   * @param asServer our greeting's as-server flag (PLAIN and CURVE servers), for the greeting we play to the engine
   * @param remoteAddress the peer's address, for ZAP
   * @param mechanism the one we expect (a client learns the agreed one when the WebSocket opens)
   * @param agreedProtocol the subprotocol agreed in the upgrade, once it is known (see ws.ts: not `ws.protocol`)
   */
  /** The WebSocket, once it exists (a client's is made when the `ws` library has loaded). */
  private ws: WebSocket | undefined

  constructor(
    ws: WebSocket | Promise<WebSocket>,
    private readonly asServer: boolean,
    readonly remoteAddress: string,
    mechanism: ZwsMechanism,
    private readonly agreedProtocol: () => string,
    private readonly isClient = false,
    private readonly identity: Buffer = Buffer.alloc(0),
    /** The mechanism the bare ZWS2.0 stands for between this socket and its peer: PLAIN or CURVE when so configured, else none. */
    private readonly implied: ZwsMechanism = null,
  ) {
    super()
    this.mechanism = mechanism
    this.outbound = this.framesOut(mechanism)
    if (ws instanceof Promise) {
      ws.then(
        (w) => this.attach(w),
        (err: Error) => {
          this.emit("error", err)
          this.destroy()
        },
      )
    } else {
      this.attach(ws)
    }
  }

  private attach(ws: WebSocket): void {
    this.ws = ws
    if (this.destroyed) {
      ws.terminate()
      return
    }
    ws.binaryType = "nodebuffer"
    if (this.paused) ws.pause()
    ws.on("message", (data: Buffer, isBinary: boolean) => this.onMessage(data, isBinary))
    ws.on("error", (err: Error) => this.emit("error", err))
    ws.on("close", () => {
      if (!this.ended) this.emit("end")
      this.finishClose()
    })
    if (ws.readyState === ws.OPEN) queueMicrotask(() => this.opened())
    else ws.once("open", () => this.opened())
  }

  /** Parses what the engine writes into frames: ZMTP 1.0 framing without a mechanism, 3.x with one. */
  private framesOut(mechanism: ZwsMechanism): FrameDecoder | V1FrameDecoder {
    if (mechanism === null) {
      // The first frame is our identity, whose header was the engine's signature (its flags
      // octet 0x7F means nothing here). The engine writes its body once it knows the peer
      // speaks 1.0, after the peer's identity: two such sides would wait for each other.
      // So the identity is sent at once, from the socket's options, and the engine's own copy
      // of it, its first frame, is dropped.
      let identity = true
      return new V1FrameDecoder((flags, body) => {
        if (identity) {
          identity = false
          return
        }
        this.sendFrame((flags & 1) === 0 ? ZWS_LAST : ZWS_MORE, body)
      })
    }
    return new FrameDecoder((flags, body) => {
      if ((flags & FLAG_COMMAND) === 0) return this.sendFrame(flags & FLAG_MORE ? ZWS_MORE : ZWS_LAST, body)
      // RFC 45: a subscription is a message, 0x01 or 0x00 and the topic, not a SUBSCRIBE/CANCEL command.
      const sub = subscriptionOf(body)
      if (sub !== undefined) return this.sendFrame(ZWS_LAST, sub)
      this.sendFrame(ZWS_COMMAND, body)
    })
  }

  /** The WebSocket is open: the connection exists for the engine ('connect'), and the peer's greeting is played. */
  private opened(): void {
    if (this.destroyed || this.started) return
    this.started = true
    const protocol = this.agreedProtocol()
    let agreed = mechanismOf(protocol)
    // The bare ZWS2.0 between two PLAIN or CURVE sockets runs their mechanism (omq's reading,
    // for pages: a browser can offer no other name; see ws.ts). NULL sockets speak without one.
    if (agreed === null && this.implied !== null) agreed = this.implied
    if (agreed === undefined) {
      this.emit("error", new ProtocolError("ZMTP_HANDSHAKE", `WebSocket subprotocol ${JSON.stringify(protocol)} is not ZWS 2.0`))
      this.destroy()
      return
    }
    if (agreed !== this.mechanism) {
      // A client offered more than one (ZWS2.0/NULL and ZWS2.0): the server chose.
      this.mechanism = agreed
      this.outbound = this.framesOut(agreed)
    }
    if (this.isClient && agreed === "NULL") {
      // A server may answer ZWS2.0/NULL, the first name offered, and then speak without a
      // mechanism (a WebSocket server that takes the first offer): its first message tells
      // (a READY command, or its routing id). Until then what the engine writes waits.
      this.undecided = []
      this.emit("connect")
      return
    }
    this.emit("connect")
    this.begin(agreed)
  }

  /** What the engine wrote while the mechanism was undecided (null: decided). */
  private undecided: Buffer[] | null = null

  /** Plays the peer's greeting to the engine, as ZMTP 3.1 (see the file comment); with no mechanism nothing: its routing id comes as its first message. */
  private begin(mechanism: ZwsMechanism): void {
    if (mechanism !== this.mechanism) {
      this.mechanism = mechanism
      this.outbound = this.framesOut(mechanism)
    }
    if (mechanism !== null) this.emit("data", encodeGreeting(mechanism, !this.asServer, 1))
    else this.sendFrame(ZWS_LAST, this.identity)
    const held = this.undecided
    this.undecided = null
    if (held !== null) for (const c of held) this.write(c)
  }

  // ---- from the peer ----

  private onMessage(data: Buffer, isBinary: boolean): void {
    if (this.destroyed) return
    if (!isBinary || data.length === 0) {
      this.fail(isBinary ? "an empty WebSocket message (no ZWS flags octet)" : "a text WebSocket message (ZWS uses binary ones)")
      return
    }
    const zws = data[0]!
    if (this.undecided !== null) this.begin(zws === ZWS_COMMAND ? "NULL" : null)
    if (this.destroyed) return
    const body = data.subarray(1)
    if (this.mechanism === null) {
      if (zws !== ZWS_LAST && zws !== ZWS_MORE) {
        this.fail(`ZWS flags 0x${zws.toString(16)} without a mechanism`)
        return
      }
      const header = Buffer.allocUnsafe(v1HeaderSize(body.length))
      writeV1Header(header, 0, zws === ZWS_MORE ? 1 : 0, body.length)
      this.emit("data", header)
    } else {
      if (zws !== ZWS_LAST && zws !== ZWS_MORE && zws !== ZWS_COMMAND) {
        this.fail(`ZWS flags 0x${zws.toString(16)}`)
        return
      }
      const flags = zws === ZWS_COMMAND ? FLAG_COMMAND : zws === ZWS_MORE ? FLAG_MORE : 0
      if (body.length < SMALL_MAX) {
        // A small frame is copied behind its header: one chunk for the engine instead of two.
        const frame = Buffer.allocUnsafe(headerSize(body.length) + body.length)
        body.copy(frame, writeHeader(frame, 0, flags, body.length))
        this.emit("data", frame)
        return
      }
      const header = Buffer.allocUnsafe(headerSize(body.length))
      writeHeader(header, 0, flags, body.length)
      this.emit("data", header)
    }
    if (body.length > 0 && !this.destroyed) this.emit("data", body)
  }

  private fail(why: string): void {
    this.emit("error", new ProtocolError("ZMTP_BAD_FLAGS", `ZWS: ${why}`))
    this.destroy()
  }

  // ---- to the peer ----

  write(chunk: Buffer): boolean {
    if (this.destroyed || this.ended) return false
    if (this.undecided !== null) {
      this.undecided.push(chunk)
      return true
    }
    let c = chunk
    if (this.mechanism !== null && this.greetingLeft > 0) {
      const drop = Math.min(this.greetingLeft, c.length)
      this.greetingLeft -= drop
      c = c.subarray(drop)
    }
    if (c.length > 0) {
      // One write of the engine holds many frames: the WebSocket frames they become go to the
      // TCP socket in one writev, not one write each.
      const socket = (this.ws as unknown as { _socket?: { cork(): void; uncork(): void } } | undefined)?._socket
      socket?.cork()
      try {
        this.outbound.push(c)
      } finally {
        socket?.uncork()
      }
    }
    const ok = this.writableLength < this.writableHighWaterMark
    if (!ok) this.waitingDrain = true
    return ok
  }

  private sendFrame(zws: number, body: Buffer): void {
    if (this.destroyed) return
    const size = body.length + 1
    this.writableLength += size
    const done = (): void => this.written(size)
    // One WebSocket frame per message: libzmq's ws engine does not take a message in fragments
    // (continuation frames), so the body is copied behind the flags octet even when large.
    const msg = Buffer.allocUnsafe(size)
    msg[0] = zws
    body.copy(msg, 1)
    this.ws!.send(msg, { binary: true }, done)
  }

  private written(size: number): void {
    this.writableLength -= size
    if (this.waitingDrain && this.writableLength < this.writableHighWaterMark) {
      this.waitingDrain = false
      this.emit("drain")
    }
    if (this.ended && this.writableLength === 0) this.finish()
  }

  /** Nothing to group: each frame is its own WebSocket message, and write() corks the TCP socket itself. */
  cork(): void {}

  /** After the engine's corked writes: past the high-water mark it waits for 'drain'. */
  uncork(): void {
    if (this.writableLength >= this.writableHighWaterMark) this.waitingDrain = true
  }

  private paused = false

  pause(): this {
    this.paused = true
    this.ws?.pause()
    return this
  }

  resume(): this {
    this.paused = false
    this.ws?.resume()
    return this
  }

  get writableEnded(): boolean {
    return this.ended
  }

  end(chunk?: Buffer): this {
    if (chunk !== undefined) this.write(chunk)
    if (this.ended) return this
    this.ended = true
    if (this.writableLength === 0) queueMicrotask(() => this.finish())
    return this
  }

  private finishing = false
  private finish(): void {
    if (this.finishing) return
    this.finishing = true
    this.emit("finish")
    if (!this.destroyed) this.ws?.close(1000)
  }

  destroy(): this {
    if (this.destroyed) return this
    this.destroyed = true
    this.ws?.terminate()
    this.finishClose()
    return this
  }

  private closed = false
  private finishClose(): void {
    if (this.closed) return
    this.closed = true
    this.destroyed = true
    queueMicrotask(() => this.emit("close"))
  }
}
