/**
 * A peer process dies (SIGKILL) in the middle of a stream while another peer
 * keeps streaming to the same omq PULL:
 *  - the survivor's messages keep arriving, in order, none lost;
 *  - the PULL reports a "disconnect" for the dead peer;
 *  - every message received is whole (a frame cut by the kill is dropped,
 *    never delivered as garbage), and nothing throws.
 * The victim is a child node process running test/load/kill-peer.ts, with
 * an omq PUSH or a libzmq PUSH (zeromq.js); tcp and ipc.
 */
import { spawn, type ChildProcess } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { afterEach, describe, expect, it } from "vitest"
import * as omq from "../../lib/index.js"
import { uniqueIpc } from "../helpers.js"
import { delay, isEagain, waitUntil } from "./util.js"

const here = path.dirname(fileURLToPath(import.meta.url))
const root = path.resolve(here, "../..")
const PEER = path.join(here, "kill-peer.ts")

const children = new Set<ChildProcess>()
const open: { close(): void }[] = []
const ipcFiles: string[] = []
afterEach(() => {
  for (const c of children) c.kill("SIGKILL")
  children.clear()
  for (const s of open.splice(0)) {
    try {
      s.close()
    } catch {
      /* closed */
    }
  }
  for (const f of ipcFiles.splice(0)) fs.rmSync(f, { force: true })
})

interface Peer {
  child: ChildProcess
  stderr(): string
  stdout(): string
}

function spawnPeer(endpoint: string, lib: "omq" | "libzmq", tag: string, mode: "push" | "pull" = "push"): Peer {
  const child = spawn(process.execPath, ["--import", "tsx", PEER, endpoint, lib, tag, mode], {
    cwd: root,
    stdio: ["pipe", "pipe", "pipe"],
  })
  children.add(child)
  let err = ""
  let out = ""
  child.stderr!.on("data", (d: Buffer) => (err += d.toString()))
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()))
  child.stdin!.on("error", () => {})
  return { child, stderr: () => err, stdout: () => out }
}

function endpointFor(transport: "tcp" | "ipc"): string {
  if (transport === "tcp") return "tcp://127.0.0.1:*"
  const ep = uniqueIpc()
  ipcFiles.push(ep.slice("ipc://".length))
  return ep
}

/** Checks [tag, seq, payload] messages (whole, seq strictly increasing per tag) and counts them per tag. */
class Checker {
  readonly streams = new Map<string, Stream>()
  readonly problems: string[] = []
  constructor(private readonly contiguous: boolean) {}
  check(msg: Buffer[]): void {
    const [tagBuf, seqBuf, payload] = msg
    const tag = tagBuf?.toString() ?? "?"
    if (msg.length !== 3 || seqBuf!.length !== 4 || payload!.length !== 1000) {
      this.problems.push(`${tag}: malformed message (${msg.map((p) => p.length).join("/")})`)
      return
    }
    const seq = seqBuf!.readUInt32LE(0)
    if (payload![0] !== (seq & 0xff) || payload![999] !== (seq & 0xff)) this.problems.push(`${tag}#${seq}: bad payload`)
    const s = this.streams.get(tag) ?? { count: 0, last: -1 }
    if (this.contiguous ? seq !== s.last + 1 : seq <= s.last) this.problems.push(`${tag}: got #${seq} after #${s.last}`)
    s.last = seq
    s.count++
    this.streams.set(tag, s)
  }
  count(tag: string): number {
    return this.streams.get(tag)?.count ?? 0
  }
}

/** Receives until stopped (then the socket is closed by the caller). */
function receiveLoop(sock: omq.Pull, onMessage: (msg: Buffer[]) => void, stopped: () => boolean): Promise<void> {
  return (async () => {
    while (!stopped()) {
      let msg: Buffer[]
      try {
        msg = await sock.receive()
      } catch (err) {
        if (stopped() && isEagain(err)) return
        throw err
      }
      onMessage(msg)
    }
  })()
}

/** Streams [tag, seq, payload] messages until stopped. */
function sendLoop(sock: omq.Push, tagName: string, stopped: () => boolean): Promise<number> {
  return (async () => {
    const tag = Buffer.from(tagName)
    let seq = 0
    for (; !stopped(); seq++) {
      const s = Buffer.allocUnsafe(4)
      s.writeUInt32LE(seq, 0)
      await sock.send([tag, s, Buffer.alloc(1000, seq & 0xff)])
      if (seq % 64 === 63) await new Promise((r) => setImmediate(r))
    }
    return seq
  })()
}

