/**
 * MajordomoBroker: the MDP/0.2 broker (ZeroMQ RFC 18; RFC 7 is its 0.1 predecessor) on one
 * ROUTER socket for clients and workers alike, with the MMI service `mmi.service` (RFC 8).
 *
 * - Requests are queued per service, in arrival order, while no worker of it is idle, and are
 *   dropped after `requestExpiry` ms without one. A client has at most one queued request: a new
 *   REQUEST from the same client replaces the one still waiting (RFC 7: "no more than one
 *   outstanding request per client will be queued"; a client that retried wants the retry).
 * - Idle workers of a service are used least recently used first; a worker has one request at
 *   a time.
 * - Liveness: every message from a worker counts as a heartbeat; a worker silent for
 *   `liveness` × `heartbeatInterval` ms is dropped, and the request it held is queued again at
 *   the head of its service's queue for the next worker (given to at most `maxAttempts` workers).
 *   Each `heartbeatInterval`, the broker sends HEARTBEAT to every worker it sent nothing else
 *   to in the last half interval.
 * - A worker's DISCONNECT drops it and the request it held (the worker gave up on it: a retry
 *   is the client's call). A READY from a registered worker, a reply for a client it is not
 *   serving, an `mmi.` service, or an invalid MDPW02 command: DISCONNECT and dropped (RFC 7:
 *   "valid but unexpected command"). Any MDPW02 command but READY and DISCONNECT from a worker the
 *   broker does not know (it expired, or the broker restarted) is answered with DISCONNECT, so
 *   the worker registers anew.
 * - Anything else that is not MDP is dropped without a reply.
 */
import { createDebug } from "../../debug.js"
import { Router } from "../../sockets/router.js"
import type { Context } from "../../context.js"
import { MMI_PREFIX, clientReply, disconnect, heartbeat, parseBrokerInbound, workerRequest, type BrokerInbound } from "./protocol.js"

const debug = createDebug("omq:majordomo")

export interface MajordomoBrokerOptions {
  /** ms between heartbeats to each worker; workers must use the same (default 2500). */
  heartbeatInterval?: number
  /** Heartbeat intervals a worker may stay silent before it is dropped (default 3). */
  liveness?: number
  /** ms a request waits in its service's queue for a worker before it is dropped; 0: no limit (default 60000). */
  requestExpiry?: number
  /** Workers a request is given to at most, when the ones it was given to vanish (default 3). */
  maxAttempts?: number
  /** Context for inproc endpoints (default: the shared one). */
  context?: Context
}

/** What `stats()` reports per service. */
export interface MajordomoServiceStats {
  /** Registered workers. */
  workers: number
  /** Of those, waiting for a request. */
  idle: number
  /** Requests waiting for a worker. */
  queued: number
}

interface Request {
  readonly client: Buffer
  readonly clientKey: string
  readonly service: Service
  readonly serviceFrame: Buffer
  readonly body: Buffer[]
  expires: number
  attempts: number
}

interface Worker {
  readonly id: Buffer
  readonly key: string
  readonly service: Service
  /** ms since the epoch after which the worker counts as gone. */
  expiry: number
  /** When the broker last sent it anything. */
  lastSent: number
  current: Request | undefined
}

interface Service {
  readonly name: string
  readonly requests: Request[]
  /** Idle workers, least recently used first. */
  readonly idle: Worker[]
  readonly workers: Set<Worker>
}

const key = (id: Buffer): string => id.toString("latin1")

export class MajordomoBroker {
  /** The ROUTER clients and workers connect to. */
  readonly socket: Router
  private readonly heartbeatInterval: number
  private readonly liveness: number
  private readonly requestExpiry: number
  private readonly maxAttempts: number
  private readonly services = new Map<string, Service>()
  private readonly workers = new Map<string, Worker>()
  /** The request each client has waiting in a queue (a client has one at most). */
  private readonly queuedByClient = new Map<string, Request>()
  private timer: NodeJS.Timeout | undefined
  private loop: Promise<void> | undefined

