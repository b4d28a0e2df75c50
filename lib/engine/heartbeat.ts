/**
 * ZMTP 3.1 heartbeats (RFC 37, PING/PONG) for one connection: PING every
 * `interval` ms and drop the peer if nothing at all arrives within
 * `timeout` ms of a PING; and honour the TTL a peer puts in its own PINGs.
 * The engine reports received traffic with `traffic()`; any bytes count.
 */
export interface HeartbeatOptions {
  /** ms between PINGs (0: none). */
  interval: number
  /** ms to wait for traffic after a PING (-1: the interval). */
  timeout: number
  /** ms the peer should wait for traffic from us, sent in our PINGs (0: none). */
  timeToLive: number
}

export class Heartbeat {
  /** Time (ms) of the last bytes received; only kept up to date while `tracking`. */
  private lastRecv = 0
  /** True once heartbeats or a peer TTL need the time of received traffic. */
  tracking = false
  private pingTimer: NodeJS.Timeout | undefined
  private pingTimeoutTimer: NodeJS.Timeout | undefined
  private ttlTimer: NodeJS.Timeout | undefined

  constructor(
    private readonly options: HeartbeatOptions,
    /** Sends a PING with this TTL (deciseconds). */
    private readonly sendPing: (ttlDeciseconds: number) => void,
    /** The peer is silent: drop the connection. */
    private readonly expired: (why: string) => void,
  ) {}

  /** Bytes arrived from the peer. */
  traffic(): void {
    this.lastRecv = Date.now()
  }

  /** Starts PINGing (if an interval is set). */
  start(): void {
    const ivl = this.options.interval
    if (ivl <= 0) return
    this.track()
    const timeout = this.options.timeout >= 0 ? this.options.timeout : ivl
    const ttl = Math.min(0xffff, Math.round(this.options.timeToLive / 100))
    this.pingTimer = setInterval(() => {
      const sentAt = Date.now()
      this.sendPing(ttl)
      if (this.pingTimeoutTimer === undefined && timeout > 0) {
        this.pingTimeoutTimer = setTimeout(() => {
          this.pingTimeoutTimer = undefined
          if (this.lastRecv < sentAt) this.expired("no traffic after PING")
        }, timeout)
        this.pingTimeoutTimer.unref()
      }
    }, ivl)
    this.pingTimer.unref()
  }

  /** The peer's PING says: drop the connection if nothing arrives within `ttlMs`. */
  peerTtl(ttlMs: number): void {
    if (this.ttlTimer !== undefined) return
    this.track()
    const check = (): void => {
      const idle = Date.now() - this.lastRecv
      if (idle >= ttlMs) {
        this.ttlTimer = undefined
        this.expired("peer's heartbeat TTL expired")
        return
      }
      this.ttlTimer = setTimeout(check, ttlMs - idle)
      this.ttlTimer.unref()
    }
    this.ttlTimer = setTimeout(check, ttlMs)
    this.ttlTimer.unref()
  }

  stop(): void {
    if (this.pingTimer) clearInterval(this.pingTimer)
    if (this.pingTimeoutTimer) clearTimeout(this.pingTimeoutTimer)
    if (this.ttlTimer) clearTimeout(this.ttlTimer)
    this.pingTimer = this.pingTimeoutTimer = this.ttlTimer = undefined
  }

  private track(): void {
    if (this.tracking) return
    this.tracking = true
    this.lastRecv = Date.now()
  }
}
