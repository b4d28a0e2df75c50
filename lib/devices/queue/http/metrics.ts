/**
 * Prometheus metrics of a queue device (prom-client, loaded only when asked for): counters from
 * the model's lifecycle events, gauges read from STATS at scrape time, histograms of time in
 * queue, processing time (delivery to ack) and store sync latency. Names and labels after
 * Prometheus's conventions: `omq_` prefix, base units (seconds, bytes), `_total` counters;
 * `queue` is the name a client knows and `namespace` its tenant ("" without one).
 */
import type * as Prom from "prom-client"
import type { QueueStats, TraceEvent } from "../backend.js"
import { QueueError } from "../errors.js"

/** Queue-name label values: a namespaced internal name `ns#queue` splits in two. */
function labelsOf(internal: string): { namespace: string; queue: string } {
  const i = internal.indexOf("#")
  return i < 0 ? { namespace: "", queue: internal } : { namespace: internal.slice(0, i), queue: internal.slice(i + 1) }
}

const STATES = ["ready", "delayed", "reserved", "buried", "pending"] as const

export interface MetricsSource {
  /** STATS of every queue (internal names) and the device's figures. */
  stats(): Promise<{ device: Record<string, unknown>; queues: Record<string, QueueStats> }>
}

export class QueueMetrics {
  readonly registry: Prom.Registry
  private readonly puts: Prom.Counter<string>
  private readonly deliveries: Prom.Counter<string>
  private readonly redeliveries: Prom.Counter<string>
  private readonly acks: Prom.Counter<string>
  private readonly retries: Prom.Counter<string>
  private readonly deadLetters: Prom.Counter<string>
  private readonly kicks: Prom.Counter<string>
  private readonly syncs: Prom.Counter<string>
  private readonly timeInQueue: Prom.Histogram<string>
  private readonly processing: Prom.Histogram<string>
  private readonly syncSeconds: Prom.Histogram<string>
  /** When each live lease began (`queue\ngroup\nseq`), for the processing time at its ack. */
  private readonly leasedAt = new Map<string, number>()

  private constructor(prom: typeof Prom, source: MetricsSource) {
    const registry = (this.registry = new prom.Registry())
    const qLabels = ["namespace", "queue"]
    const gLabels = ["namespace", "queue", "group"]
    const counter = (name: string, help: string, labelNames: string[]) => new prom.Counter({ name, help, labelNames, registers: [registry] })
    this.puts = counter("omq_queue_puts_total", "Messages put (confirmed).", qLabels)
    this.deliveries = counter("omq_queue_deliveries_total", "Deliveries (leases handed to consumers), redeliveries included.", gLabels)
    this.redeliveries = counter("omq_queue_redeliveries_total", "Deliveries after a message's first.", gLabels)
    this.acks = counter("omq_queue_acks_total", "Deliveries acked.", gLabels)
    this.retries = counter(
      "omq_queue_retries_total",
      "Leases ended without an ack and retried, by cause: nack, ttr (lease expired), disconnect.",
      [...gLabels, "cause"],
    )
    this.deadLetters = counter("omq_queue_dead_letters_total", "Messages that became dead letters, by reason.", [...gLabels, "reason"])
    this.kicks = counter("omq_queue_kicks_total", "Dead letters kicked back to ready.", gLabels)
    this.syncs = counter("omq_store_syncs_total", "Store syncs (fdatasync, or a PostgreSQL log commit): one per group commit.", [])
    const seconds = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 60, 300, 3600]
    this.timeInQueue = new prom.Histogram({
      name: "omq_queue_time_in_queue_seconds",
      help: "From put to first delivery.",
      labelNames: qLabels,
      buckets: seconds,
      registers: [registry],
    })
    this.processing = new prom.Histogram({
      name: "omq_queue_processing_seconds",
      help: "From delivery to ack (the consumer's processing time).",
      labelNames: qLabels,
      buckets: seconds,
      registers: [registry],
    })
    this.syncSeconds = new prom.Histogram({
      name: "omq_store_sync_seconds",
      help: "Latency of store syncs (fdatasync, or a PostgreSQL log INSERT).",
      buckets: [0.0001, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers: [registry],
    })
    // Gauges: read from STATS when scraped (one STATS per scrape, shared by the gauges). A
    // device that follows another has no queues of its own: its queue gauges are empty.
    type Snapshot = Awaited<ReturnType<MetricsSource["stats"]>>
    let current: Promise<Snapshot | null> | undefined
    const snapshot = () => {
      current ??= source
        .stats()
        .catch(() => null)
        .finally(() => setImmediate(() => (current = undefined)))
      return current
    }
    const gauge = (
      name: string,
      help: string,
      labelNames: string[],
      fill: (g: Prom.Gauge<string>, s: Snapshot) => void,
      none?: (g: Prom.Gauge<string>) => void,
    ) =>
      new prom.Gauge({
        name,
        help,
        labelNames,
        registers: [registry],
        async collect() {
          this.reset()
          const s = await snapshot()
          if (s !== null) fill(this, s)
          else none?.(this)
        },
      })
    gauge("omq_queue_messages", "Messages by state (pending: put, not yet durable).", [...qLabels, "state"], (g, s) => {
      for (const [name, q] of Object.entries(s.queues)) for (const state of STATES) g.set({ ...labelsOf(name), state }, q[state])
    })
    gauge("omq_queue_consumers", "Subscriptions (CONSUME) on the queue.", qLabels, (g, s) => {
      for (const [name, q] of Object.entries(s.queues)) g.set(labelsOf(name), q.consumers)
    })
    gauge("omq_queue_leases", "Messages leased to consumers now.", qLabels, (g, s) => {
      for (const [name, q] of Object.entries(s.queues)) g.set(labelsOf(name), q.reserved)
    })
    gauge("omq_queue_oldest_message_age_seconds", "Age of the oldest live message.", qLabels, (g, s) => {
      for (const [name, q] of Object.entries(s.queues)) g.set(labelsOf(name), q.oldestAge / 1000)
    })
    gauge("omq_queue_bytes", "Bytes of the live messages' records in the log.", qLabels, (g, s) => {
      for (const [name, q] of Object.entries(s.queues)) g.set(labelsOf(name), q.bytes)
    })
    gauge("omq_queue_paused", "1 while the queue is paused.", qLabels, (g, s) => {
      for (const [name, q] of Object.entries(s.queues)) g.set(labelsOf(name), q.paused === true ? 1 : 0)
    })
    gauge("omq_queue_group_lag", "Messages of a stream a consumer group has not settled.", gLabels, (g, s) => {
      for (const [name, q] of Object.entries(s.queues))
        for (const [group, gs] of Object.entries(q.stream?.groups ?? {})) g.set({ ...labelsOf(name), group }, gs.lag)
    })
    gauge("omq_device_clients", "Client connections of the device.", [], (g, s) => g.set(Number(s.device.clients ?? 0)))
    gauge(
      "omq_device_leader",
      "1 while this device serves its queues itself (not following another).",
      [],
      (g) => g.set(1),
      (g) => g.set(0),
    )
    gauge("omq_store_disk_bytes", "Bytes of the embedded store on disk (0 for other stores).", [], (g, s) =>
      g.set(Number(s.device.diskBytes ?? 0)),
    )
  }

