/**
 * Follower: how a shared device (QueueDevice `shared`) serves while another device leads its
 * database. The queues live in one place, the leader's model (the log in PostgreSQL is written
 * by it alone), so a follower forwards: each client connection gets a DEALER of its own to the
 * leader, its requests go up that DEALER unchanged and what comes down (replies, deliveries) goes
 * back to the client. To the leader each forwarded client is an ordinary client: it holds its own
 * leases and subscriptions, and when the client, or the follower with all its clients, goes away,
 * the connection ends and the leader releases what it held at once (not at TTR). This is how
 * RabbitMQ serves a queue through any node of a cluster: the queue has one leader, other nodes
 * proxy to it.
 *
 * A client's path ends when its upstream does (the leader died, or moved): the follower then
 * ends the client's connection as well, so the client sees what it sees when its own device
 * restarts (requests in flight fail with DISCONNECTED, subscriptions are renewed on reconnect),
 * and the next requests go up a new DEALER to whichever device leads by then. Where the leader
 * listens is polled from the database (omq_leader, current only while its lock is held).
 */
import { createDebug } from "../../../debug.js"
import { Dealer } from "../../../sockets/dealer.js"
import type { Router } from "../../../sockets/router.js"
import type { SocketOptions } from "../../../sockets/types.js"
import { PING } from "./protocol.js"

const debug = createDebug("omq:queue:follower")

export interface FollowerOptions {
  /** Where the leader listens now (undefined: none known). */
  lookup: () => Promise<string | undefined>
  /** Options of a client's upstream DEALER: the security the leader expects, for that client's identity. */
  upstreamOptions: (addr: Buffer) => SocketOptions<Dealer>
  /** How often to ask where the leader is (ms). */
  pollMs: number
  /** An upstream not connected by then ends its client's connection (the leader was gone), ms. */
  connectTimeoutMs: number
}

/** One client's way to the leader. */
class Upstream {
  connected = false
  closed = false
  timer: NodeJS.Timeout | undefined
  constructor(
    readonly addr: Buffer,
    readonly key: string,
    readonly dealer: Dealer,
    public endpoint: string | undefined,
  ) {}
}

export class Follower {
  /** Where the leader listens, as last looked up. */
  leader: string | undefined
  private readonly ups = new Map<string, Upstream>()
  private poller: NodeJS.Timeout | undefined
  private stopped = false
  private looking = false

  constructor(
    private readonly router: Router,
    private readonly o: FollowerOptions,
  ) {}

  /** Starts looking up the leader (now, then every pollMs). */
  start(): Promise<void> {
    const tick = async () => {
      await this.poll()
      if (!this.stopped) {
        this.poller = setTimeout(() => void tick(), this.o.pollMs)
        this.poller.unref()
      }
    }
    return tick()
  }

  /** Clients being forwarded. */
  get clients(): number {
    return this.ups.size
  }

  private async poll(): Promise<void> {
    if (this.looking || this.stopped) return
    this.looking = true
    let leader: string | undefined
    try {
      leader = await this.o.lookup()
    } catch (err) {
      debug("leader lookup failed: %s", (err as Error).message)
      leader = this.leader // the database is away: keep what was known (upstreams fail by themselves)
    } finally {
      this.looking = false
    }
    if (this.stopped || leader === this.leader) return
    debug("leader: %s", leader ?? "(none)")
    this.leader = leader
    for (const up of [...this.ups.values()]) {
      if (up.endpoint === undefined && leader !== undefined) {
        up.endpoint = leader
        up.dealer.connect(leader)
      } else if (up.endpoint !== undefined && up.endpoint !== leader) this.end(up, true)
    }
  }

  /** Forwards a request from a client ([routing id, command, request id, ...]) to the leader. */
  forward(frames: Buffer[]): void {
    if (frames.length < 2) return // a routing id alone: nothing to forward (the leader would drop it too)
    const addr = frames[0]!
    const key = addr.toString("latin1")
    const up = this.ups.get(key) ?? this.open(Buffer.from(addr), key)
    frames.shift()
    // Pipelined: the DEALER queues without bound (HWM 0) until it is connected; the client's own
    // window bounds what one client has in flight.
    // Owned: frames received are not reused, so they are queued without a copy.
    try {
      up.dealer.sendOwned(frames).then(undefined, () => undefined)
    } catch {
      this.end(up, true) // closed under us: the client comes back to what serves next
    }
  }

  private open(addr: Buffer, key: string): Upstream {
    const dealer = new Dealer({
      // A dead leader's host is noticed by missing heartbeats, not only by a reset connection.
      heartbeatInterval: 2000,
      heartbeatTimeout: 6000,
      ...this.o.upstreamOptions(addr),
      sendHighWaterMark: 0,
      receiveHighWaterMark: 0,
      linger: 0,
    })
    const up = new Upstream(addr, key, dealer, this.leader)
    this.ups.set(key, up)
    dealer.onConnectionEvent((type) => {
      if (type === "handshake") {
        up.connected = true
        if (up.timer !== undefined) clearTimeout(up.timer)
      } else if (type === "disconnect") this.end(up, true)
    })
    up.timer = setTimeout(() => {
      if (!up.connected) {
        debug("no leader reached for client %s in %d ms", addr.toString("hex"), this.o.connectTimeoutMs)
        this.end(up, true)
      }
    }, this.o.connectTimeoutMs)
    up.timer.unref()
    if (up.endpoint !== undefined) dealer.connect(up.endpoint)
    void this.pump(up)
    return up
  }

  /** Replies and deliveries from the leader go back to the client. */
  private async pump(up: Upstream): Promise<void> {
    for (;;) {
      let frames: Buffer[]
      try {
        frames = await up.dealer.receive()
      } catch {
        return // closed
      }
      if (up.closed || this.router.closed) return
      frames.unshift(up.addr)
      void this.router.sendOwned(frames)
    }
  }

  /** Closes a client's upstream; with `dropClient` also the client's connection (its path to the queues is gone). */
  private end(up: Upstream, dropClient: boolean): void {
    if (up.closed) return
    up.closed = true
    if (up.timer !== undefined) clearTimeout(up.timer)
    if (this.ups.get(up.key) === up) this.ups.delete(up.key)
    up.dealer.close()
    if (dropClient && !this.router.closed) this.router.dropPeer(up.addr)
  }

  /** After a client disconnect: which clients are gone? Their upstreams close, so the leader releases what they held. */
  probe(): void {
    const r = this.router
    if (r.closed) return
    r.mandatory = true
    try {
      for (const up of this.ups.values()) r.sendPipelined([up.addr, PING]).then(undefined, () => this.end(up, false))
    } finally {
      r.mandatory = false
    }
  }

  /** Stops forwarding: every upstream closes and every forwarded client is disconnected (it reconnects to what serves next). */
  stop(): void {
    this.stopped = true
    if (this.poller !== undefined) clearTimeout(this.poller)
    for (const up of [...this.ups.values()]) this.end(up, true)
  }
}
