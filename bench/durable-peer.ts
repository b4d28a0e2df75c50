/**
 * One process of the durable-device benchmarks: an omq device between two zeromq.js (libzmq)
 * peers, each in its own process.
 *
 *   --role device:   --kind streamer (DurableStreamer: PULL in, PUSH out) or forwarder
 *                    (DurableForwarder: XSUB in, XPUB out) on a fresh temp dir, fsync every
 *                    --fsync ms (or "always"), both ends bound to tcp://127.0.0.1:*; emits
 *                    {type:"ready", front, back}; on stdin close emits {type:"stats"} and exits
 *                    (profiled from "ready" to then: the idle start is in the window); stats
 *                    has the CPU time the device used meanwhile (user + system, µs).
 *   --role producer: a zeromq.js PUSH (streamer) or PUB (forwarder) connected to --endpoint.
 *                    PUB: sends one probe at a time until the parent says "go" (the
 *                    subscription has to reach it first: a PUB drops what no one subscribed
 *                    to). Then --count messages of --size bytes, then an end marker; emits
 *                    {type:"sent"}.
 *   --role consumer: a zeromq.js PULL, or a durable SUB (X-Routing-Id "bench", through
 *                    ZMQ_METADATA) subscribed to "b"; emits {type:"primed"} at its first probe
 *                    (forwarder), and {type:"result"} at the end marker: messages / time from
 *                    the first data message to the end marker, end to end through the device.
 *
 * Data messages are one frame of --size bytes starting with "b"; probes are "b-probe", the end
 * marker "b-end".
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as zmq from "zeromq"
import type * as OmqQueue from "../lib/entry/queue.js"
import { args, emit, hrUs, markProfileWindow, num, parentCommand, parentDone, runPeer } from "./child.js"
import { OMQ_QUEUE_ENTRY } from "./libs.js"

const a = args(["role", "kind", "endpoint", "fsync", "size", "count", "deadline"])
const forwarder = a.kind === "forwarder"
if (!forwarder && a.kind !== "streamer") throw new Error(`bad --kind ${a.kind}`)
const PROBE = Buffer.from("b-probe")
const END = Buffer.from("b-end")
/** libzmq's ZMQ_METADATA (draft API, which the zeromq package's build has). */
const ZMQ_METADATA = 95

async function device(): Promise<void> {
  const { DurableForwarder, DurableStreamer } = (await import(OMQ_QUEUE_ENTRY)) as typeof OmqQueue
  const dir = mkdtempSync(join(tmpdir(), "omq-bench-durable-"))
  const fsync = a.fsync === "always" ? "always" : { intervalMs: num(a.fsync, "fsync") }
  const ends = { frontEnd: { bind: ["tcp://127.0.0.1:*"] }, backEnd: { bind: ["tcp://127.0.0.1:*"] } }
  try {
    if (forwarder) {
      const dev = await DurableForwarder.start({ dir, fsync, ...ends })
      emit({ type: "ready", front: dev.xsub.lastEndpoint, back: dev.xpub.lastEndpoint })
      const readyUs = hrUs()
      const cpu = process.cpuUsage()
      await parentDone()
      const used = process.cpuUsage(cpu)
      markProfileWindow(readyUs, hrUs())
      const s = dev.subscriber("bench")
      emit({ type: "stats", backlog: s?.backlog ?? -1, stored: s?.stored ?? 0, dropped: s?.dropped ?? 0, cpuUs: used.user + used.system })
      await dev.close()
    } else {
      const dev = await DurableStreamer.start({ dir, fsync, ...ends })
      emit({ type: "ready", front: dev.pull.lastEndpoint, back: dev.push.lastEndpoint })
      const readyUs = hrUs()
      const cpu = process.cpuUsage()
      await parentDone()
      const used = process.cpuUsage(cpu)
      markProfileWindow(readyUs, hrUs())
      emit({ type: "stats", backlog: await dev.backlog(), cpuUs: used.user + used.system })
      await dev.close()
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

async function producer(): Promise<void> {
  const size = num(a.size, "size")
  const count = num(a.count, "count")
  // HWM 0: a PUB must not drop while the device is busy storing (the consumer counts every message).
  const sock = forwarder ? new zmq.Publisher({ linger: 5000, sendHighWaterMark: 0 }) : new zmq.Push({ linger: 5000 })
  sock.connect(a.endpoint!)
  if (forwarder) {
    let go = false
    void parentCommand().then(() => (go = true))
    while (!go) {
      await sock.send(PROBE)
      await new Promise((r) => setTimeout(r, 20))
    }
  }
  const payload = Buffer.alloc(size, 0x61)
  payload[0] = 0x62 // "b"
  const start = performance.now()
  const startUs = hrUs()
  for (let i = 0; i < count; i++) await sock.send(payload)
  await sock.send(END)
  const secs = (performance.now() - start) / 1000
  markProfileWindow(startUs, hrUs())
  emit({ type: "sent", sent: count, seconds: secs, sentPerSec: count / secs })
  await parentDone()
  sock.close()
}

async function consumer(): Promise<void> {
  let sock: zmq.Pull | zmq.Subscriber
  if (forwarder) {
    const sub = new zmq.Subscriber({ linger: 0 })
    ;(sub as unknown as { setStringOption(o: number, v: string): void }).setStringOption(ZMQ_METADATA, "X-Routing-Id:bench")
    sub.subscribe("b")
    sock = sub
  } else {
    sock = new zmq.Pull({ linger: 0 })
  }
  sock.connect(a.endpoint!)
  emit({ type: "ready" })
  let primed = !forwarder
  let n = 0
  let first = 0
  let firstUs = 0
  for (;;) {
    const [msg] = await sock.receive()
    if (msg!.length === PROBE.length && msg!.equals(PROBE)) {
      if (!primed) emit({ type: "primed" })
      primed = true
      continue
    }
    if (msg!.length === END.length && msg!.equals(END)) break
    if (n++ === 0) {
      first = performance.now()
      firstUs = hrUs()
    }
  }
  const secs = (performance.now() - first) / 1000
  markProfileWindow(firstUs, hrUs())
  emit({ type: "result", received: n, seconds: secs, msgsPerSec: (n - 1) / secs })
  await parentDone()
  sock.close()
}

const roles: Record<string, () => Promise<void>> = { device, producer, consumer }
const main = roles[a.role ?? ""]
if (main === undefined) throw new Error(`bad --role ${a.role}`)
runPeer(`durable ${a.kind} ${a.role}`, num(a.deadline, "deadline"), main)
