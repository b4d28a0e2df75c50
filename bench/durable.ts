/**
 * The durable devices (issue 16), end to end between two libzmq peers (zeromq.js), each process
 * on its own: producer → omq device (the store on disk, fsync every 50 ms) → consumer.
 *
 *   durable-streamer:  PUSH → DurableStreamer (PULL in, PUSH out) → PULL
 *   durable-forwarder: PUB → DurableForwarder (XSUB in, XPUB out) → SUB with a routing id
 *                      (a durable subscriber: every message goes through its backlog)
 *
 * Both ends are libzmq whichever the library column says: only the device is omq. The zeromq
 * row reads "skipped" (zeromq has no such device). Messages in flight are bounded by the store:
 * the figure is what the device stores, forwards and removes per second.
 */
import { fileURLToPath } from "node:url"
import { spawnPeer, type Peer } from "./proc.js"
import type { Scenario, TrialContext } from "./scenario.js"

const PEER = fileURLToPath(new URL("./durable-peer.ts", import.meta.url))

export interface DurableScenarioOptions {
  name: string
  kind: "streamer" | "forwarder"
  /** "always", or the fdatasync interval in ms. */
  fsync: "always" | number
  size: number
  count: number
  quickCount: number
}

export function durableDevice({ name, kind, fsync, size, count, quickCount }: DurableScenarioOptions): Scenario {
  return {
    name,
    sockets: [kind === "streamer" ? "DurableStreamer" : "DurableForwarder"],
    metrics: [
      { key: "msgsPerSec", label: "msgs/s", digits: 0, better: "higher" },
      { key: "sentPerSec", label: "sent/s", digits: 0, better: "higher" },
      // The device's CPU time (user + system) per message: what a busy machine changes least.
      { key: "cpuUsPerMsg", label: "device CPU µs/msg", digits: 2, better: "lower" },
    ],
    profRoles: ["device"],
    async trial(ctx: TrialContext) {
      const common = ["--kind", kind, "--deadline", String(ctx.timeoutMs)]
      const opts = { timeoutMs: ctx.timeoutMs }
      const device = spawnPeer(`durable ${kind} device (${name})`, PEER, ["--role", "device", "--fsync", String(fsync), ...common], {
        ...opts,
        nodeArgs: [...ctx.profArgs("device"), ...(process.env.BENCH_DEVICE_ARGS ?? "").split(" ").filter(Boolean)],
      })
      let consumer: Peer | undefined
      let producer: Peer | undefined
      try {
        const { front, back } = await device.next("ready")
        consumer = spawnPeer(`durable ${kind} consumer (${name})`, PEER, ["--role", "consumer", "--endpoint", String(back), ...common], opts)
        await consumer.next("ready")
        const n = ctx.quick ? quickCount : count
        const load = ["--size", String(size), "--count", String(n)]
        producer = spawnPeer(
          `durable ${kind} producer (${name})`,
          PEER,
          ["--role", "producer", "--endpoint", String(front), ...load, ...common],
          opts,
        )
        if (kind === "forwarder") {
          await consumer.next("primed")
          producer.send("go")
        }
        const sent = await producer.next("sent")
        const res = await consumer.next("result")
        if (res.received !== n) throw new Error(`${name}: sent ${n} but the consumer got ${res.received}`)
        await Promise.all([producer.finish(), consumer.finish()])
        const finished = device.finish()
        const stats = await device.next("stats")
        await finished
        if (stats.backlog !== 0) throw new Error(`${name}: ${String(stats.backlog)} messages left in the backlog after the run`)
        return { msgsPerSec: Number(res.msgsPerSec), sentPerSec: Number(sent.sentPerSec), cpuUsPerMsg: Number(stats.cpuUs) / n }
      } finally {
        device.kill()
        consumer?.kill()
        producer?.kill()
      }
    },
  }
}

/** Listed in scenarios.ts: 64 B messages, fsync every 50 ms (~3-4 s a trial at 150-200k msgs/s). */
export const DURABLE_SCENARIOS: readonly Scenario[] = [
  durableDevice({ name: "durable-streamer", kind: "streamer", fsync: 50, size: 64, count: 500_000, quickCount: 20_000 }),
  durableDevice({ name: "durable-forwarder", kind: "forwarder", fsync: 50, size: 64, count: 500_000, quickCount: 20_000 }),
]
