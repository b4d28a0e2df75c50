/**
 * The ZAP client side (RFC 27) of a context: server mechanisms send their
 * requests over inproc://zeromq.zap.01, where the application's handler (a
 * REP or ROUTER socket, as with libzmq) answers. With no handler bound,
 * authenticate() resolves null.
 */
import type { Context } from "../context.js"
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
  private readonly pending = new Map<string, (reply: ZapReply) => void>()
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
    const reply = new Promise<ZapReply>((resolve) => this.pending.set(id, resolve))
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

  /** Reads replies only while requests are outstanding, so an idle client never keeps the process alive. */
  private readReplies(dealer: DealerLike): void {
    if (this.readingOn === dealer) return
    this.readingOn = dealer
    void (async () => {
      try {
        while (this.pending.size > 0 && !dealer.closed) {
          const msg = await dealer.receive()
          // ["", version, request id, status code, status text, user id, metadata]
          const [, , reqId, status, text, userId, metadata] = msg
          const resolve = reqId ? this.pending.get(reqId.toString()) : undefined
          if (resolve === undefined) continue
          this.pending.delete(reqId!.toString())
          resolve({
            statusCode: Number(status?.toString() ?? "500") || 500,
            statusText: text?.toString() ?? "",
            userId: userId?.toString() ?? "",
            metadata: metadata ?? Buffer.alloc(0),
          })
        }
      } catch {
        // The dealer was closed: outstanding handshakes end by their own timeout.
      } finally {
        if (this.readingOn === dealer) this.readingOn = null
      }
    })()
  }
}
