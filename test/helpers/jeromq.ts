/**
 * JeroMQ 0.3.6 (Debian's libjeromq-java, a ZMTP 2.0 stack) as a test peer:
 * test/interop/java/JeromqPeer.java, compiled once per test file with javac
 * into a temp dir and run as a child process, one socket per process, driven
 * by a line protocol (see the .java file). Every wait is bounded.
 */
import { type ChildProcessWithoutNullStreams, execFile, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { createInterface } from "node:readline"
import { fileURLToPath } from "node:url"
import { promisify } from "node:util"
import { foreignPeer } from "./foreign-peer.js"

export const JEROMQ_JAR = "/usr/share/java/jeromq.jar"
const SOURCE = fileURLToPath(new URL("../interop/java/JeromqPeer.java", import.meta.url))

/** Bound for a command the peer answers at once (a JVM on a loaded 2-core machine can be slow). */
const REPLY_TIMEOUT = 10_000

/**
 * True when javac, java and the JeroMQ jar are there; otherwise prints why
 * the JeroMQ tests are skipped (see foreignPeer).
 */
export function jeromqAvailable(): boolean {
  // javap loads a class from the jar: proves the JDK and the jar in one probe.
  return foreignPeer(
    "JeroMQ 0.3.6 interop",
    ["javap", "-cp", JEROMQ_JAR, "org.zeromq.ZMQ"],
    "apt-get install libjeromq-java default-jdk-headless",
  )
}

/** Compiles JeromqPeer.java into a fresh temp dir; resolves with the dir (remove it with removeClasses). */
export async function compileJeromqPeer(): Promise<string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "omq-jeromq-"))
  await promisify(execFile)("javac", ["-cp", JEROMQ_JAR, "-d", dir, SOURCE], { timeout: 60_000 })
  return dir
}

export function removeClasses(dir: string | undefined): void {
  if (dir !== undefined) fs.rmSync(dir, { recursive: true, force: true })
}

export type JeromqType = "PUSH" | "PULL" | "REQ" | "REP" | "DEALER" | "ROUTER" | "PUB" | "SUB" | "XPUB" | "XSUB" | "PAIR"

const hex = (b: Buffer): string => (b.length === 0 ? "-" : b.toString("hex"))
const unhex = (w: string): Buffer => (w === "-" ? Buffer.alloc(0) : Buffer.from(w, "hex"))
const toBuffer = (p: Buffer | string): Buffer => (typeof p === "string" ? Buffer.from(p) : p)

export class JeromqPeer {
  private readonly lines: string[] = []
  private readonly waiters: Array<(line: string | null) => void> = []
  private exited = false
  private stderr = ""
  /** Commands run one at a time, in order. */
  private queue: Promise<unknown> = Promise.resolve()

  private constructor(
    private readonly child: ChildProcessWithoutNullStreams,
    readonly what: string,
  ) {
    createInterface({ input: child.stdout }).on("line", (line) => {
      const w = this.waiters.shift()
      if (w !== undefined) w(line)
      else this.lines.push(line)
    })
    child.stderr.on("data", (d: Buffer) => {
      this.stderr = (this.stderr + d.toString()).slice(-4000)
    })
    child.on("exit", () => {
      this.exited = true
      for (const w of this.waiters.splice(0)) w(null)
    })
    child.stdin.on("error", () => {})
  }

  /** The endpoint the peer bound or connected to (a bound "tcp://127.0.0.1:*" resolved to its port). */
  endpoint = ""

  /**
   * Starts a JeroMQ socket of `type` that binds (`tcp://127.0.0.1:*` for a
   * free port) or connects to `endpoint`; resolves once it is ready.
   */
  static async start(
    classes: string,
    role: "bind" | "connect",
    type: JeromqType,
    endpoint: string,
    opts: { identity?: Buffer | string } = {},
  ): Promise<JeromqPeer> {
    const args = ["-cp", `${JEROMQ_JAR}${path.delimiter}${classes}`, "JeromqPeer", role, type, endpoint]
    if (opts.identity !== undefined) args.push(hex(toBuffer(opts.identity)))
    const peer = new JeromqPeer(spawn("java", args, { stdio: "pipe" }), `JeroMQ ${type} (${role} ${endpoint})`)
    const ready = await peer.nextLine(30_000) // a cold JVM
    const m = /^ready (.+)$/.exec(ready)
    if (m === null) throw new Error(`${peer.what} did not start: ${ready}; stderr: ${peer.stderr}`)
    peer.endpoint = m[1]!
    return peer
  }

  private nextLine(ms: number): Promise<string> {
    const queued = this.lines.shift()
    if (queued !== undefined) return Promise.resolve(queued)
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const i = this.waiters.indexOf(got)
        if (i >= 0) this.waiters.splice(i, 1)
        reject(new Error(`${this.what}: no answer within ${ms} ms; stderr: ${this.stderr}`))
      }, ms)
      const got = (line: string | null): void => {
        clearTimeout(timer)
        if (line === null) reject(new Error(`${this.what} exited; stderr: ${this.stderr}`))
        else resolve(line)
      }
      if (this.exited) got(null)
      else this.waiters.push(got)
    })
  }

  /** Sends one command line and resolves with its answer (commands are serialised). */
  private command(line: string, ms = REPLY_TIMEOUT): Promise<string> {
    const run = this.queue.then(async () => {
      this.child.stdin.write(`${line}\n`)
      const answer = await this.nextLine(ms)
      if (answer.startsWith("error ")) throw new Error(`${this.what}: ${line.slice(0, 40)}: ${answer}`)
      return answer
    })
    this.queue = run.catch(() => {})
    return run
  }

  /** Sends one message (frames as Buffers or strings; "" is an empty frame). */
  async send(parts: ReadonlyArray<Buffer | string> | string): Promise<void> {
    const frames = typeof parts === "string" ? [parts] : parts
    await this.command(`send ${frames.map((p) => hex(toBuffer(p))).join(" ")}`)
  }

  /** Resolves with the next message, or undefined if none arrives within `ms`. */
  async tryReceive(ms: number): Promise<Buffer[] | undefined> {
    const answer = await this.command(`recv ${ms}`, ms + REPLY_TIMEOUT)
    if (answer === "timeout") return undefined
    return answer.split(" ").slice(1).map(unhex)
  }

  /** Resolves with the next message; rejects if none arrives within `ms`. */
  async receive(ms = 5000): Promise<Buffer[]> {
    const msg = await this.tryReceive(ms)
    if (msg === undefined) throw new Error(`${this.what}: no message within ${ms} ms`)
    return msg
  }

  async subscribe(prefix: Buffer | string = ""): Promise<void> {
    await this.command(`sub ${hex(toBuffer(prefix))}`)
  }

  /** Asks the peer to quit; kills it if it has not exited within a second. */
  async close(): Promise<void> {
    if (this.exited) return
    const gone = new Promise<void>((resolve) => this.child.once("exit", () => resolve()))
    this.child.stdin.end("quit\n")
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 1000)
    await gone
    clearTimeout(timer)
  }
}
