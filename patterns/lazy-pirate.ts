/**
 * Lazy Pirate (ZeroMQ guide, "Client-Side Reliability"): a request-reply
 * client that does not hang when the server is down or loses a request.
 * Each request waits at most `timeout` ms for its reply and is sent again
 * up to `retries` times; after that request() rejects with EHOSTUNREACH.
 *
 * Instead of closing and reopening the REQ socket after a timeout (the
 * guide's original recipe), it uses REQ's `relaxed` + `correlate` options:
 * the socket may send again while a reply is outstanding, and a late reply
 * to an abandoned attempt is recognised by its request id and dropped.
 */
import { Request, type Context, type MessageLike } from "../lib/index.js"
import { ZmqError } from "../lib/entry/errors.js"

export interface LazyPirateOptions {
  /** ms to wait for each reply (default 2500). */
  timeout?: number
  /** Attempts after the first (default 3). */
  retries?: number
  /** Context for inproc endpoints (default: the shared one). */
  context?: Context
}

export class LazyPirateClient {
  private readonly socket: Request
  private readonly timeout: number
  private readonly retries: number
  private busy = false

  constructor(endpoints: string | string[], options: LazyPirateOptions = {}) {
    this.timeout = options.timeout ?? 2500
    this.retries = options.retries ?? 3
    this.socket = new Request({
      relaxed: true,
      correlate: true,
      linger: 0,
      receiveTimeout: this.timeout,
      ...(options.context ? { context: options.context } : {}),
    })
    for (const e of Array.isArray(endpoints) ? endpoints : [endpoints]) this.socket.connect(e)
  }

  /** Sends `message` and resolves with the reply; rejects with EHOSTUNREACH after every attempt timed out. */
  async request(message: MessageLike | MessageLike[]): Promise<Buffer[]> {
    if (this.busy) throw new ZmqError("EBUSY", "LazyPirateClient: one request at a time")
    this.busy = true
    try {
      for (let attempt = 0; attempt <= this.retries; attempt++) {
        await this.socket.send(message)
        try {
          return await this.socket.receive()
        } catch (err) {
          if ((err as ZmqError).code !== "EAGAIN" || this.socket.closed) throw err
          // No reply in time: send again (REQ is relaxed, the stale reply will be ignored).
        }
      }
      throw new ZmqError("EHOSTUNREACH", `No reply after ${this.retries + 1} attempts`)
    } finally {
      this.busy = false
    }
  }

  close(): void {
    this.socket.close()
  }
}
