/**
 * The connecting side of one `connect()` endpoint: dials, runs an engine
 * over each successful connection, and reconnects after a failure or a
 * disconnect (`reconnectInterval`, doubling up to `reconnectMaxInterval`).
 * It owns the pipe for the endpoint, which outlives single connections.
 */
import { createDebug } from "../debug.js"
import type { Pipe } from "../pipe/pipe.js"
import type { ByteStream } from "./byte-stream.js"
import type { Endpoint } from "./transport.js"
import { holdLoop, releaseLoop } from "../engine/keepalive.js"
import type { ConnectionEngine, EngineHost } from "../engine/engine.js"

const debug = createDebug("omq:transport")

/** One connection attempt of a stream transport: 'connect' or 'error' follows. */
export interface DialedStream extends ByteStream {
  once(event: "connect", listener: () => void): unknown
  once(event: "error", listener: (err: Error) => void): unknown
  once(event: "end" | "close" | "drain" | "finish", listener: () => void): unknown
  off(event: "error", listener: (err: Error) => void): unknown
}

export interface ConnecterHost {
  /** Starts one connection attempt to the endpoint. */
  dial(): DialedStream
  /** Makes an engine for a fresh stream (mechanism, options, ...). */
  createEngine(stream: DialedStream, host: EngineHost, endpoint: string): ConnectionEngine
  /** Handshake done on a connection of this connecter; the host attaches the engine to a pipe, or returns false to refuse. */
  connecterReady(connecter: Connecter, engine: ConnectionEngine): boolean
  /** The connection ended (the connecter will retry unless stopped). */
  connecterDisconnected(connecter: Connecter, engine: ConnectionEngine, error: Error | undefined): void
  readonly reconnectInterval: number
  readonly reconnectMaxInterval: number
  /** ZMQ_CONNECT_TIMEOUT in ms (0: the OS decides). */
  readonly connectTimeout: number
  /** Applies per-connection options (keepalive, ...) to a new stream. */
  configureStream(stream: DialedStream): void
  emitEvent(type: string, data: Record<string, unknown>): void
}

export class Connecter implements EngineHost {
  engine: ConnectionEngine | null = null
  /** The endpoint's pipe (created by the socket on connect, unless `immediate`). */
  pipe: Pipe | null = null
  /** ZMQ_CONNECT_ROUTING_ID given to connect(): the id a ROUTER uses for this peer. */
  connectRoutingId: Buffer | undefined
  private timer: NodeJS.Timeout | undefined
  private stopped = false
  private attempt: DialedStream | null = null
  private currentInterval: number

  constructor(
    readonly endpoint: Endpoint,
    private readonly host: ConnecterHost,
  ) {
    this.currentInterval = host.reconnectInterval
  }

  get address(): string {
    return this.endpoint.raw
  }

  start(): void {
    this.dial()
  }

  private dial(): void {
    if (this.stopped) return
    this.timer = undefined
    const sock = this.host.dial()
    this.attempt = sock
    this.host.emitEvent("connect:delay", { address: this.address })
    let connectTimer: NodeJS.Timeout | undefined
    const onError = (err: Error) => {
      debug("connect %s failed: %s", this.address, err.message)
      if (connectTimer) clearTimeout(connectTimer)
      this.attempt = null
      sock.destroy()
      this.scheduleRetry()
    }
    sock.once("error", onError)
    if (this.host.connectTimeout > 0) {
      connectTimer = setTimeout(() => onError(new Error("connect timed out")), this.host.connectTimeout)
      connectTimer.unref()
    }
    sock.once("connect", () => {
      if (connectTimer) clearTimeout(connectTimer)
      sock.off("error", onError)
      this.host.configureStream(sock)
      this.attempt = null
      if (this.stopped) {
        forget(sock)
        return
      }
      this.currentInterval = this.host.reconnectInterval
      this.host.emitEvent("connect", { address: this.address })
      const engine = this.host.createEngine(sock, this, this.address)
      this.engine = engine
      engine.start()
    })
  }