  /** Loads prom-client (a dependency, loaded only here) and makes the metrics. */
  static async create(source: MetricsSource): Promise<QueueMetrics> {
    let prom: typeof Prom
    try {
      const m = (await import("prom-client")) as typeof Prom & { default?: typeof Prom }
      prom = m.Registry !== undefined ? m : m.default!
    } catch {
      throw new QueueError("BAD_OPTION", "metrics need the prom-client package (npm install prom-client)")
    }
    return new QueueMetrics(prom, source)
  }

  /** The model's lifecycle events (set as the backend's observer, next to the tracer). */
  readonly onEvent = (e: TraceEvent): void => {
    const q = labelsOf(e.queue)
    const g = { ...q, group: e.group ?? "" }
    const key = `${e.queue}\n${e.group ?? ""}\n${e.seq}`
    switch (e.type) {
      case "put":
        this.puts.inc(q)
        break
      case "deliver":
        this.deliveries.inc(g)
        if ((e.attempt ?? 1) > 1) this.redeliveries.inc(g)
        else if (e.putAt !== undefined) this.timeInQueue.observe(q, Math.max(0, e.at - e.putAt) / 1000)
        // Leases dropped without an event (a PostgreSQL resync) would stay: bounded.
        if (this.leasedAt.size >= 1_000_000) this.leasedAt.clear()
        this.leasedAt.set(key, e.at)
        break
      case "ack": {
        this.acks.inc(g)
        const at = this.leasedAt.get(key)
        if (at !== undefined) {
          this.leasedAt.delete(key)
          this.processing.observe(q, Math.max(0, e.at - at) / 1000)
        }
        break
      }
      case "retry":
        this.leasedAt.delete(key)
        this.retries.inc({ ...g, cause: e.reason ?? "" })
        break
      case "dead":
        this.leasedAt.delete(key)
        this.deadLetters.inc({ ...g, reason: e.reason ?? "" })
        break
      case "kick":
        this.kicks.inc(g)
        break
      default:
        break
    }
  }

  /** A store sync took `seconds`. */
  readonly onSync = (seconds: number): void => {
    this.syncs.inc()
    this.syncSeconds.observe(seconds)
  }

  /** The Prometheus text exposition. */
  text(): Promise<string> {
    return this.registry.metrics()
  }

  get contentType(): string {
    return this.registry.contentType
  }
}
