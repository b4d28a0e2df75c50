/**
 * Titanic (ZeroMQ RFC 9, the Titanic Service Protocol): disconnected, persistent request-reply
 * on top of Majordomo. To clients it is three MDP services on the broker; to the real services
 * it is an MDP client; in between, the durable queue's store (titanic-store.ts over FileBackend).
 *
 * - `titanic.request` [service, body…] → ["200", uuid] once the request is on disk (with fsync
 *   "always", the default: after the fdatasync that covers it), so a client that has its UUID
 *   can forget the request; a crash of Titanic, even kill -9, does not lose it.
 * - `titanic.reply` [uuid] → ["200", reply…] when the reply is stored (idempotent: the same
 *   answer each time, until closed); ["300"] while the request waits; ["400"] for a UUID that
 *   is not known (never was, or closed).
 * - `titanic.close` [uuid] → ["200"] once the request and its reply are removed from disk
 *   (also for a UUID that is not known, as the RFC asks).
 * - Errors of the store: ["500 …"]; the client should retry later.
 *
 * Dispatch: each stored request without a reply is sent to its service through the broker,
 * `concurrency` at a time. Before sending, `mmi.service` (RFC 8) asks the broker whether the
 * service has a worker; if not, or if no reply came within `requestTimeout`, the request is
 * tried again after `retryInterval`, for as long as it is stored (and the service's other
 * requests wait with it, without asking the broker each). The reply (the FINAL;
 * PARTIALs are not kept) is stored first, then the request removed; if Titanic dies between the
 * two writes, the next start finds both and removes the request without sending it again. So a
 * request is dispatched until a reply is stored, and not after. Its *execution* may still be
 * repeated: when the service answers later than `requestTimeout` (the request is sent again),
 * or when Titanic dies after sending it and before storing the reply. MDP assumes idempotent
 * workers.
 */
import type { Context } from "../../context.js"
import { createDebug } from "../../debug.js"
import type { MessageLike } from "../../message.js"
import { MajordomoClient } from "../../patterns/majordomo/client.js"
import { isServiceName } from "../../patterns/majordomo/protocol.js"
import { MajordomoWorker, type MajordomoWorkerOptions } from "../../patterns/majordomo/worker.js"
import type { FsyncPolicy } from "./journal/store.js"
import { openDeviceStore } from "./device-store.js"
import { TitanicStore, type StoredRequest } from "./titanic-store.js"

const debug = createDebug("omq:titanic")

export interface TitanicOptions {
  /** The Majordomo broker's endpoint. */
  broker: string
  /** The store's directory (locked while Titanic runs). */
  dir: string
  /** Default "always": a request is on disk before its UUID is returned. */
  fsync?: FsyncPolicy
  /** ms to wait for a service's reply before the request is tried again later (default 10000). */
  requestTimeout?: number
  /** ms before a request whose service is absent, or did not answer, is tried again (default 1000). */
  retryInterval?: number
  /** Requests sent to services at once, at most (default 4). */
  concurrency?: number
  /** Heartbeating of Titanic's three MDP workers: must match the broker (defaults as MajordomoWorker's). */
  heartbeatInterval?: number
  liveness?: number
  reconnectInterval?: number
  /** Context for inproc endpoints (default: the shared one). */
  context?: Context
}

/** What `stats()` reports. */
export interface TitanicStats {
  /** Requests stored without a reply. */
  requests: number
  /** Replies stored (until titanic.close). */
  replies: number
  /** Requests being sent to their service right now. */
  dispatching: number
}

const UUID = /^[0-9a-fA-F]{32}$/

export class Titanic {
  private readonly workers: MajordomoWorker[] = []
  private readonly idleClients: MajordomoClient[] = []
  private readonly allClients: MajordomoClient[] = []
  private readonly waiting: StoredRequest[] = []
  /**
   * Requests waiting for another try, by service: one timer per service, and while it runs the
   * service counts as absent (its other requests join without asking the broker), so that many
   * requests for a service that is down cost one `mmi.service` per retryInterval, not one each.
   */
  private readonly parked = new Map<string, { requests: StoredRequest[]; timer: NodeJS.Timeout }>()
  private readonly active = new Set<Promise<void>>()
  private readonly retryInterval: number
  private closing = false

  private constructor(
    private readonly store: TitanicStore,
    private readonly options: TitanicOptions,
  ) {
    this.retryInterval = options.retryInterval ?? 1000
    const clientOptions = { timeout: options.requestTimeout ?? 10_000, retries: 0, ...(options.context ? { context: options.context } : {}) }
    for (let i = 0; i < (options.concurrency ?? 4); i++) this.allClients.push(new MajordomoClient(options.broker, clientOptions))
    this.idleClients.push(...this.allClients)
  }