  private scheduleRetry(): void {
    if (this.stopped || this.timer !== undefined) return
    const max = this.host.reconnectMaxInterval
    // As libzmq 4.3: with a maximum set, every interval (the first too) is capped by it.
    const interval = Math.max(0, max > 0 ? Math.min(this.currentInterval, max) : this.currentInterval)
    if (max > 0) this.currentInterval = Math.min(this.currentInterval * 2, max)
    this.host.emitEvent("connect:retry", { address: this.address, interval })
    this.timer = setTimeout(() => this.dial(), interval)
    this.timer.unref()
  }

  engineReady(engine: ConnectionEngine): void {
    if (this.lingerDeadline !== undefined && this.pipe !== null) {
      // The socket was closed while this connection was being made: deliver what it queued, then end.
      engine.attach(this.pipe)
      engine.close(this.lingerDeadline < 0 ? -1 : Math.max(1, this.lingerDeadline - Date.now()))
      return
    }
    if (!this.host.connecterReady(this, engine)) engine.close(0)
  }

  engineClosed(engine: ConnectionEngine, error: Error | undefined): void {
    if (this.engine === engine) this.engine = null
    this.host.connecterDisconnected(this, engine, error)
    if (this.lingerDeadline !== undefined) {
      // Lingering after close(): done once the queue is out, else try again.
      if (this.pipe === null || this.pipe.out.length === 0) this.endLinger()
      else if (this.host.reconnectInterval >= 0) this.scheduleRetry()
      else this.endLinger()
      return
    }
    if (!this.stopped && this.host.reconnectInterval >= 0) this.scheduleRetry()
  }

  /** While lingering after close(): -1 (no limit) or the time (ms) to give up; undefined otherwise. */
  private lingerDeadline: number | undefined
  private lingerTimer: NodeJS.Timeout | undefined

  /**
   * Stops reconnecting; closes the connection (after lingering when `lingerMs` ≠ 0).
   * Messages queued before the connection exists are still delivered within the linger
   * period, as libzmq does (a script that sends and exits must not lose them); the process
   * is kept alive for that long.
   */
  stop(lingerMs: number): void {
    const queued = this.pipe !== null && this.pipe.out.length > 0
    const handshaken = this.engine?.handshaken ?? false
    if (lingerMs !== 0 && queued && !handshaken && !this.stopped && this.lingerDeadline === undefined) {
      this.lingerDeadline = lingerMs < 0 ? -1 : Date.now() + lingerMs
      holdLoop()
      if (lingerMs < 0) {
        // Like zeromq.js, say why the process does not exit when this takes a while.
        this.lingerTimer = setTimeout(() => {
          process.emitWarning(
            `omq: a closed socket is still waiting to deliver queued messages to ${this.address} (linger -1). ` +
              "Set the socket's linger, or context.blocky = false, to not wait.",
          )
        }, 2000)
        this.lingerTimer.unref()
      } else {
        this.lingerTimer = setTimeout(() => {
          this.engine?.close(0)
          this.endLinger()
        }, lingerMs)
      }
      return
    }
    this.halt(lingerMs)
  }

  private endLinger(): void {
    if (this.lingerDeadline === undefined) return
    this.lingerDeadline = undefined
    if (this.lingerTimer !== undefined) clearTimeout(this.lingerTimer)
    this.lingerTimer = undefined
    releaseLoop()
    this.halt(0)
  }

  private halt(lingerMs: number): void {
    this.stopped = true
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timer = undefined
    if (this.attempt !== null) forget(this.attempt)
    this.attempt = null
    this.engine?.close(lingerMs)
  }
}

/**
 * Destroys a connection attempt and drops our listeners from it: its handle lives on until
 * libuv has closed it, and must not keep the socket (and its context) reachable meanwhile.
 */
function forget(sock: DialedStream): void {
  sock.destroy()
  sock.removeAllListeners()
  sock.on("error", () => {})
}
