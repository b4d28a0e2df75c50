/**
 * Durable queue, end to end: 64 B messages put -> delivered -> acked through a QueueDevice
 * with its log on disk, one producer and one consumer, each process on its own
 * (device, producer, consumer). omq only: zeromq has no such device, so the zeromq
 * column reads "skipped". Compare with the anchors in bench/RESULTS.md.
 */
import { fileURLToPath } from "node:url"
import { producerLoad, spawnPeer, type Peer } from "./proc.js"
import type { Scenario, TrialContext } from "./scenario.js"

const PEER = fileURLToPath(new URL("./queue-peer.ts", import.meta.url))

export interface QueueScenarioOptions {
  name: string
  /** "always", or the fdatasync interval in ms. */
  fsync: "always" | number
  size: number
  /** Puts per trial (the producer also stops after `seconds`). */
  count: number
  seconds: number
  /** Puts in flight (producer) and unsettled deliveries (consumer credit). */
  window: number
  credit: number
}

export function durableQueue({ name, fsync, size, count, seconds, window, credit }: QueueScenarioOptions): Scenario {
  return {
    name,
    sockets: ["QueueDevice", "QueueClient"],
    metrics: [
      { key: "msgsPerSec", label: "msgs/s", digits: 0, better: "higher" },
      { key: "putsPerSec", label: "puts/s", digits: 0, better: "higher" },
      // Group commit at work: how many puts one fdatasync covered on average (acks share them too).
      { key: "putsPerFsync", label: "puts/fsync", digits: 0, better: "higher" },
    ],
    profRoles: ["device", "producer", "consumer"],
    async trial(ctx: TrialContext) {
      const common = ["--deadline", String(ctx.timeoutMs)]
      const opts = { timeoutMs: ctx.timeoutMs }
      const device = spawnPeer(`queue device (${name})`, PEER, ["--role", "device", "--fsync", String(fsync), ...common], {
        ...opts,
        nodeArgs: ctx.profArgs("device"),
      })
      let consumer: Peer | undefined
      let producer: Peer | undefined
      try {
        const { endpoint } = await device.next("ready")
        consumer = spawnPeer(
          `queue consumer (${name})`,
          PEER,
          ["--role", "consumer", "--endpoint", String(endpoint), "--credit", String(credit), ...common],
          {
            ...opts,
            nodeArgs: ctx.profArgs("consumer"),
          },
        )
        await consumer.next("ready")
        const load = producerLoad({ size, window: window, count, seconds, quick: ctx.quick })
        producer = spawnPeer(`queue producer (${name})`, PEER, ["--role", "producer", "--endpoint", String(endpoint), ...load, ...common], {
          ...opts,
          nodeArgs: ctx.profArgs("producer"),
        })
        const sent = await producer.next("sent")
        const res = await consumer.next("result")
        if (res.received !== sent.sent) throw new Error(`${name}: put ${sent.sent} but the consumer acked ${res.received}`)
        await Promise.all([producer.finish(), consumer.finish()])
        const finished = device.finish()
        const stats = await device.next("stats")
        await finished
        const left = (stats.queue as { total?: number } | null)?.total ?? 0
        if (left !== 0) throw new Error(`${name}: ${left} messages left in the queue after the run`)
        const fsyncs = Number(stats.fsyncs)
        return {
          msgsPerSec: Number(res.msgsPerSec),
          putsPerSec: Number(sent.putsPerSec),
          putsPerFsync: fsyncs > 0 ? Number(sent.sent) / fsyncs : 0,
        }
      } finally {
        device.kill()
        consumer?.kill()
        producer?.kill()
      }
    },
  }
}

/** The two runs listed in scenarios.ts: fsync "always" and every 50 ms (short: ~3 s a trial, zeromq skipped). */
export const QUEUE_SCENARIOS: readonly Scenario[] = [
  durableQueue({ name: "queue-64B-fsync-always", fsync: "always", size: 64, count: 1_000_000, seconds: 1.5, window: 4000, credit: 2000 }),
  durableQueue({ name: "queue-64B-fsync-50ms", fsync: 50, size: 64, count: 1_000_000, seconds: 1.5, window: 4000, credit: 2000 }),
]
