/**
 * Soak run: a longer mixed workload with faults, for robustness.
 *
 *   npm run soak -- --seconds 120 [--restart-ms 1500] [--no-children] [--no-track]
 *
 * Lanes, each over tcp, ipc and inproc, all at once in this process:
 *  - PUSH/PULL: two PUSHes (one restarted periodically) → a PULL (itself
 *    closed and re-bound to the same endpoint periodically, tcp/ipc);
 *  - REQ/REP: two REQs (relaxed + correlate; one restarted) ↔ an echoing
 *    REP (restarted, tcp/ipc);
 *  - PUB/SUB: a PUB (restarted, tcp/ipc) → two SUBs (one restarted);
 *  - child processes (tcp and ipc, unless --no-children): a PUSH in a child
 *    node process (omq or libzmq, alternately; test/load/kill-peer.ts) joins a
 *    PUSH/PULL lane, streams, and is killed with SIGKILL, again and again.
 * inproc binders are not restarted (as in libzmq, an inproc connection is not
 * re-made once its binder is gone).
 *
 * Every message is checked: PUSH/PULL and PUB/SUB messages are
 * [tag, seq, payload] with the payload filled with (seq & 0xff), and seq must
 * strictly increase per sender (losses are allowed around restarts, never
 * reordering, duplicates or torn messages); REQ gets back exactly its request.
 *
 * Prints progress every 10 s and at the end: msgs/s, restarts, reconnects
 * (handshakes after a socket's first), peak RSS, open handles and fds at the
 * end vs the start. Exit code 1 on any error, unhandled rejection, uncaught
 * exception, or handle/fd leak; 2 for bad usage.
 */
import { spawn, type ChildProcess } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { parseArgs } from "node:util"
import * as omq from "../../lib/index.js"
import { ResourceTracker, RssSampler, delay, describeLeaks, isEagain, mb, resourceState, settle, within } from "./util.js"

// ---- options ----

let opts: { seconds: number; restartMs: number; children: boolean; track: boolean }
try {
  const { values } = parseArgs({
    options: {
      seconds: { type: "string", default: "60" },
      "restart-ms": { type: "string", default: "1500" },
      "no-children": { type: "boolean", default: false },
      "no-track": { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
  })
  if (values.help) {
    console.log("usage: npm run soak -- [--seconds N] [--restart-ms MS] [--no-children] [--no-track]")
    process.exit(0)
  }
  opts = {
    seconds: Number(values.seconds),
    restartMs: Number(values["restart-ms"]),
    children: !values["no-children"],
    track: !values["no-track"],
  }
  if (!(opts.seconds > 0) || !(opts.restartMs >= 100)) throw new Error("--seconds must be > 0, --restart-ms >= 100")
} catch (err) {
  console.error(String((err as Error).message ?? err))
  console.error("usage: npm run soak -- [--seconds N] [--restart-ms MS] [--no-children] [--no-track]")
  process.exit(2)
}

// ---- error bookkeeping ----

const errors: string[] = []
function fail(what: string, err?: unknown): void {
  const msg = err === undefined ? what : `${what}: ${(err as Error)?.stack ?? String(err)}`
  errors.push(msg)
  if (errors.length <= 20) console.error(`[soak] ERROR ${msg}`)
}
process.on("unhandledRejection", (err) => fail("unhandled rejection", err))
process.on("uncaughtException", (err) => fail("uncaught exception", err))

// ---- shared state ----

type Transport = "tcp" | "ipc" | "inproc"
const TRANSPORTS: readonly Transport[] = ["tcp", "ipc", "inproc"]
const here = path.dirname(fileURLToPath(import.meta.url))
const root = path.resolve(here, "../..")
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "omq-soak-"))

let running = true
const stats = {
  received: { pushpull: 0, reqrep: 0, pubsub: 0, child: 0 },
  restarts: 0,
  handshakes: 0,
  reconnects: 0,
  disconnects: 0,
  /** PUSH/PULL stream messages missing around restarts (in a dead PULL's queue, or skipped on EAGAIN). */
  lost: 0,
  /** PUB/SUB messages dropped at the HWM (a slow subscriber). */
  dropped: 0,
  reqTimeouts: 0,
  childrenKilled: 0,
}
const total = () => stats.received.pushpull + stats.received.reqrep + stats.received.pubsub + stats.received.child

