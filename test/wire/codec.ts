/**
 * Helpers for the tests of lib/wire's ZmtpDecoder and encoders: a collecting
 * handler, the greetings of each kind of peer, and a real CURVE codec pair.
 */
import { ProtocolError } from "../../lib/errors.js"
import { CurveCodec } from "../../lib/mechanisms/curve.js"
import { ZmtpDecoder, type ZmtpHandler } from "../../lib/wire/decoder.js"
import { encodeGreeting, encodeSignature } from "../../lib/wire/greeting.js"
import type { PeerProtocol } from "../../lib/wire/negotiation.js"

/** Our side of the negotiation in these tests: a NULL DEALER (ZMTP 2.0 octet 5) with an empty identity. */
export const LOCAL = { mechanism: "NULL", asServer: false, socketType: 5, identity: Buffer.alloc(0) }

export type Event =
  | { kind: "peer"; peer: PeerProtocol }
  | { kind: "command"; body: Buffer }
  | { kind: "identity"; body: Buffer }
  | { kind: "message"; parts: Buffer[] }
  | { kind: "range"; parts: Buffer[] }

/**
 * Records every event in order. For a 3.x peer the handshake ends at the
 * first command (as NULL's READY would end it), switching to messages with
 * `codec`, unless `handshakeCommands` says how many commands it takes.
 */
export class Collector implements ZmtpHandler {
  readonly sent: Buffer[] = []
  readonly events: Event[] = []
  decoder!: ZmtpDecoder
  private commandsSeen = 0

  /** Set with `ranges: true`: the decoder then hands whole one-frame messages over as ranges. */
  onRange?: (chunk: Buffer, start: number, end: number) => void

  constructor(
    private readonly options: {
      codec?: CurveCodec
      handshakeCommands?: number
      onCommand?: (c: Collector, body: Buffer) => void
      ranges?: boolean
    } = {},
  ) {
    if (options.ranges)
      this.onRange = (chunk, start, end) => this.events.push({ kind: "range", parts: [Buffer.from(chunk.subarray(start, end))] })
  }

  send(bytes: Buffer): void {
    this.sent.push(bytes)
  }
  onPeer(peer: PeerProtocol): void {
    this.events.push({ kind: "peer", peer })
  }
  onCommand(body: Buffer): void {
    this.events.push({ kind: "command", body })
    this.commandsSeen++
    if (this.commandsSeen === (this.options.handshakeCommands ?? 1)) this.decoder.startMessages(this.options.codec)
    this.options.onCommand?.(this, body)
  }
  onIdentity(body: Buffer): void {
    this.events.push({ kind: "identity", body })
  }
  onMessage(parts: Buffer[]): void {
    this.events.push({ kind: "message", parts })
  }

  get messages(): Buffer[][] {
    return this.events.flatMap((e) => (e.kind === "message" || e.kind === "range" ? [e.parts] : []))
  }
  get commands(): Buffer[] {
    return this.events.flatMap((e) => (e.kind === "command" ? [e.body] : []))
  }
}

export interface DecoderRun {
  c: Collector
  error: ProtocolError | undefined
  idle: boolean
}

/** A fresh decoder fed `chunks` until the first error (which must be a ProtocolError). */
export function runDecoder(chunks: readonly Buffer[], maxSize = -1, options: ConstructorParameters<typeof Collector>[0] = {}): DecoderRun {
  const c = new Collector(options)
  const d = new ZmtpDecoder(c, LOCAL, maxSize)
  c.decoder = d
  d.start()
  let error: ProtocolError | undefined
  for (const ch of chunks) {
    try {
      d.push(ch)
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err
      error = err
      break
    }
  }
  return { c, error, idle: d.idle }
}

/** A ZMTP 3.1 peer's greeting (NULL, as server). */
export const greeting31 = (): Buffer => encodeGreeting("NULL", true)
/** A ZMTP 2.0 peer's greeting (RFC 15): signature, revision 0x01, socket type (ROUTER = 6). */
export const greeting20 = (): Buffer => Buffer.concat([encodeSignature(0), Buffer.from([0x01, 6])])
/** A versioned ZMTP 1.0 peer (revision 0x00), socket type ROUTER. */
export const greeting10 = (): Buffer => Buffer.concat([encodeSignature(0), Buffer.from([0x00, 6])])

/** Two CURVE codecs of one session: what `client` boxes, `server` opens, and the other way. */
export function curvePair(): { client: CurveCodec; server: CurveCodec } {
  const key = new Uint8Array(32).map((_, i) => (i * 37 + 11) & 0xff)
  return {
    client: new CurveCodec(key, "CurveZMQMESSAGEC", "CurveZMQMESSAGES", 1, 0),
    server: new CurveCodec(key, "CurveZMQMESSAGES", "CurveZMQMESSAGEC", 1, 0),
  }
}

/** Hex of every part of every message, for comparisons. */
export function hexMessages(msgs: readonly (readonly Buffer[])[]): string[][] {
  return msgs.map((m) => m.map((p) => p.toString("hex")))
}
