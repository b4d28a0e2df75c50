/**
 * MajordomoClient: an MDP/0.2 client (ZeroMQ RFC 18) on a DEALER socket, with the RFC's
 * recommended recovery: wait `timeout` ms for a reply, send the request again up to `retries`
 * times, then fail with EHOSTUNREACH.
 *
 * MDP/Client is a strictly synchronous dialog, so requests made while one is outstanding wait
 * their turn. A request is sent again on the same socket (the broker replaces the copy still
 * queued: it keeps one request per client); once an answer was retried, or failed, the socket
 * is replaced by a new one (a new identity), so that a late reply to it can never be taken for
 * the reply to the next request. Replies for another service are ignored.
 *
 * `replies()` yields each PARTIAL and then the FINAL; a request that got a PARTIAL is not sent
 * again (that could repeat the partials): a timeout after one fails at once.
 */
import type { Context } from "../../context.js"
import { ZmqError } from "../../errors.js"
import { toMessage, type MessageLike } from "../../message.js"
import { Dealer } from "../../sockets/dealer.js"
import { clientRequest, parseClientInbound } from "./protocol.js"

export interface MajordomoClientOptions {
  /** ms to wait for each reply (and between PARTIALs) before sending again (default 2500). */
  timeout?: number
  /** Attempts after the first (default 3). */
  retries?: number
  /** Context for inproc endpoints (default: the shared one). */
  context?: Context
}

const isTimeout = (err: unknown): boolean => (err as { code?: unknown } | null)?.code === "EAGAIN"

export class MajordomoClient {
  private socket: Dealer
  private readonly endpoints: string[]
  private readonly timeout: number
  private readonly retries: number
  /** Settles when the request before the next one is done (requests take turns). */
  private turn: Promise<void> = Promise.resolve()
  private closed = false

  /** Connects to the broker at `endpoints` (several: one socket connected to each, round-robin). */
  constructor(
    endpoints: string | string[],
    private readonly options: MajordomoClientOptions = {},
  ) {
    this.endpoints = Array.isArray(endpoints) ? endpoints : [endpoints]
    this.timeout = options.timeout ?? 2500
    this.retries = options.retries ?? 3
    this.socket = this.open()
  }

  private open(): Dealer {
    const sock = new Dealer({ linger: 0, sendTimeout: 0, ...(this.options.context ? { context: this.options.context } : {}) })
    for (const e of this.endpoints) sock.connect(e)
    return sock
  }

  /** A new socket, so nothing sent on the old one can answer a later request. */
  private renew(): void {
    this.socket.close()
    if (!this.closed) this.socket = this.open()
  }

  /**
   * Sends `body` to `service` and resolves with the body of its FINAL reply (PARTIALs are
   * skipped). Rejects with EHOSTUNREACH when every attempt timed out.
   */
  async request(service: string, ...body: MessageLike[]): Promise<Buffer[]> {
    let final: Buffer[] = []
    for await (const reply of this.replies(service, ...body)) final = reply
    return final
  }

  /** Sends `body` to `service` and yields the body of each PARTIAL reply and then of the FINAL one. */
  async *replies(service: string, ...body: MessageLike[]): AsyncGenerator<Buffer[], void, undefined> {
    if (this.closed) throw new ZmqError("EBADF", "MajordomoClient is closed")
    const request = clientRequest(service, toMessage(body))
    const previous = this.turn
    let done!: () => void
    this.turn = new Promise((resolve) => (done = resolve))
    await previous
    // False until the dialog ended as it should: a consumer that stops iterating early leaves
    // replies on their way, so the socket is replaced then too.
    let settled = false
    try {
      let partials = 0
      for (let attempt = 0; attempt <= this.retries && (attempt === 0 || partials === 0); attempt++) {
        if (this.closed) break
        const sock = this.socket
        try {
          await sock.send(request)
        } catch (err) {
          if (!isTimeout(err)) throw err // EAGAIN: the pipe is full; wait as if it had been sent
        }
        for (let deadline = Date.now() + this.timeout; ;) {
          const left = deadline - Date.now()
          if (left <= 0) break
          sock.receiveTimeout = left
          let frames: Buffer[]
          try {
            frames = await sock.receive()
          } catch (err) {
            if (isTimeout(err) || sock.closed) break
            throw err
          }
          const reply = parseClientInbound(frames)
          if (reply === undefined || reply.service !== service) continue
          if (reply.kind === "partial") {
            partials++
            deadline = Date.now() + this.timeout
            yield reply.body
            continue
          }
          settled = true
          if (attempt > 0) this.renew()
          yield reply.body
          return
        }
      }
      settled = true
      this.renew()
      if (this.closed) throw new ZmqError("EBADF", "MajordomoClient is closed")
      throw new ZmqError("EHOSTUNREACH", `No reply from ${service} after ${partials > 0 ? "a partial reply" : `${this.retries + 1} attempts`}`)
    } finally {
      if (!settled) this.renew()
      done()
    }
  }

  /** Closes the socket; a request in progress fails with EBADF. */
  close(): void {
    if (this.closed) return
    this.closed = true
    this.socket.close()
  }
}