const until = (ms: number) => Date.now() + ms
/** Next restart time, jittered so lanes do not restart in lockstep. */
const nextRestart = (factor = 1) => until(opts.restartMs * factor * (0.6 + 0.8 * Math.random()))
const yieldIo = () => new Promise<void>((r) => setImmediate(r))
let ipcCount = 0

/** Watches a socket's events: counts handshakes, reconnects (handshakes after its first) and disconnects. */
function watch<T extends omq.Socket>(sock: T): T {
  let seen = 0
  sock.events.on("handshake", () => {
    stats.handshakes++
    if (seen++ > 0) stats.reconnects++
  })
  sock.events.on("disconnect", () => stats.disconnects++)
  return sock
}

function endpointFor(t: Transport, name: string): string {
  if (t === "tcp") return "tcp://127.0.0.1:*"
  if (t === "ipc") return `ipc://${path.join(tmp, `${name}-${ipcCount++}.sock`)}`
  return `inproc://soak-${name}`
}

/** Binds; when re-binding a fixed tcp port or ipc path, retries briefly (the old listener may still be closing). */
async function bindRetry(sock: omq.Socket, endpoint: string): Promise<string> {
  const end = until(3000)
  for (;;) {
    try {
      await sock.bind(endpoint)
      return sock.lastEndpoint!
    } catch (err) {
      if ((err as { code?: string }).code !== "EADDRINUSE" || Date.now() > end) throw err
      await delay(20)
    }
  }
}

/** Checks [tag, seq, payload] messages: whole, and seq strictly increasing per tag. */
class StreamChecker {
  private readonly last = new Map<string, number>()
  constructor(
    private readonly lane: string,
    private readonly gaps: "lost" | "dropped",
  ) {}
  check(msg: Buffer[]): string | undefined {
    if (msg.length !== 3 || msg[1]!.length !== 4) {
      fail(`${this.lane}: malformed message (${msg.length} parts: ${msg.map((p) => p.length).join("/")})`)
      return undefined
    }
    const tag = msg[0]!.toString()
    const seq = msg[1]!.readUInt32LE(0)
    const p = msg[2]!
    if (p.length > 0 && (p[0] !== (seq & 0xff) || p[p.length - 1] !== (seq & 0xff))) {
      fail(`${this.lane}: torn payload in ${tag}#${seq}`)
    }
    const prev = this.last.get(tag) ?? -1
    if (seq <= prev) fail(`${this.lane}: ${tag}#${seq} after #${prev} (reordered or duplicated)`)
    else stats[this.gaps] += seq - prev - 1
    this.last.set(tag, seq)
    return tag
  }
}

function streamMessage(tag: Buffer, seq: number, size: number): Buffer[] {
  const s = Buffer.allocUnsafe(4)
  s.writeUInt32LE(seq >>> 0, 0)
  return [tag, s, Buffer.alloc(size, seq & 0xff)]
}

// ---- lanes ----

/** An actor: runs until `running` is false; errors other than EAGAIN are failures. */
async function actor(name: string, body: () => Promise<void>): Promise<void> {
  try {
    await body()
  } catch (err) {
    if (running || !isEagain(err)) fail(`${name} crashed`, err)
  }
}