interface Stream {
  count: number
  last: number
}

for (const transport of ["tcp", "ipc"] as const) {
  for (const lib of ["omq", "libzmq"] as const) {
    describe(`SIGKILL of a streaming ${lib} PUSH process [${transport}]`, () => {
      it("the other peer's stream goes on, a disconnect is reported, nothing breaks", { timeout: 40_000 }, async () => {
        const pull = new omq.Pull({ linger: 0, receiveTimeout: 10_000 })
        open.push(pull)
        const disconnects: number[] = []
        let handshakes = 0
        pull.events.on("disconnect", () => disconnects.push(Date.now()))
        pull.events.on("handshake", () => handshakes++)
        await pull.bind(endpointFor(transport))
        const ep = pull.lastEndpoint!

        const checker = new Checker(true)
        let stop = false
        const receiver = receiveLoop(
          pull,
          (m) => checker.check(m),
          () => stop,
        )

        // Survivor: an in-process omq PUSH streaming the same kind of messages.
        const survivor = new omq.Push({ linger: 0, sendTimeout: 10_000 })
        open.push(survivor)
        survivor.connect(ep)
        let survivorStop = false
        const survivorLoop = sendLoop(survivor, "survivor", () => survivorStop)
        await waitUntil(() => checker.count("survivor") > 100, 10_000, "the survivor's stream")

        const victim = spawnPeer(ep, lib, "victim")
        await waitUntil(() => checker.count("victim") >= 2000 || victim.child.exitCode !== null, 20_000, `the ${lib} child's stream`)
        expect(victim.child.exitCode, `child exited early: ${victim.stderr()}`).toBeNull()
        expect(handshakes).toBe(2)
        expect(disconnects).toHaveLength(0)

        // Kill it mid-stream.
        const exited = new Promise((r) => victim.child.once("exit", r))
        victim.child.kill("SIGKILL")
        await exited
        const killedAt = Date.now()
        await waitUntil(() => disconnects.length >= 1, 5000, "a disconnect event for the killed peer")
        const disconnectMs = disconnects[0]! - killedAt
        const survivorAtDisconnect = checker.count("survivor")
        const victimAtDisconnect = checker.count("victim")

        // The survivor keeps streaming to the same PULL.
        await waitUntil(() => checker.count("survivor") >= survivorAtDisconnect + 5000, 15_000, "the survivor's messages after the kill")
        await delay(100)
        const victimTotal = checker.count("victim")
        const disconnectsWhileRunning = disconnects.length
        survivorStop = true
        await survivorLoop
        stop = true
        pull.close()
        await receiver

        console.log(
          `[kill] ${lib} PUSH child over ${transport}: ${victimTotal} messages from it before SIGKILL ` +
            `(${victimTotal - victimAtDisconnect} read after the disconnect event, from the queue); ` +
            `disconnect reported ${disconnectMs} ms after the child exited; ` +
            `survivor: ${survivorAtDisconnect} before, ${checker.count("survivor")} total, in order`,
        )
        expect(checker.problems, checker.problems.slice(0, 5).join("; ")).toEqual([])
        expect(disconnectsWhileRunning, "disconnect events (only the killed peer's)").toBe(1)
        expect(checker.count("survivor")).toBeGreaterThan(survivorAtDisconnect)
      })
    })
  }
}