  constructor(options: MajordomoBrokerOptions = {}) {
    this.heartbeatInterval = options.heartbeatInterval ?? 2500
    this.liveness = options.liveness ?? 3
    this.requestExpiry = options.requestExpiry ?? 60_000
    this.maxAttempts = options.maxAttempts ?? 3
    // Nothing is held back for a peer: a ROUTER that is not `mandatory` drops what it cannot route.
    this.socket = new Router({ linger: 500, ...(options.context ? { context: options.context } : {}) })
  }

  /** Binds the ROUTER (more than once for more endpoints) and starts brokering on the first bind. */
  async bind(address: string): Promise<void> {
    await this.socket.bind(address)
    if (this.loop !== undefined) return
    this.timer = setInterval(() => this.tick(), this.heartbeatInterval)
    this.loop = this.receiveLoop()
  }

  /** The endpoint bound last (with the port the OS chose for `*`). */
  get lastEndpoint(): string | null {
    return this.socket.lastEndpoint
  }

  /** Workers and queued requests per service. */
  stats(): Record<string, MajordomoServiceStats> {
    const out: Record<string, MajordomoServiceStats> = {}
    for (const s of this.services.values()) out[s.name] = { workers: s.workers.size, idle: s.idle.length, queued: s.requests.length }
    return out
  }

  /** Stops brokering and closes the ROUTER. Queued requests are dropped. */
  close(): void {
    clearInterval(this.timer)
    if (!this.socket.closed) this.socket.close()
  }

  private async receiveLoop(): Promise<void> {
    try {
      for await (const frames of this.socket) {
        const id = frames[0]!
        const cmd = parseBrokerInbound(frames.slice(1))
        if (cmd === undefined) debug("broker: dropped a message that is not MDP/0.2 (%d frames)", frames.length)
        else this.handle(id, cmd)
      }
    } catch (err) {
      if (!this.socket.closed) debug("broker: receive failed: %s", (err as Error).message)
    }
  }

  private send(to: Buffer, frames: Buffer[]): void {
    // A ROUTER that is not `mandatory` never waits: the message is queued for the peer or dropped.
    this.socket.sendPipelined([to, ...frames]).catch((err: Error) => debug("broker: send failed: %s", err.message))
  }

  private handle(id: Buffer, cmd: BrokerInbound): void {
    if (cmd.kind === "request") {
      this.onRequest(id, cmd.service, cmd.serviceFrame, cmd.body)
      return
    }
    const worker = this.workers.get(key(id))
    if (worker !== undefined && cmd.kind !== "disconnect") worker.expiry = Date.now() + this.heartbeatInterval * this.liveness
    switch (cmd.kind) {
      case "ready":
        if (worker !== undefined || cmd.service.startsWith(MMI_PREFIX)) {
          debug("broker: READY %s from %s refused", cmd.service, worker ? "a registered worker" : "a worker")
          if (worker !== undefined) this.dropWorker(worker, true)
          else this.send(id, disconnect())
          return
        }
        this.register(id, cmd.service)
        return
      case "partial":
      case "final": {
        if (worker === undefined) return this.send(id, disconnect())
        const req = worker.current
        if (req === undefined || !req.client.equals(cmd.client)) return this.dropWorker(worker, true)
        this.send(req.client, clientReply(cmd.kind === "final", req.serviceFrame, cmd.body))
        if (cmd.kind === "final") {
          worker.current = undefined
          worker.service.idle.push(worker)
          this.dispatch(worker.service)
        }
        return
      }
      case "heartbeat":
        if (worker === undefined) this.send(id, disconnect())
        return
      case "disconnect":
        if (worker !== undefined) this.dropWorker(worker, false, false)
        return
      case "invalid-worker":
        debug("broker: invalid MDP/Worker command")
        if (worker !== undefined) this.dropWorker(worker, true)
        else this.send(id, disconnect())
        return
    }
  }

  private service(name: string): Service {
    let s = this.services.get(name)
    if (s === undefined) {
      s = { name, requests: [], idle: [], workers: new Set() }
      this.services.set(name, s)
    }
    return s
  }