/** The PULL side of a PUSH/PULL lane; restarted (close + re-bind same endpoint) unless inproc. */
function pushPullLane(t: Transport, onEndpoint: (ep: string) => void): Promise<void>[] {
  const lane = `pushpull/${t}`
  const checker = new StreamChecker(lane, "lost")
  let endpoint = endpointFor(t, "pushpull")
  let ready!: () => void
  const bound = new Promise<void>((r) => (ready = r))
  const receiver = actor(`${lane} PULL`, async () => {
    while (running) {
      const pull = watch(new omq.Pull({ linger: 0, receiveTimeout: 300 }))
      endpoint = await bindRetry(pull, endpoint)
      onEndpoint(endpoint)
      ready()
      const restartAt = t === "inproc" ? Infinity : nextRestart(4)
      try {
        let n = 0
        while (running && Date.now() < restartAt) {
          let msg: Buffer[]
          try {
            msg = await pull.receive()
          } catch (err) {
            if (isEagain(err)) continue
            throw err
          }
          if (checker.check(msg)?.startsWith("child/")) stats.received.child++
          else stats.received.pushpull++
          if (++n % 200 === 0) await yieldIo()
        }
      } finally {
        pull.close()
      }
      if (running) stats.restarts++
    }
  })
  const sender = (id: string, restarting: boolean) =>
    actor(`${lane} PUSH ${id}`, async () => {
      await bound
      for (let inc = 0; running; inc++) {
        const push = watch(new omq.Push({ linger: 0, sendTimeout: 300, reconnectInterval: 20, sendHighWaterMark: 500 }))
        push.connect(endpoint)
        const tag = Buffer.from(`${lane}/${id}#${inc}`)
        const restartAt = restarting ? nextRestart() : Infinity
        try {
          for (let seq = 0; running && Date.now() < restartAt; seq++) {
            try {
              await push.send(streamMessage(tag, seq, seq % 7 === 0 ? 2000 : seq % 97))
            } catch (err) {
              if (!isEagain(err)) throw err
              // EAGAIN: the PULL is away (restarting); this seq is simply not sent.
            }
            if (seq % 25 === 24) await yieldIo()
          }
        } finally {
          push.close()
        }
        if (running) stats.restarts++
      }
    })
  return [receiver, sender("a", false), sender("b", true)]
}

function reqRepLane(t: Transport): Promise<void>[] {
  const lane = `reqrep/${t}`
  let endpoint = endpointFor(t, "reqrep")
  let ready!: () => void
  const bound = new Promise<void>((r) => (ready = r))
  const server = actor(`${lane} REP`, async () => {
    while (running) {
      const rep = watch(new omq.Reply({ linger: 0, receiveTimeout: 300, sendTimeout: 300 }))
      endpoint = await bindRetry(rep, endpoint)
      ready()
      const restartAt = t === "inproc" ? Infinity : nextRestart(3)
      try {
        let n = 0
        while (running && Date.now() < restartAt) {
          let req: Buffer[]
          try {
            req = await rep.receive()
          } catch (err) {
            if (isEagain(err)) continue
            throw err
          }
          try {
            await rep.send(req)
          } catch (err) {
            if (!isEagain(err)) throw err
          }
          if (++n % 100 === 0) await yieldIo()
        }
      } finally {
        rep.close()
      }
      if (running) stats.restarts++
    }
  })
  const client = (id: string, restarting: boolean) =>
    actor(`${lane} REQ ${id}`, async () => {
      await bound
      for (let inc = 0; running; inc++) {
        const req = watch(
          new omq.Request({ linger: 0, relaxed: true, correlate: true, receiveTimeout: 1000, sendTimeout: 300, reconnectInterval: 20 }),
        )
        req.connect(endpoint)
        const restartAt = restarting ? nextRestart(2) : Infinity
        try {
          for (let seq = 0; running && Date.now() < restartAt; seq++) {
            const body = `${lane}/${id}#${inc}:${seq}:${"r".repeat(seq % 50)}`
            try {
              await req.send(body)
              const [reply, ...rest] = await req.receive()
              if (rest.length !== 0 || reply!.toString() !== body) {
                fail(`${lane}: REQ ${id} sent "${body}" got "${reply?.toString()}" (+${rest.length} parts)`)
              }
              stats.received.reqrep++
            } catch (err) {
              if (!isEagain(err)) throw err
              stats.reqTimeouts++ // the REP restarted with our request: ask again (relaxed)
            }
            if (seq % 50 === 49) await yieldIo()
          }
        } finally {
          req.close()
        }
        if (running) stats.restarts++
      }
    })
  return [server, client("a", false), client("b", true)]
}

