/**
 * Durable queue vs Redis Streams (issue 19): 64 B jobs put by one producer process while one
 * consumer process takes and completes them, every put and every completion durable before it
 * is confirmed. The rows are the two systems; zeromq has no part here.
 *
 *   omq:           a QueueDevice (its own process) on a temp dir, fsync "always"; QueueClient.put,
 *                  consume + ack.
 *   redis-streams: a redis-server this scenario starts (bench/redis-server.ts: appendonly yes,
 *                  appendfsync always, no RDB), shared by its trials, a fresh stream per trial;
 *                  XADD (ioredis, auto-pipelined), XREADGROUP + XACK.
 *
 * Metrics: jobs/s from the producer's first put to the last completion's confirmation; the
 * producer's confirmed puts/s; puts per fsync (omq: the device's STATS `fsyncs`; Redis: its AOF
 * writes over the trial, see redisCounters()); and the p50 and p99 of the put-confirm latency
 * (every 8th put timed in the producer, the same way for both, the first tenth of the put phase
 * left out as warm-up).
 */
import { fileURLToPath } from "node:url"
import { finishDevice, producerLoad, sharedServer, spawnPeer, type Peer } from "./proc.js"
import { procCpuSeconds, procIo, redisUnavailable, startRedis, type RedisServer } from "./redis-server.js"
import type { Scenario, TrialContext } from "./scenario.js"

const PEER = fileURLToPath(new URL("./redis-queue-peer.ts", import.meta.url))

export const REDIS_SYSTEMS = ["omq", "redis-streams"] as const
type RedisSystem = (typeof REDIS_SYSTEMS)[number]

export interface RedisQueueScenarioOptions {
  name: string
  size: number
  /** Puts per trial; the producer also stops after `seconds`. */
  count: number
  seconds: number
  /** Puts in flight (producer), the same for both systems. */
  window: number
  /** Consumer: omq's credit; Redis: XREADGROUP's COUNT. */
  credit: number
}

/**
 * Redis 7.0 counts no fsyncs (INFO persistence has `aof_delayed_fsync`, for everysec only). With
 * `appendfsync always`, though, every write(2) of the AOF buffer (flushAppendOnlyFile, once per
 * event-loop turn that has writes) is followed by exactly one fdatasync. So: AOF writes = the
 * server's write syscalls (/proc/<pid>/io `syscw`: write, writev, all threads) minus its writes
 * to clients (INFO stats `total_writes_processed`, one per reply flush). Its error: a reply flush
 * needing more than one syscall (a short write) counts as an AOF write; with a few KB of replies
 * per flush that is rare. Checked against `strace -f -c -e trace=fdatasync` (bench/RESULTS.md).
 */
async function redisCounters(server: RedisServer): Promise<{ syscw: number; clientWrites: number }> {
  const { Redis } = await import("ioredis")
  const syscw = procIo(server.pid).syscw ?? NaN
  const r = new Redis({ host: "127.0.0.1", port: server.port, lazyConnect: true })
  await r.connect()
  try {
    const info = await r.info("stats")
    const clientWrites = Number(/^total_writes_processed:(\d+)/m.exec(info)?.[1] ?? NaN)
    return { syscw, clientWrites }
  } finally {
    r.disconnect()
  }
}

async function redisDel(server: RedisServer, key: string): Promise<void> {
  const { Redis } = await import("ioredis")
  const r = new Redis({ host: "127.0.0.1", port: server.port, lazyConnect: true })
  await r.connect()
  try {
    await r.del(key)
  } finally {
    r.disconnect()
  }
}

