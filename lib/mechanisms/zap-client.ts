/**
 * The ZAP client side (RFC 27) of a context: server mechanisms send their
 * requests over inproc://zeromq.zap.01, where the application's handler (a
 * REP or ROUTER socket, as with libzmq) answers. With no handler bound,
 * authenticate() resolves null.
 */
import type { Context } from "../context.js"
import { ProtocolError, type ProtocolErrorCode } from "../errors.js"
import type { ZapReply } from "./mechanism.js"

export const ZAP_ENDPOINT = "inproc://zeromq.zap.01"

export interface ZapRequestFields {
  domain: string
  address: string
  identity: Buffer
  mechanism: string
  credentials: Buffer[]
}

interface DealerLike {
  send(msg: Array<Buffer | string>): Promise<void>
  receive(): Promise<Buffer[]>
  connect(address: string): void
  close(): void
  readonly closed: boolean
}

export class ZapClient {
  private dealer: Promise<DealerLike> | null = null
  /** The handler socket the dealer is connected to; a new handler needs a new connection. */
  private handler: unknown
  /** Outstanding requests by id, in the order they were sent. */
  private readonly pending = new Map<string, { resolve(reply: ZapReply): void; reject(err: ProtocolError): void }>()
  private nextId = 1
  /** The dealer a reply-reading loop currently runs on. */
  private readingOn: DealerLike | null = null

  constructor(private readonly context: Context) {}

  get hasHandler(): boolean {
    return this.context.inproc.isBound("zeromq.zap.01")
  }

  async authenticate(req: ZapRequestFields): Promise<ZapReply | null> {
    if (!this.hasHandler) return null
    const dealer = await this.socket()
    const id = String(this.nextId++)
    const reply = new Promise<ZapReply>((resolve, reject) => this.pending.set(id, { resolve, reject }))
    await dealer.send(["", "1.0", id, req.domain, req.address, req.identity, req.mechanism, ...req.credentials])
    this.readReplies(dealer)
    return reply
  }

  private socket(): Promise<DealerLike> {
    const current = this.context.inproc.binderOf("zeromq.zap.01")
    if (this.dealer !== null && current !== this.handler) {
      // The handler was closed and another one bound: inproc links do not reconnect.
      const old = this.dealer
      void old.then((d) => d.close())
      this.dealer = null
      // Requests the old handler never answered end by their handshake timeout, as in libzmq;
      // they must not take the new handler's replies.
      this.pending.clear()
    }
    this.handler = current
    // Imported lazily: sockets depend on mechanisms, not the other way round.
    this.dealer ??= import("../sockets/dealer.js").then(({ Dealer }) => {
      const d = new Dealer({ context: this.context, linger: 0 })
      d.connect(ZAP_ENDPOINT)
      return d as unknown as DealerLike
    })
    return this.dealer
  }

  /**
   * Checks a reply as libzmq does (RFC 27: ["", "1.0", request id, status code, status text,
   * user id, metadata]). A reply that cannot be matched to its request by id fails the oldest
   * outstanding one, as a handler answers in order; each failure is a ZAP protocol error of the
   * handshake that waited for it.
   */
  private onReply(msg: Buffer[]): void {
    const fail = (code: ProtocolErrorCode, why: string, id?: string): void => {
      const key = id !== undefined && this.pending.has(id) ? id : this.pending.keys().next().value
      if (key === undefined) return
      const p = this.pending.get(key)!
      this.pending.delete(key)
      p.reject(new ProtocolError(code, `ZAP handler: ${why}`))
    }
    if (msg.length !== 7 || msg[0]!.length !== 0) return fail("ZAP_MALFORMED_REPLY", `a reply of ${msg.length} frames`)
    const [, version, reqId, status, text, userId, metadata] = msg as [Buffer, Buffer, Buffer, Buffer, Buffer, Buffer, Buffer]
    const id = reqId.toString()
    if (!this.pending.has(id)) return fail("ZAP_BAD_REQUEST_ID", `unknown request id ${JSON.stringify(id)}`)
    if (version.toString() !== "1.0") return fail("ZAP_BAD_VERSION", `version ${JSON.stringify(version.toString())}`, id)
    const code = status.toString()
    if (code !== "200" && code !== "300" && code !== "400" && code !== "500") {
      return fail("ZAP_INVALID_STATUS_CODE", `status ${JSON.stringify(code)}`, id)
    }
    const p = this.pending.get(id)!
    this.pending.delete(id)
    p.resolve({ statusCode: Number(code), statusText: text.toString(), userId: userId.toString(), metadata })
  }

  /** Reads replies only while requests are outstanding, so an idle client never keeps the process alive. */
  private readReplies(dealer: DealerLike): void {
    if (this.readingOn === dealer) return
    this.readingOn = dealer
    void (async () => {
      try {
        while (this.pending.size > 0 && !dealer.closed) {
          this.onReply(await dealer.receive())
        }
      } catch {
        // The dealer was closed: outstanding handshakes end by their own timeout.
      } finally {
        if (this.readingOn === dealer) this.readingOn = null
      }
    })()
  }
}
