/**
 * inproc:// between worker threads (as zeromq.js has it through libzmq's process-wide
 * context): a node process runs a CommonJS esbuild bundle of lib/ in its main thread and in
 * worker threads, and checks connections across them — each way, connect before bind,
 * between two workers, the HWM bound, order, REQ/REP and PUB/SUB, and zeromq.js's
 * threaded-worker example shape (a PUSH feeding workers, results back, a stop signal).
 */
import { execFile } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { promisify } from "node:util"
import { build } from "esbuild"
import { afterAll, beforeAll, describe, expect, it } from "vitest"

const root = path.resolve(import.meta.dirname, "../..")
let dir: string

const MAIN = String.raw`
const { Worker } = require("node:worker_threads")
const path = require("node:path")
const zmq = require("./omq.cjs")
const BUNDLE = path.join(__dirname, "omq.cjs")
/** Runs fn's source in a worker thread with zmq loaded; resolves with what it returns. */
function inWorker(fn, data) {
  const src = "const zmq = require(" + JSON.stringify(BUNDLE) + ");" +
    "const { parentPort, workerData } = require('node:worker_threads');" +
    "(" + fn.toString() + ")(workerData).then((r) => parentPort.postMessage({ ok: r }), (e) => parentPort.postMessage({ err: String(e && e.stack || e) }))"
  return new Promise((resolve, reject) => {
    const w = new Worker(src, { eval: true, workerData: data })
    w.once("message", (m) => (m.err ? reject(new Error(m.err)) : resolve(m.ok)))
    w.once("error", reject)
  })
}
const str = (m) => m.map((b) => Buffer.from(b).toString())
const checks = {}
async function check(name, fn) {
  try { checks[name] = await Promise.race([fn(), new Promise((_, r) => setTimeout(() => r(new Error("timed out")), 8000))]) }
  catch (e) { checks[name] = "FAILED: " + e.message }
}
;(async () => {
  await check("main binds, worker connects (PAIR echo)", async () => {
    const a = new zmq.Pair({ linger: 0 })
    await a.bind("inproc://t-echo")
    const done = inWorker(async () => {
      const b = new zmq.Pair({ linger: 0 })
      b.connect("inproc://t-echo")
      const [m] = [await b.receive()]
      await b.send(["echo", ...m])
      await new Promise((r) => setTimeout(r, 50))
      b.close()
      return "ok"
    })
    await a.send(["foo", "bar"])
    const got = str(await a.receive())
    await done
    a.close()
    return got
  })
  await check("worker binds, main connects first (connect before bind)", async () => {
    const push = new zmq.Push({ linger: 0 })
    push.connect("inproc://t-early")
    await push.send("queued before the bind")
    const got = await inWorker(async () => {
      const pull = new zmq.Pull({ linger: 0 })
      await pull.bind("inproc://t-early")
      const m = await pull.receive()
      pull.close()
      return m.map(String)
    })
    push.close()
    return got
  })
  await check("between two workers", async () => {
    const bound = inWorker(async () => {
      const a = new zmq.Pair({ linger: 0 })
      await a.bind("inproc://t-between")
      await a.send(["foo", "bar"])
      const m = await a.receive()
      a.close()
      return m.map(String)
    })
    const echo = inWorker(async () => {
      await new Promise((r) => setTimeout(r, 20))
      const b = new zmq.Pair({ linger: 0 })
      b.connect("inproc://t-between")
      for await (const m of b) { await b.send(m); break }
      await new Promise((r) => setTimeout(r, 50))
      b.close()
      return "ok"
    })
    const [got] = await Promise.all([bound, echo])
    return got
  })
  await check("10,000 messages arrive in order", async () => {
    const pull = new zmq.Pull({ linger: 0 })
    await pull.bind("inproc://t-order")
    const sent = inWorker(async () => {
      const push = new zmq.Push({ linger: -1 })
      push.connect("inproc://t-order")
      for (let i = 0; i < 10000; i++) await push.send(String(i))
      push.close()
      return "sent"
    })
    let inOrder = true
    for (let i = 0; i < 10000; i++) if (String((await pull.receive())[0]) !== String(i)) inOrder = false
    await sent
    pull.close()
    return inOrder
  })
  await check("the HWM bounds what a sender may queue for a receiver that does not read", async () => {
    const push = new zmq.Push({ linger: 0, sendHighWaterMark: 5, sendTimeout: 200 })
    await push.bind("inproc://t-hwm")
    const worker = inWorker(async () => {
      const pull = new zmq.Pull({ linger: 0, receiveHighWaterMark: 5 })
      pull.connect("inproc://t-hwm")
      await new Promise((r) => setTimeout(r, 1500))
      let n = 0
      pull.receiveTimeout = 300
      try { for (;;) { await pull.receive(); n++ } } catch {}
      pull.close()
      return n
    })
    await new Promise((r) => setTimeout(r, 200))
    let sent = 0
    try { for (; sent < 100; sent++) await push.send(String(sent)) } catch (e) { if (e.code !== "EAGAIN") throw e }
    const received = await worker
    push.close()
    return { sentBeforeEAGAIN: sent, received }
  })
  await check("REQ in a worker, REP in main", async () => {
    const rep = new zmq.Reply({ linger: 0 })
    await rep.bind("inproc://t-rr")
    const client = inWorker(async () => {
      const req = new zmq.Request({ linger: 0 })
      req.connect("inproc://t-rr")
      const out = []
      for (const q of ["a", "b", "c"]) { await req.send(q); out.push(String((await req.receive())[0])) }
      req.close()
      return out
    })
    for (let i = 0; i < 3; i++) { const [q] = await rep.receive(); await rep.send(String(q).toUpperCase()) }
    const got = await client
    rep.close()
    return got
  })
  await check("PUB in main, SUB with a prefix in a worker", async () => {
    const pub = new zmq.Publisher({ linger: 0 })
    await pub.bind("inproc://t-pubsub")
    const sub = inWorker(async () => {
      const s = new zmq.Subscriber({ linger: 0, receiveTimeout: 5000 })
      s.connect("inproc://t-pubsub")
      s.subscribe("keep")
      const got = []
      while (got.length < 3) { const [m] = await s.receive(); got.push(String(m)) }
      s.close()
      return got
    })
    const deadline = Date.now() + 5000
    let result
    const pump = (async () => { while (Date.now() < deadline && result === undefined) { await pub.send("drop-1"); await pub.send("keep-1"); await new Promise((r) => setTimeout(r, 10)) } })()
    const got = await sub
    result = got
    await pump
    pub.close()
    return { onlyKept: got.every((m) => m === "keep-1"), count: got.length }
  })
  await check("zeromq.js's threaded-worker shape: PUSH to 2 workers, results back, PUB stop", async () => {
    const input = new zmq.Push()
    const output = new zmq.Pull()
    const signal = new zmq.Publisher()
    await Promise.all([input.bind("inproc://input"), output.bind("inproc://output"), signal.bind("inproc://signal")])
    const worker = () => inWorker(async () => {
      const input = new zmq.Pull({ receiveHighWaterMark: 1 })
      const output = new zmq.Push()
      const signal = new zmq.Subscriber()
      input.connect("inproc://input")
      output.connect("inproc://output")
      signal.connect("inproc://signal")
      signal.subscribe()
      const stop = (async () => { for await (const [s] of signal) if (String(s) === "stop") break; input.close(); output.close(); signal.close() })()
      let n = 0
      for await (const [pos, ch] of input) { await output.send([pos, String(ch).toUpperCase()]); n++ }
      await stop
      return n
    })
    let accepted = 0
    const both = new Promise((resolve) => input.onConnectionEvent((t) => { if (t === "accept" && ++accepted === 2) resolve() }))
    const workers = [worker(), worker()]
    await both // as the example's 100 ms pause: both workers are connected before the work is sent
    const text = "hello threaded world"
    for (const [i, ch] of [...text].entries()) await input.send([String(i), ch])
    const out = Array.from({ length: text.length })
    for await (const [pos, res] of output) { out[Number(String(pos))] = String(res); if (out.every((x) => x !== undefined)) break }
    const t0 = Date.now()
    let counts
    const stopper = (async () => { while (counts === undefined && Date.now() - t0 < 5000) { await signal.send("stop"); await new Promise((r) => setTimeout(r, 20)) } })()
    counts = await Promise.all(workers)
    await stopper
    for (const s of [input, output, signal]) s.close()
    return { result: out.join(""), shared: counts.every((n) => n > 0), total: counts.reduce((a, b) => a + b, 0) }
  })
  console.log(JSON.stringify(checks))
  process.exit(0)
})()
`