  /**
   * Opens the store (recovering what an earlier run left: its requests are dispatched again),
   * then registers titanic.request, titanic.reply and titanic.close with the broker. Throws
   * QueueStoreError LOCKED if another process has the directory.
   */
  static async start(options: TitanicOptions): Promise<Titanic> {
    const backend = openDeviceStore(options.dir, options.fsync)
    const t = new Titanic(new TitanicStore(backend), options)
    t.store.start((r) => t.schedule(r))
    const o = options
    const workerOptions: MajordomoWorkerOptions = {
      ...(o.heartbeatInterval !== undefined ? { heartbeatInterval: o.heartbeatInterval } : {}),
      ...(o.liveness !== undefined ? { liveness: o.liveness } : {}),
      ...(o.reconnectInterval !== undefined ? { reconnectInterval: o.reconnectInterval } : {}),
      ...(o.context ? { context: o.context } : {}),
      onError: (err) => debug("titanic: %s", (err as Error).message),
    }
    const serve = (service: string, handler: (body: Buffer[]) => Promise<MessageLike[]>) =>
      t.workers.push(new MajordomoWorker(o.broker, service, handler, workerOptions))
    serve("titanic.request", (body) => t.onRequest(body))
    serve("titanic.reply", (body) => t.onReply(body))
    serve("titanic.close", (body) => t.onClose(body))
    return t
  }

  // ---- the three services ----

  private async onRequest(body: Buffer[]): Promise<MessageLike[]> {
    const service = body[0]?.toString("utf8") ?? ""
    // A name the broker would drop could never be dispatched.
    if (!isServiceName(service)) return ["400 not a service name"]
    try {
      return ["200", await this.store.putRequest(service, body.slice(1))]
    } catch (err) {
      return [`500 ${(err as Error).message}`]
    }
  }

  private async onReply(body: Buffer[]): Promise<MessageLike[]> {
    const uuid = this.uuid(body)
    if (uuid === undefined) return ["400"]
    switch (this.store.status(uuid)) {
      case "unknown":
        return ["400"]
      case "pending":
        return ["300"]
      case "done": {
        const reply = await this.store.reply(uuid).catch(() => undefined)
        return reply === undefined ? ["500 the stored reply could not be read"] : ["200", ...reply]
      }
    }
  }

  private async onClose(body: Buffer[]): Promise<MessageLike[]> {
    const uuid = this.uuid(body)
    if (uuid === undefined) return ["200"]
    try {
      await this.store.remove(uuid)
      return ["200"]
    } catch (err) {
      return [`500 ${(err as Error).message}`]
    }
  }

  private uuid(body: Buffer[]): string | undefined {
    const s = body[0]?.toString("latin1")
    return s !== undefined && UUID.test(s) ? s.toLowerCase() : undefined
  }

  // ---- dispatching stored requests ----

  private schedule(r: StoredRequest): void {
    if (this.closing) return
    this.waiting.push(r)
    this.pump()
  }

  private pump(): void {
    while (!this.closing && this.waiting.length > 0 && this.idleClients.length > 0) {
      const r = this.waiting.shift()!
      const client = this.idleClients.pop()!
      const run: Promise<void> = this.dispatch(r, client).finally(() => {
        this.active.delete(run)
        this.idleClients.push(client)
        this.pump()
      })
      this.active.add(run)
    }
  }

  private async dispatch(r: StoredRequest, client: MajordomoClient): Promise<void> {
    const status = this.store.status(r.uuid)
    if (status === "unknown") return // closed meanwhile
    try {
      if (status === "done") {
        await this.store.settle(r) // recovered: the reply was stored, the request not yet removed
        return
      }
      if (this.parked.has(r.service)) return this.retryLater(r, "waiting for the service")
      const [available] = await client.request("mmi.service", r.service)
      // 501: a broker without MMI; send the request anyway.
      if (available?.toString() !== "200" && available?.toString() !== "501") return this.retryLater(r, "no worker")
      const reply = await client.request(r.service, ...(await this.store.requestBody(r)))
      await this.store.putReply(r, reply)
      await this.store.settle(r)
      debug("titanic: %s answered by %s", r.uuid, r.service)
    } catch (err) {
      if (!this.closing) this.retryLater(r, (err as Error).message)
    }
  }

  private retryLater(r: StoredRequest, why: string): void {
    if (this.closing) return
    let parked = this.parked.get(r.service)
    if (parked === undefined) {
      debug("titanic: %s: %s, again in %d ms", r.service, why, this.retryInterval)
      const p: { requests: StoredRequest[]; timer: NodeJS.Timeout } = {
        requests: [],
        timer: setTimeout(() => {
          this.parked.delete(r.service)
          for (const q of p.requests) if (this.store.status(q.uuid) === "pending") this.schedule(q)
        }, this.retryInterval),
      }
      parked = p
      this.parked.set(r.service, p)
    }
    parked.requests.push(r)
  }

  /** How many requests and replies are stored, and how many requests are being dispatched. */
  stats(): TitanicStats {
    return { ...this.store.counts, dispatching: this.active.size }
  }

  /** Unregisters the services (answering the requests they are handling), stops dispatching, closes the store. */
  async close(): Promise<void> {
    if (this.closing) return
    this.closing = true
    await Promise.all(this.workers.map((w) => w.close()))
    for (const p of this.parked.values()) clearTimeout(p.timer)
    this.parked.clear()
    this.waiting.length = 0
    // Requests in flight fail at once; their replies, if any come, are not stored.
    for (const c of this.allClients) c.close()
    await Promise.allSettled([...this.active])
    await this.store.close()
  }
}
