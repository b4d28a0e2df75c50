/**
 * One process of the stream benchmarks (omq only: zeromq has no equivalent).
 *
 *   --role device:   a QueueDevice on a fresh temp dir (--fsync always | never | <intervalMs>), bound to
 *                    tcp://127.0.0.1:*; emits {type:"ready", endpoint}. Commands from the parent:
 *                    "window <startUs> <endUs>" (the measured phase, for --prof), "cpu" (emits {type:"cpu", us}:
 *                    CPU time used so far); stdin closed: stats, close.
 *   --role reader:   makes queue "bench" a stream (one group, retention "limits"), fills it with --count
 *                    --size byte messages (putBatch of 1,000, 16 in flight), emits {type:"filled"}, then reads
 *                    the whole log from its first offset with range() pages of --page, --inflight requests
 *                    in flight (after the parent's "go"); checks every offset and body; emits {type:"result"}
 *                    with the rate and the CPU time the reading took.
 *   --role producer: puts --size byte messages, --window in flight, until --count or --seconds; then an
 *                    empty message as end marker; emits {type:"sent"}.
 *   --role consumer: creates group --group (from the first offset), consumes it with --credit and acks each
 *                    message; at the end marker awaits its ack and emits {type:"result"}: messages / time
 *                    from the first delivery to the last ack confirmed, and the CPU time that took.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import type * as OmqQueue from "../lib/entry/queue.js"
import { OMQ_QUEUE_ENTRY } from "./libs.js"

const { QueueClient, QueueDevice } = (await import(OMQ_QUEUE_ENTRY)) as typeof OmqQueue
import { args, emit, putWindowed, hrUs, markProfileWindow, num, parentCommand, runPeer } from "./child.js"

/** CPU time this process used so far (user + system), µs. */
const cpuUs = (): number => {
  const u = process.cpuUsage()
  return u.user + u.system
}

const a = args(["role", "endpoint", "fsync", "size", "count", "seconds", "window", "credit", "group", "page", "inflight", "deadline"])
const QUEUE = "bench"

