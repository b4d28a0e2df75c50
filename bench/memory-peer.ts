/**
 * Processes of the memory scenarios (memory.ts). RSS is process.memoryUsage.rss(): the
 * whole process (V8 heap, Node/libuv, and for zeromq libzmq's native buffers and threads).
 * Started with --expose-gc: "settled" figures are taken after two full GCs, so garbage
 * that is merely not collected yet doesn't count (the kernel may still keep freed pages).
 *
 * memory-1000-idle:
 *   --role server:  ROUTER bound on tcp://127.0.0.1:*; settled RSS measured after bind
 *                   (baseline); emits {type:"ready", endpoint, baseline}; answers every
 *                   message with [routing id, ""]; counts distinct routing ids and emits
 *                   {type:"seen"} once it has --count; on the runner's "measure" command,
 *                   waits --idle ms, measures settled RSS and emits {type:"result"}.
 *   --role clients: --count DEALER sockets, each with one connection to --endpoint, made
 *                   in batches of --batch: a batch connects, each socket sends one message
 *                   and awaits its reply before the next batch starts (so at most --batch
 *                   connections wait in the listen backlog; libzmq's default backlog is 100).
 *                   Emits {type:"connected", baseline, rss} (settled RSS before any socket
 *                   and with all connections up).
 *
 * memory-1M-pushpull:
 *   --role pull:    PULL bound, default HWM; baseline after bind; samples RSS every 50 ms
 *                   from then on; emits {type:"ready"}, counts messages to the empty end
 *                   marker, emits {type:"result", received, baseline, peak, ...}.
 *   --role push:    PUSH connected, default HWM; baseline after connect; samples every 50 ms;
 *                   sends --count messages of --size bytes (stops early after --seconds),
 *                   then the end marker; emits {type:"sent"}; on the runner's "report"
 *                   (sent once the receiver has everything) emits {type:"memory"}.
 *   Besides the 50 ms samples, each side reports the kernel's own peak (VmHWM from
 *   /proc/self/status, reset at the baseline through /proc/self/clear_refs) as a cross-check.
 */
import { readFileSync, writeFileSync } from "node:fs"
import { args, emit, num, parentCommand, parentDone, runPeer, sleep } from "./child.js"
import { createSocket, isLibName, type BenchSocket, type LibName } from "./libs.js"

const a = args(["role", "lib", "endpoint", "count", "batch", "idle", "size", "seconds", "deadline"])
const lib: LibName = isLibName(a.lib ?? "") ? (a.lib as LibName) : fail(`bad --lib ${a.lib}`)
const gc = (globalThis as { gc?: () => void }).gc

function fail(msg: string): never {
  throw new Error(msg)
}

/** RSS in bytes after two full GCs. */
function settledRss(): number {
  gc?.()
  gc?.()
  return process.memoryUsage.rss()
}

/** Resets the kernel's peak-RSS counter (Linux >= 4.0); false where that isn't possible. */
function resetKernelPeak(): boolean {
  try {
    writeFileSync("/proc/self/clear_refs", "5")
    return true
  } catch {
    return false
  }
}

/** VmHWM in bytes, NaN where /proc is not available. */
function kernelPeak(): number {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync("/proc/self/status", "utf8"))
    return m ? Number(m[1]) * 1024 : NaN
  } catch {
    return NaN
  }
}

/** Samples RSS every 50 ms; also reports the longest gap between samples (a blocked event loop misses samples). */
function rssSampler(): { stop(): { peak: number; samples: number; maxGapMs: number; kernelPeak: number } } {
  const hwmOk = resetKernelPeak()
  let peak = process.memoryUsage.rss()
  let samples = 1
  let last = performance.now()
  let maxGapMs = 0
  const tick = () => {
    const now = performance.now()
    maxGapMs = Math.max(maxGapMs, now - last)
    last = now
    peak = Math.max(peak, process.memoryUsage.rss())
    samples++
  }
  const timer = setInterval(tick, 50)
  return {
    stop() {
      clearInterval(timer)
      tick()
      return { peak, samples, maxGapMs, kernelPeak: hwmOk ? kernelPeak() : NaN }
    },
  }
}

