/**
 * Proxy (zeromq.js API): moves whole messages from the front-end socket to
 * the back-end and, where both can, back again. `run()` resolves when the
 * proxy was terminated; both sockets are then closed, as in zeromq.js.
 * An optional capture socket gets a copy of every message (as zmq_proxy).
 */
import { ZmqError, errClosed } from "../errors.js"
import { Socket } from "../sockets/socket.js"

interface Receiving {
  receive(): Promise<Buffer[]>
}
interface Sending {
  send(message: Buffer[]): Promise<void>
}

function canReceive(s: unknown): s is Receiving {
  return typeof (s as Receiving).receive === "function"
}
function canSend(s: unknown): s is Sending {
  return typeof (s as Sending).send === "function"
}

export interface ProxyOptions {
  /** A socket (PUB, PUSH, PAIR, DEALER...) that receives a copy of every proxied message. */
  capture?: Socket & Sending
}

export class Proxy<F extends Socket = Socket, B extends Socket = Socket> {
  private paused: Promise<void> | null = null
  private resumePaused: (() => void) | null = null
  private running = false
  private terminated = false
  readonly frontEnd: F
  readonly backEnd: B
  private readonly options: ProxyOptions

  /**
   * @param frontEnd the socket clients talk to (ROUTER, XSUB, PULL, ...)
   * @param backEnd the socket workers talk to (DEALER, XPUB, PUSH, ...)
   * @param options omq's addition: `{ capture }`, a socket that gets a copy of every message.
   */
  constructor(frontEnd: F, backEnd: B, options?: ProxyOptions) {
    if (typeof frontEnd !== "object" || frontEnd === null) throw new TypeError("Front-end must be a socket object")
    if (typeof backEnd !== "object" || backEnd === null) throw new TypeError("Back-end must be a socket object")
    // zeromq.js takes exactly two sockets; a third argument is accepted only as omq's options.
    if (arguments.length > 2 && (typeof options !== "object" || options === null || options instanceof Socket)) {
      throw new TypeError(`Expected 2 arguments but received ${arguments.length}`)
    }
    if (!(frontEnd instanceof Socket) || !(backEnd instanceof Socket)) throw new ZmqError("EINVAL", "Invalid argument")
    this.frontEnd = frontEnd
    this.backEnd = backEnd
    this.options = options ?? {}
  }

  /**
   * Proxies until terminate(); then closes both sockets and resolves. Rejects with EINVAL
   * when an end is neither bound nor connected (or is closed), as zeromq.js.
   */
  async run(): Promise<void> {
    if (this.running) throw new ZmqError("EBUSY", "Proxy is already running")
    if (this.frontEnd.closed || this.frontEnd.endpoints === 0) {
      throw new ZmqError("EINVAL", "Front-end socket must be bound or connected")
    }
    if (this.backEnd.closed || this.backEnd.endpoints === 0) {
      throw new ZmqError("EINVAL", "Back-end socket must be bound or connected")
    }
    if (this.terminated) throw errClosed()
    this.running = true
    const pumps: Promise<void>[] = []
    if (canReceive(this.frontEnd) && canSend(this.backEnd)) pumps.push(this.pump(this.frontEnd, this.backEnd))
    if (canReceive(this.backEnd) && canSend(this.frontEnd)) pumps.push(this.pump(this.backEnd, this.frontEnd))
    if (pumps.length === 0) throw new ZmqError("EINVAL", "Proxy sockets cannot exchange messages")
    try {
      await Promise.all(pumps)
    } finally {
      this.frontEnd.close()
      this.backEnd.close()
      this.running = false
    }
  }

  /** zeromq.js: pause/resume/terminate need a running proxy (EBADF "Socket is closed" otherwise). */
  private checkRunning(): void {
    if (!this.running || this.terminated) throw errClosed()
  }

  /** Suspends proxying (messages stay queued in the sockets, subject to their HWM). */
  pause(): void {
    this.checkRunning()
    if (this.paused !== null) return
    this.paused = new Promise((resolve) => (this.resumePaused = resolve))
  }

  /** Resumes after pause(). */
  resume(): void {
    this.checkRunning()
    this.unpause()
  }

  private unpause(): void {
    const r = this.resumePaused
    this.paused = null
    this.resumePaused = null
    r?.()
  }

  /** Stops the proxy; run() then closes both sockets and resolves. */
  terminate(): void {
    this.checkRunning()
    this.terminated = true
    this.unpause()
    // Closing ends the pending receive() calls with EAGAIN, which ends the pumps.
    this.frontEnd.close()
    this.backEnd.close()
  }

  private async pump(from: Socket & Receiving, to: Socket & Sending): Promise<void> {
    const capture = this.options.capture
    while (!this.terminated) {
      let msg: Buffer[]
      try {
        msg = await from.receive()
      } catch (err) {
        if (this.terminated || from.closed) return
        throw err
      }
      if (this.paused !== null) await this.paused
      if (this.terminated) return
      if (capture !== undefined && !capture.closed) await capture.send(msg).catch(() => undefined)
      try {
        await to.send(msg)
      } catch (err) {
        if (this.terminated || to.closed) return
        // EHOSTUNREACH and the like drop this message only.
        if ((err as ZmqError).code === "EHOSTUNREACH") continue
        throw err
      }
    }
  }
}
