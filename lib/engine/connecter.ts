/**
 * The connecting side of one `connect()` endpoint: dials, runs an engine
 * over each successful connection, and reconnects after a failure or a
 * disconnect (`reconnectInterval`, doubling up to `reconnectMaxInterval`).
 * It owns the pipe for the endpoint, which outlives single connections.
 */
import createDebug from "debug"
import type { Socket as NetSocket } from "node:net"
import type { Pipe } from "../pipe/pipe.js"
import type { Endpoint } from "../transports/address.js"
import { dial } from "../transports/stream.js"
import type { ConnectionEngine, EngineHost } from "./engine.js"

const debug = createDebug("omq:transport")

export interface ConnecterHost {
  /** Makes an engine for a fresh stream (mechanism, options, ...). */
  createEngine(stream: NetSocket, host: EngineHost, endpoint: string): ConnectionEngine
  /** Handshake done on a connection of this connecter; the host attaches the engine to a pipe, or returns false to refuse. */
  connecterReady(connecter: Connecter, engine: ConnectionEngine): boolean
  /** The connection ended (the connecter will retry unless stopped). */
  connecterDisconnected(connecter: Connecter, engine: ConnectionEngine, error: Error | undefined): void
  readonly reconnectInterval: number
  readonly reconnectMaxInterval: number
  /** ZMQ_CONNECT_TIMEOUT in ms (0: the OS decides). */
  readonly connectTimeout: number
  /** Applies per-connection options (keepalive, ...) to a new stream. */
  configureStream(stream: NetSocket): void
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
  private attempt: NetSocket | null = null
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
    const sock = dial(this.endpoint)
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
        sock.destroy()
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
    if (!this.host.connecterReady(this, engine)) engine.close(0)
  }

  engineClosed(engine: ConnectionEngine, error: Error | undefined): void {
    if (this.engine === engine) this.engine = null
    this.host.connecterDisconnected(this, engine, error)
    if (!this.stopped && this.host.reconnectInterval >= 0) this.scheduleRetry()
  }

  /** Stops reconnecting; closes the connection (after lingering when `lingerMs` ≠ 0). */
  stop(lingerMs: number): void {
    this.stopped = true
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timer = undefined
    this.attempt?.destroy()
    this.attempt = null
    this.engine?.close(lingerMs)
  }
}