describe("SIGKILL of a PULL process an omq PUSH streams to", () => {
  for (const lib of ["omq", "libzmq"] as const) {
    it(`${lib} PULL child killed [tcp]: the PUSH goes on with the other PULL`, { timeout: 40_000 }, async () => {
      const push = new omq.Push({ linger: 0, sendTimeout: 10_000 })
      open.push(push)
      const disconnects: number[] = []
      let handshakes = 0
      push.events.on("disconnect", () => disconnects.push(Date.now()))
      push.events.on("handshake", () => handshakes++)
      await push.bind("tcp://127.0.0.1:*")
      const ep = push.lastEndpoint!

      const survivor = new omq.Pull({ linger: 0, receiveTimeout: 10_000 })
      open.push(survivor)
      survivor.connect(ep)
      const checker = new Checker(false) // round robin: the survivor gets a subsequence
      let stop = false
      const receiver = receiveLoop(
        survivor,
        (m) => checker.check(m),
        () => stop,
      )
      let sendStop = false
      const sender = sendLoop(push, "stream", () => sendStop)
      await waitUntil(() => checker.count("stream") > 100, 10_000, "the stream to the survivor")

      const victim = spawnPeer(ep, lib, "victim", "pull")
      await waitUntil(() => victim.stdout().includes("receiving") || victim.child.exitCode !== null, 20_000, `the ${lib} PULL child to receive`)
      expect(victim.child.exitCode, `child exited early: ${victim.stderr()}`).toBeNull()
      await delay(200) // mid-stream
      expect(handshakes).toBe(2)

      const exited = new Promise((r) => victim.child.once("exit", r))
      victim.child.kill("SIGKILL")
      await exited
      const killedAt = Date.now()
      await waitUntil(() => disconnects.length >= 1, 5000, "a disconnect event for the killed PULL")
      const atDisconnect = checker.count("stream")
      await waitUntil(() => checker.count("stream") >= atDisconnect + 5000, 15_000, "the survivor's messages after the kill")
      const disconnectsWhileRunning = disconnects.length
      sendStop = true
      const sent = await sender
      stop = true
      survivor.close()
      await receiver
      console.log(
        `[kill] ${lib} PULL child over tcp killed: disconnect reported ${disconnects[0]! - killedAt} ms after exit; ` +
          `PUSH sent ${sent}, survivor got ${checker.count("stream")} (${atDisconnect} before the disconnect), in order`,
      )
      expect(checker.problems, checker.problems.slice(0, 5).join("; ")).toEqual([])
      expect(disconnectsWhileRunning).toBe(1)
    })
  }
})

describe("a frozen peer (SIGSTOP) is dropped by heartbeats", () => {
  for (const lib of ["omq", "libzmq"] as const) {
    it(`${lib} PUSH child stopped [tcp]: heartbeat timeout, disconnect; after SIGCONT it reconnects`, { timeout: 40_000 }, async () => {
      const pull = new omq.Pull({ linger: 0, receiveTimeout: 10_000, heartbeatInterval: 100, heartbeatTimeout: 400 })
      open.push(pull)
      const disconnects: number[] = []
      let handshakes = 0
      pull.events.on("disconnect", () => disconnects.push(Date.now()))
      pull.events.on("handshake", () => handshakes++)
      await pull.bind("tcp://127.0.0.1:*")
      const ep = pull.lastEndpoint!
      // Sequence gaps are allowed for the victim (what sat in its dead connection is lost), never reordering.
      const checker = new Checker(false)
      let stop = false
      const receiver = receiveLoop(
        pull,
        (m) => checker.check(m),
        () => stop,
      )
      const survivor = new omq.Push({ linger: 0, sendTimeout: 10_000 })
      open.push(survivor)
      survivor.connect(ep)
      let survivorStop = false
      const survivorLoop = sendLoop(survivor, "survivor", () => survivorStop)

      const victim = spawnPeer(ep, lib, "victim")
      await waitUntil(() => checker.count("victim") >= 1000 || victim.child.exitCode !== null, 20_000, `the ${lib} child's stream`)
      expect(victim.child.exitCode, `child exited early: ${victim.stderr()}`).toBeNull()
      victim.child.kill("SIGSTOP")
      const stoppedAt = Date.now()
      await waitUntil(() => disconnects.length >= 1, 5000, "the heartbeat to drop the frozen peer")
      const detectMs = disconnects[0]! - stoppedAt
      const survivorAt = checker.count("survivor")
      await waitUntil(() => checker.count("survivor") >= survivorAt + 2000, 10_000, "the survivor's messages meanwhile")
      const victimBefore = checker.count("victim")
      victim.child.kill("SIGCONT")
      await waitUntil(() => handshakes >= 3, 10_000, "the resumed child to reconnect")
      await waitUntil(() => checker.count("victim") > victimBefore + 500, 10_000, "the resumed child's stream")
      victim.child.kill("SIGKILL")
      survivorStop = true
      await survivorLoop
      stop = true
      pull.close()
      await receiver
      console.log(
        `[kill] ${lib} PUSH child SIGSTOPped: dropped by heartbeat after ${detectMs} ms (interval 100, timeout 400); ` +
          `reconnected after SIGCONT; victim ${checker.count("victim")}, survivor ${checker.count("survivor")} messages`,
      )
      expect(checker.problems, checker.problems.slice(0, 5).join("; ")).toEqual([])
      expect(detectMs).toBeLessThan(3000)
    })
  }
})