beforeAll(async () => {
  // Inside the project (node_modules/.cache), so that the bundle finds the dependencies it leaves out.
  const cache = path.join(root, "node_modules", ".cache")
  fs.mkdirSync(cache, { recursive: true })
  dir = fs.mkdtempSync(path.join(cache, "omq-threads-"))
  await build({
    entryPoints: [path.join(root, "lib/index.ts")],
    bundle: true,
    packages: "external",
    platform: "node",
    format: "cjs",
    target: "node20",
    logLevel: "silent",
    outfile: path.join(dir, "omq.cjs"),
  })
  fs.writeFileSync(path.join(dir, "main.cjs"), MAIN)
}, 60_000)

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))

describe("inproc across worker threads", () => {
  it("connects sockets of different threads through the default context, as zeromq.js does", async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [path.join(dir, "main.cjs")], { timeout: 60_000 })
    const checks = JSON.parse(stdout) as Record<string, unknown>
    expect(checks).toEqual({
      "main binds, worker connects (PAIR echo)": ["echo", "foo", "bar"],
      "worker binds, main connects first (connect before bind)": ["queued before the bind"],
      "between two workers": ["foo", "bar"],
      "10,000 messages arrive in order": true,
      // sndhwm 5 + rcvhwm 5 in flight, as within one thread; the worker then reads all of them.
      "the HWM bounds what a sender may queue for a receiver that does not read": { sentBeforeEAGAIN: 10, received: 10 },
      "REQ in a worker, REP in main": ["A", "B", "C"],
      "PUB in main, SUB with a prefix in a worker": { onlyKept: true, count: 3 },
      "zeromq.js's threaded-worker shape: PUSH to 2 workers, results back, PUB stop": {
        result: "HELLO THREADED WORLD",
        shared: true,
        total: 20,
      },
    })
  }, 90_000)
})
