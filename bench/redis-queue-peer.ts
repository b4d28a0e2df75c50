/**
 * One process of the durable queue vs Redis Streams benchmark (bench/redis-queue.ts): the same
 * work done by omq's QueueDevice (file log, fsync "always") and by a Redis stream with a
 * consumer group on a server with `appendfsync always`.
 *
 *   --role device (omq only): a QueueDevice on a fresh temp dir with fsync "always", bound to
 *       tcp://127.0.0.1:*; emits {type:"ready", endpoint}; at stdin's end emits {type:"stats"}
 *       (queue depth, fsyncs) and closes.
 *   --role consumer: takes jobs and completes them (omq: consume with --credit, ack each;
 *       redis-streams: XREADGROUP GROUP g c COUNT --credit BLOCK 100 and one XACK per batch,
 *       sent without waiting, so the next read goes out behind it); emits {type:"ready"} once it
 *       is waiting. The runner then sends one line, the number of jobs the producer put; when
 *       that many completions are confirmed (omq: ack replies; Redis: XACK replies, counting the
 *       entries each acknowledged) it emits {type:"result", doneAt}.
 *   --role producer: puts --size byte jobs (--count, or until --seconds) with --window puts in
 *       flight, each its own call confirmed on its own (omq: QueueClient.put; Redis: XADD key *
 *       b <payload>, auto-pipelined: the XADDs issued in one tick leave in one write); emits
 *       {type:"sent", sent, firstAt, putsPerSec, p50Us, p99Us}. Every 8th put is timed from the
 *       call to its confirmation, the same way for both systems; those issued in the first tenth
 *       of the put phase (warm-up) are left out of p50Us and p99Us.
 *
 * Times (firstAt, doneAt) are wall-clock ms with sub-ms precision (performance.timeOrigin +
 * performance.now()), comparable across the processes of one machine.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import type * as OmqQueue from "../lib/entry/queue.js"
import { args, emit, hrUs, markProfileWindow, num, parentDone, runPeer, windowed } from "./child.js"
import { OMQ_QUEUE_ENTRY } from "./libs.js"
import { bodies, completion, omqConsumer, omqProducer, PAYLOADS, QUEUE, windowOptions } from "./job-peer.js"

const a = args(["system", "role", "endpoint", "port", "key", "size", "count", "seconds", "window", "credit", "deadline"])
const GROUP = "g"
const now = () => performance.timeOrigin + performance.now()

/** Every SAMPLE-th put is timed from call to confirmation. */
const SAMPLE = 8
/** The latency figures leave out the puts issued in this first fraction of the put phase. */
const WARMUP = 0.1

/**
 * The producer's loop, the same for both systems: `window` puts in flight (each confirmation lets
 * the next one go) until `count` or `seconds`; emits {type:"sent"} with the confirm latencies.
 */
async function putLoop(put: (i: number) => Promise<unknown>): Promise<void> {
  /** Sampled puts: when each was issued (ms since the first) and how long its confirmation took. */
  const issuedAt: number[] = []
  const latencies: number[] = []
  const firstAt = now()
  const startUs = hrUs()
  const o = windowOptions(a)
  const sample = {
    every: SAMPLE,
    got(at: number, ms: number) {
      issuedAt.push(at)
      latencies.push(ms)
    },
  }
  const sent = await windowed(put, { ...o, sample })
  const seconds = (now() - firstAt) / 1000
  markProfileWindow(startUs, hrUs())
  // Warm-up left out: the puts issued in the first tenth of the run (connecting, JIT, the first
  // window issued at once). Their confirmations are the slowest of all (for omq up to 0.27 s
  // against a p99 of 0.09-0.18 s after it), and 4,000 of them alone are over 1% of a run's puts.
  const warmMs = WARMUP * seconds * 1000
  const kept = latencies.filter((_, i) => issuedAt[i]! >= warmMs).sort((x, y) => x - y)
  const pct = (p: number) => 1000 * (kept[Math.min(kept.length - 1, Math.floor(p * kept.length))] ?? NaN)
  emit({ type: "sent", sent, firstAt, seconds, putsPerSec: sent / seconds, p50Us: pct(0.5), p99Us: pct(0.99), samples: kept.length })
}

async function omq(role: string): Promise<void> {
  const { QueueClient, QueueDevice } = (await import(OMQ_QUEUE_ENTRY)) as typeof OmqQueue
  if (role === "device") {
    const dir = mkdtempSync(join(tmpdir(), "omq-bench-redisq-"))
    try {
      const dev = new QueueDevice({ dir, fsync: "always" })
      await dev.bind("tcp://127.0.0.1:*")
      emit({ type: "ready", endpoint: dev.lastEndpoint })
      await parentDone()
      const probe = new QueueClient(dev.lastEndpoint!)
      const s = await probe.stats(QUEUE).catch(() => undefined)
      await probe.close()
      emit({ type: "stats", queue: s?.queues[QUEUE] ?? null, fsyncs: s?.fsyncs ?? 0 })
      await dev.close()
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  } else if (role === "producer") {
    await omqProducer(a.endpoint!, num(a.window, "window"), num(a.size, "size"), putLoop)
  } else {
    await omqConsumer(a.endpoint!, num(a.credit, "credit"), completion())
  }
}

type StreamReply = [key: Buffer, entries: [id: Buffer, fields: Buffer[]][]][] | null

async function redisStreams(role: string): Promise<void> {
  const { Redis } = await import("ioredis")
  const key = a.key!
  const redis = new Redis({ host: "127.0.0.1", port: num(a.port, "port"), enableAutoPipelining: true, lazyConnect: true })
  await redis.connect()
  try {
    if (role === "producer") {
      const body = bodies(num(a.size, "size"))
      await putLoop((i) => redis.xadd(key, "*", "b", body[i % PAYLOADS]!))
    } else if (role === "consumer") {
      const count = num(a.credit, "credit")
      await redis.xgroup("CREATE", key, GROUP, "$", "MKSTREAM")
      const c = completion()
      let failed: unknown
      const reader = (async () => {
        while (!c.finished() && failed === undefined) {
          // (Not callBuffer("XREADGROUP", ...): with auto-pipelining, ioredis 6.0.0 drops its command name.)
          const res = (await (redis.xreadgroupBuffer as unknown as (...args: (string | number)[]) => Promise<unknown>).call(
            redis,
            "GROUP",
            GROUP,
            "c",
            "COUNT",
            count,
            "BLOCK",
            100,
            "STREAMS",
            key,
            ">",
          )) as StreamReply
          const entries = res?.[0]?.[1]
          if (entries === undefined || entries.length === 0) continue
          redis.xack(key, GROUP, ...entries.map((e) => e[0])).then(
            (n) => c.completed(n),
            (err: unknown) => (failed ??= err),
          )
        }
      })()
      emit({ type: "ready" })
      const doneAt = await Promise.race([c.done, reader.then(() => Promise.reject(failed ?? new Error("reader stopped")))])
      await reader
      emit({ type: "result", doneAt })
    } else throw new Error("redis-streams has no device role")
  } finally {
    await redis.quit()
  }
}

const systems: Record<string, (role: string) => Promise<void>> = { omq, "redis-streams": redisStreams }
const main = systems[a.system ?? ""]
if (main === undefined) throw new Error(`bad --system ${a.system}`)
if (!["device", "producer", "consumer"].includes(a.role ?? "")) throw new Error(`bad --role ${a.role}`)
runPeer(`redis-queue ${a.system} ${a.role}`, num(a.deadline, "deadline"), () => main(a.role!))
