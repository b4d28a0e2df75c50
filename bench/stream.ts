/**
 * Streams and consumer groups of the durable queue device (omq only: zeromq has no such
 * device, so the zeromq column reads "skipped"). Each process on its own.
 *
 * stream-replay-64B: a stream of N stored 64 B messages (retention "limits", one group), filled
 *   before timing; one client then reads the whole log from its first offset with range() pages.
 * stream-broadcast-3groups-64B: one producer puts 64 B messages, three consumers each read the
 *   stream through their own group (consume with credit, ack each), end to end; the figure is
 *   the slowest group's rate.
 */
import { fileURLToPath } from "node:url"
import { spawnPeer, type Peer } from "./proc.js"
import type { Scenario, TrialContext } from "./scenario.js"

const PEER = fileURLToPath(new URL("./stream-peer.ts", import.meta.url))

function startDevice(ctx: TrialContext, name: string, fsync: string): Peer {
  return spawnPeer(`stream device (${name})`, PEER, ["--role", "device", "--fsync", fsync, "--deadline", String(ctx.timeoutMs)], {
    timeoutMs: ctx.timeoutMs,
    nodeArgs: ctx.profArgs("device"),
  })
}

/** The device's CPU time so far, µs. */
async function deviceCpu(device: Peer): Promise<number> {
  device.send("cpu")
  return Number((await device.next("cpu")).us)
}

export interface ReplayOptions {
  name: string
  size: number
  /** Stored messages (quick mode: quickCount). */
  count: number
  quickCount: number
  /** Messages per RANGE request (at most 10,000). */
  page: number
  /** RANGE requests in flight. */
  inflight: number
}

export function streamReplay({ name, size, count, quickCount, page, inflight }: ReplayOptions): Scenario {
  return {
    name,
    sockets: ["QueueDevice", "QueueClient"],
    metrics: [
      { key: "msgsPerSec", label: "msgs/s", digits: 0, better: "higher" },
      { key: "mbPerSec", label: "MB/s", digits: 1, better: "higher" },
      // CPU time per message read, per process: what the rate costs, less sensitive to other load on the machine.
      { key: "readerUs", label: "reader µs/msg", digits: 2, better: "lower" },
      { key: "deviceUs", label: "device µs/msg", digits: 2, better: "lower" },
      { key: "fillPerSec", label: "fill puts/s", digits: 0, better: "higher" },
    ],
    profRoles: ["device", "reader"],
    async trial(ctx: TrialContext) {
      const n = ctx.quick ? quickCount : count
      const device = startDevice(ctx, name, "50")
      let reader: Peer | undefined
      try {
        const { endpoint } = await device.next("ready")
        reader = spawnPeer(
          `stream reader (${name})`,
          PEER,
          [
            ...["--role", "reader", "--endpoint", String(endpoint), "--size", String(size), "--count", String(n)],
            ...["--page", String(page), "--inflight", String(inflight), "--deadline", String(ctx.timeoutMs)],
          ],
          { timeoutMs: ctx.timeoutMs, nodeArgs: ctx.profArgs("reader") },
        )
        const filled = await reader.next("filled")
        const cpu0 = await deviceCpu(device)
        reader.send("go")
        const res = await reader.next("result")
        const cpu1 = await deviceCpu(device)
        device.send(`window ${res.startUs} ${res.endUs}`)
        await reader.finish()
        const finished = device.finish()
        const stats = await device.next("stats")
        await finished
        const total = (stats.queue as { total?: number } | null)?.total ?? -1
        if (total !== n) throw new Error(`${name}: the stream holds ${total} messages after the run, expected ${n}`)
        return {
          msgsPerSec: Number(res.msgsPerSec),
          mbPerSec: Number(res.mbPerSec),
          readerUs: Number(res.cpuUs) / n,
          deviceUs: (cpu1 - cpu0) / n,
          fillPerSec: Number(filled.putsPerSec),
        }
      } finally {
        device.kill()
        reader?.kill()
      }
    },
  }
}

export interface BroadcastOptions {
  name: string
  /** "always", or the fdatasync interval in ms. */
  fsync: "always" | number
  size: number
  groups: number
  /** Puts per trial (the producer also stops after `seconds`). */
  count: number
  seconds: number
  /** Puts in flight (producer) and unsettled deliveries per consumer (credit). */
  window: number
  credit: number
}