  private onRequest(client: Buffer, name: string, serviceFrame: Buffer, body: Buffer[]): void {
    if (name.startsWith(MMI_PREFIX)) return this.mmi(client, name, serviceFrame, body)
    const clientKey = key(client)
    const earlier = this.queuedByClient.get(clientKey)
    if (earlier !== undefined) this.unqueue(earlier)
    const service = this.service(name)
    const req: Request = { client, clientKey, service, serviceFrame, body, expires: this.expiresAt(), attempts: 0 }
    service.requests.push(req)
    this.queuedByClient.set(clientKey, req)
    this.dispatch(service)
  }

  /** RFC 8: `mmi.service` answers 200 if the service named in the body has a worker, else 404; other `mmi.` names 501. */
  private mmi(client: Buffer, name: string, serviceFrame: Buffer, body: Buffer[]): void {
    let status = "501"
    if (name === "mmi.service") status = (this.services.get(body[0]!.toString("utf8"))?.workers.size ?? 0) > 0 ? "200" : "404"
    this.send(client, clientReply(true, serviceFrame, [Buffer.from(status)]))
  }

  private expiresAt(): number {
    return this.requestExpiry > 0 ? Date.now() + this.requestExpiry : Infinity
  }

  private register(id: Buffer, name: string): void {
    const service = this.service(name)
    const now = Date.now()
    const worker: Worker = {
      id,
      key: key(id),
      service,
      expiry: now + this.heartbeatInterval * this.liveness,
      lastSent: now,
      current: undefined,
    }
    this.workers.set(worker.key, worker)
    service.workers.add(worker)
    service.idle.push(worker)
    debug("broker: worker for %s registered (%d)", name, service.workers.size)
    this.dispatch(service)
  }

  /** Gives queued requests to idle workers, oldest request to the least recently used worker. */
  private dispatch(service: Service): void {
    while (service.idle.length > 0 && service.requests.length > 0) {
      const worker = service.idle.shift()!
      const req = service.requests.shift()!
      if (this.queuedByClient.get(req.clientKey) === req) this.queuedByClient.delete(req.clientKey)
      req.attempts++
      worker.current = req
      worker.lastSent = Date.now()
      this.send(worker.id, workerRequest(req.client, req.body))
    }
  }

  private unqueue(req: Request): void {
    const list = req.service.requests
    const i = list.indexOf(req)
    if (i >= 0) list.splice(i, 1)
    if (this.queuedByClient.get(req.clientKey) === req) this.queuedByClient.delete(req.clientKey)
  }

  /** Forgets a worker; its request goes back to the head of the queue unless told otherwise (or it had its attempts). */
  private dropWorker(worker: Worker, sendDisconnect: boolean, requeue = true): void {
    this.workers.delete(worker.key)
    const service = worker.service
    service.workers.delete(worker)
    const i = service.idle.indexOf(worker)
    if (i >= 0) service.idle.splice(i, 1)
    if (sendDisconnect) this.send(worker.id, disconnect())
    const req = worker.current
    worker.current = undefined
    if (req === undefined || !requeue) return
    // A newer request of the same client, or one given to enough workers, is not brought back.
    if (req.attempts >= this.maxAttempts || this.queuedByClient.has(req.clientKey)) {
      debug("broker: request for %s dropped with its worker", service.name)
      return
    }
    req.expires = this.expiresAt()
    service.requests.unshift(req)
    this.queuedByClient.set(req.clientKey, req)
    this.dispatch(service)
  }

  /** Every heartbeat interval: drops silent workers and expired requests, sends heartbeats. */
  private tick(): void {
    const now = Date.now()
    for (const worker of [...this.workers.values()]) {
      if (worker.expiry <= now) {
        debug("broker: worker for %s expired", worker.service.name)
        this.dropWorker(worker, false)
      } else if (now - worker.lastSent >= this.heartbeatInterval / 2) {
        // Half an interval, not a whole one: timers drift, and a heartbeat skipped at one tick
        // would leave the worker two intervals without one.
        worker.lastSent = now
        this.send(worker.id, heartbeat())
      }
    }
    for (const service of this.services.values()) {
      // Not strictly ordered by expiry: a requeued request goes back to the head with a new one.
      if (service.requests.some((r) => r.expires <= now)) for (const req of service.requests.filter((r) => r.expires <= now)) this.unqueue(req)
      if (service.workers.size === 0 && service.requests.length === 0) this.services.delete(service.name)
    }
  }
}