function pubSubLane(t: Transport): Promise<void>[] {
  const lane = `pubsub/${t}`
  let endpoint = endpointFor(t, "pubsub")
  let ready!: () => void
  const bound = new Promise<void>((r) => (ready = r))
  const publisher = actor(`${lane} PUB`, async () => {
    for (let inc = 0; running; inc++) {
      const pub = watch(new omq.Publisher({ linger: 0, sendHighWaterMark: 1000 }))
      endpoint = await bindRetry(pub, endpoint)
      ready()
      const restartAt = t === "inproc" ? Infinity : nextRestart(4)
      const tags = [Buffer.from(`${lane}/A#${inc}`), Buffer.from(`${lane}/B#${inc}`)]
      try {
        for (let seq = 0; running && Date.now() < restartAt; seq++) {
          // Topic = tag; each SUB subscribes to both prefixes "…/A" and "…/B" through "pubsub/".
          await pub.send(streamMessage(tags[seq & 1]!, seq >>> 1, seq % 13 === 0 ? 1500 : seq % 64))
          if (seq % 25 === 24) await yieldIo()
        }
      } finally {
        pub.close()
      }
      if (running) stats.restarts++
    }
  })
  const subscriber = (id: string, restarting: boolean) =>
    actor(`${lane} SUB ${id}`, async () => {
      await bound
      while (running) {
        const sub = watch(new omq.Subscriber({ linger: 0, receiveTimeout: 300, reconnectInterval: 20 }))
        sub.subscribe(`${lane}/`)
        sub.subscribe("never-published")
        sub.connect(endpoint)
        // Each subscriber sees the whole stream: its own checker.
        const checker = new StreamChecker(`${lane} SUB ${id}`, "dropped")
        const restartAt = restarting ? nextRestart(2) : Infinity
        try {
          let n = 0
          while (running && Date.now() < restartAt) {
            let msg: Buffer[]
            try {
              msg = await sub.receive()
            } catch (err) {
              if (isEagain(err)) continue
              throw err
            }
            const tag = checker.check(msg)
            if (tag !== undefined && !tag.startsWith(`${lane}/`)) fail(`${lane}: SUB got unsubscribed topic ${tag}`)
            stats.received.pubsub++
            if (++n % 200 === 0) await yieldIo()
          }
        } finally {
          sub.close()
        }
        if (running) stats.restarts++
      }
    })
  return [publisher, subscriber("a", false), subscriber("b", true)]
}

/** Children that stream into a PUSH/PULL lane's PULL and get killed with SIGKILL. */
const children = new Set<ChildProcess>()
function childLane(getEndpoint: () => string | undefined, t: Transport): Promise<void> {
  return actor(`children/${t}`, async () => {
    for (let n = 0; running; n++) {
      const endpoint = getEndpoint()
      if (endpoint === undefined) {
        await delay(50)
        continue
      }
      const lib = n % 2 === 0 ? "omq" : "libzmq"
      const tag = `child/${t}/${lib}#${n}`
      const child = spawn(process.execPath, ["--import", "tsx", path.join(here, "kill-peer.ts"), endpoint, lib, tag], {
        cwd: root,
        stdio: ["pipe", "pipe", "pipe"],
      })
      children.add(child)
      let stderr = ""
      child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()))
      child.stdout!.resume()
      child.stdin!.on("error", () => {})
      const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)))
      // Let it stream for a while (the PULL may restart meanwhile), then kill it.
      const killAt = until(opts.restartMs * 2)
      while (running && Date.now() < killAt && child.exitCode === null) await delay(50)
      if (child.exitCode !== null) fail(`${tag} exited by itself (code ${child.exitCode}): ${stderr.slice(0, 500)}`)
      child.kill("SIGKILL")
      await within(exited, 5000, `${tag} to exit after SIGKILL`)
      children.delete(child)
      if (running) stats.childrenKilled++
    }
  })
}

// ---- main ----

