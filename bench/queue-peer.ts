/**
 * One process of the durable-queue benchmark (omq only: zeromq has no equivalent).
 *
 *   --role device:   a QueueDevice on a fresh temp dir (--fsync always | <intervalMs>), bound to
 *                    tcp://127.0.0.1:*; emits {type:"ready", endpoint}; closes when stdin closes.
 *   --role producer: puts --size byte messages to queue "bench", --window puts in flight, until
 *                    --count or --seconds; then an empty message as end marker; emits {type:"sent"}.
 *   --role consumer: consumes with --credit and acks each message; at the end marker awaits
 *                    its ack and emits {type:"result"}: messages / time from the first delivery
 *                    to the last ack confirmed (put -> deliver -> ack, end to end).
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import type * as OmqQueue from "../lib/entry/queue.js"
import { OMQ_QUEUE_ENTRY } from "./libs.js"

const { QueueClient, QueueDevice } = (await import(OMQ_QUEUE_ENTRY)) as typeof OmqQueue
import { args, emit, putWindowed, hrUs, markProfileWindow, num, parentDone, runPeer } from "./child.js"

const a = args(["role", "endpoint", "fsync", "size", "count", "seconds", "window", "credit", "deadline"])
const QUEUE = "bench"

async function device(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "omq-bench-queue-"))
  const fsync = a.fsync === "always" ? "always" : { intervalMs: num(a.fsync, "fsync") }
  const dev = new QueueDevice({ dir, fsync })
  try {
    await dev.bind("tcp://127.0.0.1:*")
    emit({ type: "ready", endpoint: dev.lastEndpoint, dir })
    await parentDone()
    const probe = new QueueClient(dev.lastEndpoint!)
    const s = await probe.stats(QUEUE).catch(() => undefined)
    await probe.close()
    emit({
      type: "stats",
      queue: s?.queues[QUEUE] ?? null,
      diskBytes: s?.diskBytes ?? 0,
      checkpoints: s?.checkpoints ?? 0,
      fsyncs: s?.fsyncs ?? 0,
    })
    await dev.close()
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

async function producer(): Promise<void> {
  const size = num(a.size, "size")
  const count = num(a.count, "count")
  const window = num(a.window, "window")
  const budgetMs = num(a.seconds, "seconds") * 1000
  const client = new QueueClient(a.endpoint, { maxInFlight: window })
  const body = Buffer.alloc(size, 0x61)
  const start = performance.now()
  const sent = await putWindowed(client, QUEUE, body, { count, window, budgetMs, start })
  emit({ type: "sent", sent, seconds: (performance.now() - start) / 1000, putsPerSec: sent / ((performance.now() - start) / 1000) })
  await client.close()
}

async function consumer(): Promise<void> {
  const credit = num(a.credit, "credit")
  const client = new QueueClient(a.endpoint)
  const sub = client.consume(QUEUE, { credit })
  emit({ type: "ready" })
  let n = 0
  let first = 0
  let firstUs = 0
  for await (const m of sub) {
    if (m.body.length === 0) {
      await m.ack()
      break
    }
    if (n++ === 0) {
      first = performance.now()
      firstUs = hrUs()
    }
    void m.ack()
  }
  const secs = (performance.now() - first) / 1000
  markProfileWindow(firstUs, hrUs())
  emit({ type: "result", received: n, seconds: secs, msgsPerSec: (n - 1) / secs })
  await client.close()
}

const roles: Record<string, () => Promise<void>> = { device, producer, consumer }
const main = roles[a.role ?? ""]
if (main === undefined) throw new Error(`bad --role ${a.role}`)
runPeer(`queue ${a.role}`, num(a.deadline, "deadline"), main)