async function idleServer(): Promise<void> {
  const count = num(a.count, "count")
  const sock = await createSocket(lib, "Router", { linger: 0 })
  await sock.bind("tcp://127.0.0.1:*")
  const baseline = settledRss()
  const base = process.memoryUsage()
  emit({ type: "ready", endpoint: sock.lastEndpoint, baseline })
  const ids = new Set<string>()
  let closed = false
  const loop = (async () => {
    while (!closed) {
      const [id, body] = await sock.receive()
      if (!id || body === undefined) throw new Error("ROUTER got a message without routing id and body")
      await sock.send([id, Buffer.alloc(0)])
      if (ids.size < count && (ids.add(id.toString("hex")), ids.size === count)) emit({ type: "seen", distinct: ids.size })
    }
  })().catch((err: unknown) => {
    if (!closed) throw err // after close(), the pending receive() rejects: expected
  })
  const cmd = await parentCommand()
  if (cmd !== "measure") throw new Error(`unexpected command ${cmd}`)
  await sleep(num(a.idle, "idle"))
  const rss = settledRss()
  const mem = process.memoryUsage()
  // Where the growth is (BENCH_DEBUG=1 prints it): V8 heap, Buffers and other external memory, the rest is native.
  emit({
    type: "result",
    distinct: ids.size,
    baseline,
    rss,
    heapUsedDelta: mem.heapUsed - base.heapUsed,
    externalDelta: mem.external - base.external,
  })
  await parentDone()
  closed = true
  sock.close()
  void loop
}

async function idleClients(): Promise<void> {
  const count = num(a.count, "count")
  const batch = num(a.batch, "batch")
  await createSocket(lib, "Dealer", { linger: 0 }).then((s) => s.close()) // library loaded (and zeromq's context up) before the baseline
  const baseline = settledRss()
  const socks: BenchSocket[] = []
  const hello = Buffer.from("hello")
  for (let i = 0; i < count; i += batch) {
    const group: BenchSocket[] = []
    for (let j = i; j < Math.min(count, i + batch); j++) {
      const s = await createSocket(lib, "Dealer", { linger: 0 })
      s.connect(a.endpoint ?? "")
      group.push(s)
    }
    await Promise.all(
      group.map(async (s) => {
        await s.send(hello)
        await s.receive()
      }),
    )
    socks.push(...group)
  }
  const rss = settledRss()
  emit({ type: "connected", sockets: socks.length, baseline, rss })
  await parentDone()
  for (const s of socks) s.close()
}

async function pull(): Promise<void> {
  const sock = await createSocket(lib, "Pull", { linger: 0 })
  await sock.bind("tcp://127.0.0.1:*")
  const baseline = settledRss()
  const sampler = rssSampler()
  emit({ type: "ready", endpoint: sock.lastEndpoint })
  let received = 0
  for (;;) {
    const [msg] = await sock.receive()
    if (msg === undefined || msg.length === 0) break
    received++
  }
  emit({ type: "result", received, baseline, ...sampler.stop(), end: settledRss() })
  await parentDone()
  sock.close()
}

async function push(): Promise<void> {
  const count = num(a.count, "count")
  const budgetMs = num(a.seconds, "seconds") * 1000
  const sock = await createSocket(lib, "Push", { linger: 0 })
  sock.connect(a.endpoint ?? "")
  const baseline = settledRss()
  const sampler = rssSampler()
  const payload = Buffer.alloc(num(a.size, "size"), 0x61)
  const start = performance.now()
  let sent = 0
  while (sent < count) {
    await sock.send(payload)
    sent++
    if ((sent & 1023) === 0 && performance.now() - start > budgetMs) break
  }
  await sock.send(Buffer.alloc(0))
  emit({ type: "sent", sent, seconds: (performance.now() - start) / 1000 })
  const cmd = await parentCommand()
  if (cmd !== "report") throw new Error(`unexpected command ${cmd}`)
  emit({ type: "memory", baseline, ...sampler.stop(), end: settledRss() })
  await parentDone()
  sock.close()
}

const roles: Record<string, () => Promise<void>> = { server: idleServer, clients: idleClients, pull, push }
runPeer(`${lib} ${a.role}`, num(a.deadline, "deadline"), roles[a.role ?? ""] ?? (() => Promise.reject(new Error(`bad --role ${a.role}`))))