export function redisQueue({ name, size, count, seconds, window, credit }: RedisQueueScenarioOptions): Scenario {
  const server = sharedServer(startRedis)
  let trials = 0
  return {
    name,
    sockets: ["QueueDevice", "QueueClient"],
    systems: REDIS_SYSTEMS,
    metrics: [
      { key: "jobsPerSec", label: "jobs/s", digits: 0, better: "higher" },
      { key: "putsPerSec", label: "puts/s", digits: 0, better: "higher" },
      // Group commit: puts per fsync (the completions share those fsyncs too).
      { key: "putsPerFsync", label: "puts/fsync", digits: 0, better: "higher" },
      // Put-confirm latency in ms (every 8th put, after a warm-up): with a fixed window it is
      // mostly window / rate (Little's law), so p50 shows that part and p99 the tail beyond it.
      { key: "p50Ms", label: "p50 put ms", digits: 1, better: "lower" },
      { key: "p99Ms", label: "p99 put ms", digits: 1, better: "lower", ratio: true },
      // CPU of the server process (omq's device, redis-server) over the trial, per job.
      { key: "serverUsPerJob", label: "server CPU µs/job", digits: 2, better: "lower" },
    ],
    profRoles: ["device", "producer", "consumer"],
    async unavailable(system) {
      return system === "redis-streams" ? redisUnavailable() : undefined
    },
    async trial(ctx: TrialContext) {
      const system = ctx.system as RedisSystem
      const common = ["--system", system, "--deadline", String(ctx.timeoutMs)]
      const opts = (role: string) => ({ timeoutMs: ctx.timeoutMs, nodeArgs: ctx.profArgs(role) })
      let device: Peer | undefined
      let consumer: Peer | undefined
      let producer: Peer | undefined
      let redis: RedisServer | undefined
      const key = `bench-${++trials}`
      try {
        let target: string[]
        if (system === "omq") {
          device = spawnPeer(`redis-queue omq device (${name})`, PEER, ["--role", "device", ...common], opts("device"))
          target = ["--endpoint", String((await device.next("ready")).endpoint)]
        } else {
          redis = await server.get()
          target = ["--port", String(redis.port), "--key", key]
        }
        consumer = spawnPeer(
          `redis-queue ${system} consumer (${name})`,
          PEER,
          ["--role", "consumer", ...common, ...target, "--credit", String(credit)],
          opts("consumer"),
        )
        await consumer.next("ready")
        const before = redis && (await redisCounters(redis))
        const serverPid = device !== undefined ? device.pid : redis!.pid
        const cpuBefore = procCpuSeconds(serverPid)
        const load = producerLoad({ size, window: window, count, seconds, quick: ctx.quick })
        producer = spawnPeer(
          `redis-queue ${system} producer (${name})`,
          PEER,
          ["--role", "producer", ...common, ...target, ...load],
          opts("producer"),
        )
        const sent = await producer.next("sent")
        consumer.send(String(sent.sent))
        const res = await consumer.next("result")
        const cpuAfter = procCpuSeconds(serverPid)
        const after = redis && (await redisCounters(redis))
        await Promise.all([producer.finish(), consumer.finish()])
        let fsyncs: number
        if (device !== undefined) {
          fsyncs = Number((await finishDevice(device, name)).fsyncs)
        } else {
          fsyncs = after!.syscw - before!.syscw - (after!.clientWrites - before!.clientWrites)
          await redisDel(redis!, key)
        }
        const jobs = Number(sent.sent)
        return {
          jobsPerSec: jobs / ((Number(res.doneAt) - Number(sent.firstAt)) / 1000),
          putsPerSec: Number(sent.putsPerSec),
          putsPerFsync: fsyncs > 0 ? jobs / fsyncs : NaN,
          p50Ms: Number(sent.p50Us) / 1000,
          p99Ms: Number(sent.p99Us) / 1000,
          serverUsPerJob: ((cpuAfter - cpuBefore) * 1e6) / jobs,
        }
      } finally {
        device?.kill()
        consumer?.kill()
        producer?.kill()
      }
    },
    teardown: () => server.stop(),
  }
}

export const REDIS_QUEUE_SCENARIOS: readonly Scenario[] = [
  redisQueue({ name: "redis-queue-64B", size: 64, count: 500_000, seconds: 2, window: 4000, credit: 2000 }),
]
