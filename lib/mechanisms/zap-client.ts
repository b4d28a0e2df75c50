/**
 * The ZAP client side (RFC 27) of a context: server mechanisms send their
 * requests over inproc://zeromq.zap.01, where the application's handler (a
 * REP or ROUTER socket, as with libzmq) answers. With no handler bound,
 * authenticate() resolves null.
 *
 * As libzmq's session does, the client joins a pipe of its own to the handler's inproc
 * endpoint, presenting itself as a DEALER: no socket class is involved, so mechanisms do not
 * depend on sockets (which depend on them).
 */
import { ProtocolError, type ProtocolErrorCode } from "../errors.js"
import { Pipe, type PipeOwner } from "../pipe/pipe.js"
import type { InprocBinder, InprocLinkLike, InprocRegistry, InprocRequest } from "../transports/inproc.js"
import type { ZapReply } from "./mechanism.js"

export const ZAP_ENDPOINT = "inproc://zeromq.zap.01"
const ZAP_NAME = "zeromq.zap.01"

export interface ZapRequestFields {
  domain: string
  address: string
  identity: Buffer
  mechanism: string
  credentials: Buffer[]
}

/** Our pipe to one handler, and the link joining it there. */
interface HandlerConnection {
  readonly binder: InprocBinder | undefined
  readonly pipe: Pipe
  link: InprocLinkLike | null
  closed: boolean
}

export class ZapClient implements PipeOwner {
  private connection: HandlerConnection | null = null
  /** Outstanding requests by id, in the order they were sent. */
  private readonly pending = new Map<string, { resolve(reply: ZapReply): void; reject(err: ProtocolError): void }>()
  private nextId = 1

  /** @param registry the inproc names of the context this client serves */
  constructor(private readonly registry: InprocRegistry) {}

  get hasHandler(): boolean {
    return this.registry.isBound(ZAP_NAME)
  }

  async authenticate(req: ZapRequestFields): Promise<ZapReply | null> {
    if (!this.hasHandler) return null
    const pipe = this.connect()
    const id = String(this.nextId++)
    const reply = new Promise<ZapReply>((resolve, reject) => this.pending.set(id, { resolve, reject }))
    const text = (t: string): Buffer => Buffer.from(t)
    pipe.write([
      Buffer.alloc(0),
      text("1.0"),
      text(id),
      text(req.domain),
      text(req.address),
      req.identity,
      text(req.mechanism),
      ...req.credentials,
    ])
    return reply
  }

  /** The pipe to the handler bound now, joined to it if it is new. */
  private connect(): Pipe {
    const registry = this.registry
    const binder = registry.binderOf(ZAP_NAME)
    const current = this.connection
    if (current !== null && !current.closed && current.binder === binder) return current.pipe
    if (current !== null) {
      // The handler was closed and another one bound: inproc links do not reconnect.
      current.closed = true
      current.link?.close(0, current.link.connectEnd)
      // Requests the old handler never answered end by their handshake timeout, as in libzmq;
      // they must not take the new handler's replies.
      this.pending.clear()
    }
    // No HWM: what a mechanism waits for must not be refused; a handler that never reads
    // leaves the handshakes to their timeout.
    const pipe = new Pipe(this, 0, 0)
    pipe.endpoint = ZAP_ENDPOINT
    pipe.locallyInitiated = true
    const conn: HandlerConnection = { binder, pipe, link: null, closed: false }
    this.connection = conn
    const request: InprocRequest = {
      address: ZAP_ENDPOINT,
      pipe,
      peer: { socketType: "DEALER", identity: Buffer.alloc(0) },
      get live() {
        return !conn.closed
      },
      joined(link) {
        conn.link = link
        link.start()
      },
      left() {
        conn.closed = true
        conn.link = null
      },
    }
    registry.connect(ZAP_NAME, request)
    return pipe
  }

  pipeReadable(pipe: Pipe): void {
    for (let msg = pipe.read(); msg !== undefined; msg = pipe.read()) {
      if (this.connection?.pipe === pipe) this.onReply(msg)
    }
  }

  pipeWritable(): void {}

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
}