async function main(): Promise<number> {
  // Warm-up: omq's shared keep-alive timer is created on the first wait and lives on by design.
  {
    const pull = new omq.Pull({ linger: 0, receiveTimeout: 2000 })
    const push = new omq.Push({ linger: 0 })
    await pull.bind("inproc://soak-warmup")
    push.connect("inproc://soak-warmup")
    const got = pull.receive()
    await push.send("x")
    await got
    push.close()
    pull.close()
  }
  const tracker = opts.track ? new ResourceTracker().enable() : undefined
  await delay(50)
  const base = resourceState(tracker)
  const mark = tracker?.mark() ?? 0
  const rss0 = process.memoryUsage.rss()
  const sampler = new RssSampler(100)
  const t0 = Date.now()
  console.log(
    `[soak] ${opts.seconds} s, restarts every ~${opts.restartMs} ms, children ${opts.children ? "on" : "off"}, ` +
      `handle tracking ${opts.track ? "on" : "off"}; start: RSS ${mb(rss0)}, fds ${base.fds}, ` +
      `active ${JSON.stringify(base.active)}, tracked ${JSON.stringify(base.tracked)}`,
  )

  const pullEndpoints = new Map<Transport, string>()
  const actors: Promise<void>[] = []
  for (const t of TRANSPORTS) {
    actors.push(...pushPullLane(t, (ep) => pullEndpoints.set(t, ep)))
    actors.push(...reqRepLane(t))
    actors.push(...pubSubLane(t))
  }
  if (opts.children) {
    for (const t of ["tcp", "ipc"] as const) actors.push(childLane(() => pullEndpoints.get(t), t))
  }

  let lastTotal = 0
  let lastT = Date.now()
  const report = setInterval(() => {
    const now = Date.now()
    const n = total()
    const r = stats.received
    console.log(
      `[soak] ${((now - t0) / 1000).toFixed(0)} s: ${Math.round(((n - lastTotal) * 1000) / (now - lastT)).toLocaleString("en-US")} msgs/s ` +
        `(push/pull ${r.pushpull}, req/rep ${r.reqrep}, pub/sub ${r.pubsub}, children ${r.child}); ` +
        `restarts ${stats.restarts}, reconnects ${stats.reconnects}, disconnects ${stats.disconnects}, ` +
        `children killed ${stats.childrenKilled}; RSS ${mb(process.memoryUsage.rss())}, fds ${resourceState().fds}; errors ${errors.length}`,
    )
    lastTotal = n
    lastT = now
  }, 10_000)

  await delay(opts.seconds * 1000)
  running = false
  clearInterval(report)
  const elapsed = (Date.now() - t0) / 1000
  try {
    await within(Promise.all(actors), 15_000, "every actor to stop")
  } catch (err) {
    fail("shutdown", err)
  }
  for (const c of children) c.kill("SIGKILL")
  sampler.stop()

  // Closes are asynchronous: give them a few seconds to land.
  const left = await settle(base, tracker, { slackFds: 2, slack: 0, ms: 10_000 })
  const end = left.state
  const leaked = left.fds > 0 || Object.keys(left.active).length > 0 || Object.keys(left.tracked).length > 0
  const n = total()
  const r = stats.received
  console.log(
    [
      `[soak] done after ${elapsed.toFixed(1)} s`,
      `  messages: ${n.toLocaleString("en-US")} (${Math.round(n / elapsed).toLocaleString("en-US")} msgs/s): ` +
        `push/pull ${r.pushpull}, req/rep ${r.reqrep}, pub/sub ${r.pubsub}, from killed children ${r.child}`,
      `  restarts ${stats.restarts}, handshakes ${stats.handshakes}, reconnects ${stats.reconnects}, ` +
        `disconnects ${stats.disconnects}, children killed ${stats.childrenKilled}, ` +
        `REQ timeouts (request lost in a restart) ${stats.reqTimeouts}, PUSH/PULL messages lost around restarts ${stats.lost}, PUB/SUB messages dropped at HWM ${stats.dropped}`,
      `  RSS: start ${mb(rss0)}, peak ${mb(sampler.peak)}, end ${mb(process.memoryUsage.rss())}`,
      `  fds: start ${base.fds}, end ${end.fds}`,
      `  active handles: start ${JSON.stringify(base.active)}, end ${JSON.stringify(end.active)}`,
      `  tracked handles/timers: start ${JSON.stringify(base.tracked)}, end ${JSON.stringify(end.tracked)}`,
    ].join("\n"),
  )
  if (leaked) {
    fail(
      `handle leak: fds +${left.fds}, active ${JSON.stringify(left.active)}, tracked ${JSON.stringify(left.tracked)}` +
        (tracker ? `\n${describeLeaks(tracker.leaksSince(mark))}` : ""),
    )
  }
  if (stats.received.pushpull === 0 || stats.received.reqrep === 0 || stats.received.pubsub === 0) {
    fail(`a lane moved no messages: ${JSON.stringify(stats.received)}`)
  }
  fs.rmSync(tmp, { recursive: true, force: true })
  tracker?.disable()
  if (errors.length > 0) {
    console.error(`[soak] FAILED with ${errors.length} error(s)`)
    return 1
  }
  console.log("[soak] OK")
  return 0
}

main().then(
  (code) => process.exit(code),
  (err) => {
    fail("main", err)
    for (const c of children) c.kill("SIGKILL")
    process.exit(1)
  },
)
