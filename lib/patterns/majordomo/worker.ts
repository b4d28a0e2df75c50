/**
 * MajordomoWorker: an MDP/0.2 worker (ZeroMQ RFC 18) for one service. It connects a DEALER to
 * the broker, registers with READY, and answers each REQUEST with what the handler returns
 * (FINAL), after any PARTIALs the handler sends. One request at a time, as the RFC assumes.
 *
 * Heartbeats: it sends HEARTBEAT every `heartbeatInterval` ms, also while the handler works (an
 * async handler does not stop the timers). If nothing arrives from the broker for `liveness`
 * intervals, or the broker sends DISCONNECT, it closes the socket and after `reconnectInterval`
 * ms registers again on a new one (a new identity, as the RFC asks). A request still being
 * handled then is finished first, and its reply dropped: the broker it came from is gone.
 *
 * If the handler throws, the request gets no reply: the worker sends DISCONNECT and registers
 * anew (the broker drops that request; the client's timeout and retries decide what happens).
 */
import { createDebug } from "../../debug.js"
import type { Context } from "../../context.js"
import { toMessage, type MessageLike } from "../../message.js"
import { Dealer } from "../../sockets/dealer.js"
import { disconnect, heartbeat, parseWorkerInbound, ready, workerReply } from "./protocol.js"

const debug = createDebug("omq:majordomo")

/** What a handler may send before its reply: `partial(...)` sends a PARTIAL to the client at once. */
export interface MajordomoRequestContext {
  partial(...body: MessageLike[]): void
}

/** Answers one request (its body frames) with the reply's frames (FINAL). */
export type MajordomoHandler = (
  request: Buffer[],
  context: MajordomoRequestContext,
) => MessageLike | MessageLike[] | Promise<MessageLike | MessageLike[]>

export interface MajordomoWorkerOptions {
  /** ms between heartbeats; the broker's must be the same (default 2500). */
  heartbeatInterval?: number
  /** Heartbeat intervals without a word from the broker before the worker reconnects (default 3). */
  liveness?: number
  /** ms to wait before registering again after the broker was lost (default 2500). */
  reconnectInterval?: number
  /** Called with what the handler threw (default: logged to the `omq:majordomo` debug namespace). */
  onError?: (err: unknown) => void
  /** Context for inproc endpoints (default: the shared one). */
  context?: Context
}

export class MajordomoWorker {
  /** READYs sent so far: 1 after the first registration, one more per reconnect. */
  registrations = 0
  private socket: Dealer | undefined
  private liveness = 0
  private readonly heartbeatInterval: number
  private readonly maxLiveness: number
  private readonly reconnectInterval: number
  private readonly timer: NodeJS.Timeout
  private reconnectTimer: NodeJS.Timeout | undefined
  /** The request being handled (and those that arrived meanwhile), in order. */
  private work: Promise<void> = Promise.resolve()
  private closed = false

  /** Connects to the broker at `endpoint` and serves `service` with `handler` until close(). */
  constructor(
    private readonly endpoint: string,
    readonly service: string,
    private readonly handler: MajordomoHandler,
    private readonly options: MajordomoWorkerOptions = {},
  ) {
    this.heartbeatInterval = options.heartbeatInterval ?? 2500
    this.maxLiveness = options.liveness ?? 3
    this.reconnectInterval = options.reconnectInterval ?? 2500
    this.timer = setInterval(() => this.tick(), this.heartbeatInterval)
    this.connect()
  }

  private connect(): void {
    // sendTimeout 0: a DEALER queues for its connecting peer, so a send only fails (EAGAIN) when
    // the pipe is full, and never waits: heartbeats and replies cannot pile up as pending sends.
    const sock = new Dealer({ linger: 200, sendTimeout: 0, ...(this.options.context ? { context: this.options.context } : {}) })
    sock.connect(this.endpoint)
    this.socket = sock
    this.liveness = this.maxLiveness
    this.post(sock, ready(this.service))
    this.registrations++
    void this.receiveLoop(sock)
  }

  private post(sock: Dealer, frames: Buffer[]): void {
    if (sock.closed) return
    sock.send(frames).catch((err: Error) => debug("worker %s: send failed: %s", this.service, err.message))
  }

  private async receiveLoop(sock: Dealer): Promise<void> {
    try {
      for await (const frames of sock) {
        if (sock !== this.socket) return
        const cmd = parseWorkerInbound(frames)
        if (cmd === undefined) {
          debug("worker %s: dropped a message that is not MDP/0.2", this.service)
          continue
        }
        this.liveness = this.maxLiveness
        if (cmd.kind === "disconnect") {
          debug("worker %s: DISCONNECT from the broker", this.service)
          this.reconnect()
          return
        }
        if (cmd.kind === "request") {
          const { client, body } = cmd
          this.work = this.work.then(() => this.serve(sock, client, body))
        }
      }
    } catch (err) {
      if (!sock.closed) debug("worker %s: receive failed: %s", this.service, (err as Error).message)
    }
  }

  private async serve(sock: Dealer, client: Buffer, body: Buffer[]): Promise<void> {
    const current = () => sock === this.socket && !sock.closed
    const context: MajordomoRequestContext = {
      partial: (...frames) => {
        if (current()) this.post(sock, workerReply(false, client, toMessage(frames)))
      },
    }
    let reply: MessageLike | MessageLike[]
    try {
      reply = await this.handler(body, context)
    } catch (err) {
      if (this.options.onError) this.options.onError(err)
      else debug("worker %s: handler failed: %s", this.service, (err as Error)?.message ?? String(err))
      if (current()) {
        this.post(sock, disconnect())
        this.reconnect()
      }
      return
    }
    if (current()) this.post(sock, workerReply(true, client, toMessage(reply)))
  }

  private tick(): void {
    const sock = this.socket
    if (sock === undefined) return
    if (--this.liveness <= 0) {
      debug("worker %s: the broker is silent, reconnecting", this.service)
      this.reconnect()
      return
    }
    this.post(sock, heartbeat())
  }

  /** Drops the socket and registers on a new one after reconnectInterval, once the current request is done. */
  private reconnect(): void {
    const old = this.socket
    this.socket = undefined
    old?.close()
    if (this.closed || this.reconnectTimer !== undefined) return
    this.reconnectTimer = setTimeout(() => {
      void this.work.then(() => {
        this.reconnectTimer = undefined
        if (!this.closed) this.connect()
      })
    }, this.reconnectInterval)
  }

  /** Finishes the request being handled (its reply is sent), sends DISCONNECT and closes the socket. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    clearInterval(this.timer)
    clearTimeout(this.reconnectTimer)
    await this.work
    const sock = this.socket
    this.socket = undefined
    if (sock === undefined || sock.closed) return
    this.post(sock, disconnect())
    sock.close()
  }
}