async function device(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "omq-bench-stream-"))
  const fsync = a.fsync === "always" || a.fsync === "never" ? a.fsync : { intervalMs: num(a.fsync, "fsync") }
  const dev = new QueueDevice({ dir, fsync })
  try {
    await dev.bind("tcp://127.0.0.1:*")
    emit({ type: "ready", endpoint: dev.lastEndpoint, dir })
    for (;;) {
      const line = await parentCommand().catch(() => null)
      if (line === null) break
      const [cmd, start, end] = line.split(" ")
      if (cmd === "window") markProfileWindow(Number(start), Number(end))
      else if (cmd === "cpu") emit({ type: "cpu", us: cpuUs() })
    }
    const probe = new QueueClient(dev.lastEndpoint!)
    const s = await probe.stats(QUEUE).catch(() => undefined)
    await probe.close()
    emit({ type: "stats", queue: s?.queues[QUEUE] ?? null, fsyncs: s?.fsyncs ?? 0, diskBytes: s?.diskBytes ?? 0 })
    await dev.close()
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** Fills the stream, then reads it all back with range(). */
async function reader(): Promise<void> {
  const count = num(a.count, "count")
  const size = num(a.size, "size")
  const page = num(a.page, "page")
  const inflight = num(a.inflight, "inflight")
  const client = new QueueClient(a.endpoint)
  await client.createGroup(QUEUE, "replay")
  await client.configure(QUEUE, { retention: "limits" })

  // Fill: putBatch of 1,000, 16 batches in flight.
  const body = Buffer.alloc(size, 0x61)
  const BATCH = 1000
  const batch = Array.from({ length: BATCH }, () => ({ body }))
  const fillStart = performance.now()
  let first = -1
  let last = -1
  let put = 0
  const putOne = async (): Promise<void> => {
    while (put < count) {
      const n = Math.min(BATCH, count - put)
      put += n
      const r = await client.putBatch(QUEUE, n === BATCH ? batch : batch.slice(0, n))
      if (first < 0 || r[0]!.seq < first) first = r[0]!.seq
      last = Math.max(last, r[n - 1]!.seq)
    }
  }
  await Promise.all(Array.from({ length: 16 }, putOne))
  const fillSecs = (performance.now() - fillStart) / 1000
  if (last - first + 1 !== count) throw new Error(`the stream's offsets are not contiguous: ${first}..${last} for ${count} messages`)
  emit({ type: "filled", count, seconds: fillSecs, putsPerSec: count / fillSecs })
  if ((await parentCommand()) !== "go") throw new Error("expected go")

  // Read: pages at known offsets (the log is contiguous), `inflight` requests out at once; each page is checked.
  const pages = Math.ceil(count / page)
  let nextPage = 0
  let read = 0
  let bytes = 0
  const startUs = hrUs()
  const cpu0 = cpuUs()
  const t0 = performance.now()
  const readOne = async (): Promise<void> => {
    while (nextPage < pages) {
      const k = nextPage++
      const from = first + k * page
      const want = Math.min(page, count - k * page)
      const r = await client.range(QUEUE, { from, count: want })
      const ms = r.messages
      if (ms.length !== want) throw new Error(`page ${k}: ${ms.length} messages, expected ${want}`)
      for (let i = 0; i < ms.length; i++) {
        const m = ms[i]!
        if (m.offset !== from + i || m.body.length !== size)
          throw new Error(`page ${k}: message ${i} is offset ${m.offset}, ${m.body.length} B`)
        bytes += m.body.length
      }
      if (r.next !== from + want) throw new Error(`page ${k}: next ${r.next}, expected ${from + want}`)
      read += ms.length
    }
  }
  await Promise.all(Array.from({ length: inflight }, readOne))
  const secs = (performance.now() - t0) / 1000
  const cpu = cpuUs() - cpu0
  const endUs = hrUs()
  markProfileWindow(startUs, endUs)
  if (read !== count) throw new Error(`read ${read} of ${count}`)
  emit({ type: "result", read, seconds: secs, msgsPerSec: read / secs, mbPerSec: bytes / secs / 1e6, cpuUs: cpu, startUs, endUs })
  await client.close()
}

async function producer(): Promise<void> {
  const size = num(a.size, "size")
  const count = num(a.count, "count")
  const window = num(a.window, "window")
  const budgetMs = num(a.seconds, "seconds") * 1000
  const client = new QueueClient(a.endpoint, { maxInFlight: window })
  const body = Buffer.alloc(size, 0x61)
  const startUs = hrUs()
  const cpu0 = cpuUs()
  const start = performance.now()
  const sent = await putWindowed(client, QUEUE, body, { count, window, budgetMs, start })
  const secs = (performance.now() - start) / 1000
  markProfileWindow(startUs, hrUs())
  emit({ type: "sent", sent, seconds: secs, putsPerSec: sent / secs, cpuUs: cpuUs() - cpu0, startUs })
  await client.close()
}

async function consumer(): Promise<void> {
  const credit = num(a.credit, "credit")
  const group = a.group
  if (group === undefined) throw new Error("--group is required")
  const client = new QueueClient(a.endpoint)
  await client.createGroup(QUEUE, group, { start: "first" })
  const sub = client.consume(QUEUE, { group, credit })
  emit({ type: "ready" })
  let n = 0
  let first = 0
  let firstUs = 0
  let cpu0 = 0
  for await (const m of sub) {
    if (m.body.length === 0) {
      await m.ack()
      break
    }
    if (n++ === 0) {
      first = performance.now()
      firstUs = hrUs()
      cpu0 = cpuUs()
    }
    void m.ack()
  }
  const secs = (performance.now() - first) / 1000
  const cpu = cpuUs() - cpu0
  const endUs = hrUs()
  markProfileWindow(firstUs, endUs)
  emit({ type: "result", received: n, seconds: secs, msgsPerSec: (n - 1) / secs, cpuUs: cpu, startUs: firstUs, endUs })
  await client.close()
}

const roles: Record<string, () => Promise<void>> = { device, reader, producer, consumer }
const main = roles[a.role ?? ""]
if (main === undefined) throw new Error(`bad --role ${a.role}`)
runPeer(`stream ${a.role}`, num(a.deadline, "deadline"), main)