export function streamBroadcast({ name, fsync, size, groups, count, seconds, window, credit }: BroadcastOptions): Scenario {
  const roles = Array.from({ length: groups }, (_, i) => `consumer${i + 1}`)
  return {
    name,
    sockets: ["QueueDevice", "QueueClient"],
    metrics: [
      // The slowest group's rate: each group gets every message.
      { key: "minPerSec", label: "msgs/s (slowest group)", digits: 0, better: "higher" },
      { key: "meanPerSec", label: "msgs/s (mean of groups)", digits: 0, better: "higher" },
      { key: "putsPerSec", label: "puts/s", digits: 0, better: "higher" },
      // Device CPU time per message put (each delivered to and acked by every group): less sensitive to other load.
      { key: "deviceUs", label: "device µs/msg", digits: 2, better: "lower" },
      { key: "producerUs", label: "producer µs/msg", digits: 2, better: "lower" },
      { key: "consumerUs", label: "consumer µs/msg (mean)", digits: 2, better: "lower" },
    ],
    profRoles: ["device", "producer", ...roles],
    async trial(ctx: TrialContext) {
      const common = ["--deadline", String(ctx.timeoutMs)]
      const opts = { timeoutMs: ctx.timeoutMs }
      const device = startDevice(ctx, name, String(fsync))
      const consumers: Peer[] = []
      let producer: Peer | undefined
      try {
        const { endpoint } = await device.next("ready")
        for (let i = 0; i < groups; i++) {
          consumers.push(
            spawnPeer(
              `stream ${roles[i]} (${name})`,
              PEER,
              ["--role", "consumer", "--endpoint", String(endpoint), "--group", `g${i + 1}`, "--credit", String(credit), ...common],
              { ...opts, nodeArgs: ctx.profArgs(roles[i]!) },
            ),
          )
        }
        for (const c of consumers) await c.next("ready")
        const cpu0 = await deviceCpu(device)
        const load = [
          ...["--size", String(size), "--window", String(window)],
          ...["--count", String(ctx.quick ? 20_000 : count), "--seconds", ctx.quick ? "0.5" : String(seconds)],
        ]
        producer = spawnPeer(`stream producer (${name})`, PEER, ["--role", "producer", "--endpoint", String(endpoint), ...load, ...common], {
          ...opts,
          nodeArgs: ctx.profArgs("producer"),
        })
        const sent = await producer.next("sent")
        const results = []
        for (const c of consumers) {
          const r = await c.next("result")
          if (r.received !== sent.sent) throw new Error(`${name}: put ${sent.sent} but a consumer acked ${r.received}`)
          results.push(r)
        }
        const cpu1 = await deviceCpu(device)
        const endUs = Math.max(...results.map((r) => Number(r.endUs)))
        device.send(`window ${Number(sent.startUs)} ${endUs}`)
        await Promise.all([producer.finish(), ...consumers.map((c) => c.finish())])
        const finished = device.finish()
        await device.next("stats")
        await finished
        const rates = results.map((r) => Number(r.msgsPerSec))
        return {
          minPerSec: Math.min(...rates),
          meanPerSec: rates.reduce((x, y) => x + y, 0) / rates.length,
          putsPerSec: Number(sent.putsPerSec),
          deviceUs: (cpu1 - cpu0) / Number(sent.sent),
          producerUs: Number(sent.cpuUs) / Number(sent.sent),
          consumerUs: results.reduce((x, r) => x + Number(r.cpuUs) / Number(r.received), 0) / results.length,
        }
      } finally {
        device.kill()
        for (const c of consumers) c.kill()
        producer?.kill()
      }
    },
  }
}

/** Listed in scenarios.ts. */
export const STREAM_SCENARIOS: readonly Scenario[] = [
  streamReplay({ name: "stream-replay-64B", size: 64, count: 1_000_000, quickCount: 50_000, page: 10_000, inflight: 2 }),
  streamBroadcast({
    name: "stream-broadcast-3groups-64B",
    fsync: 50,
    size: 64,
    groups: 3,
    count: 1_000_000,
    seconds: 1.5,
    window: 4000,
    credit: 2000,
  }),
]
