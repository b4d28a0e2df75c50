/**
 * Parent side of the peer protocol (see child.ts): spawns a peer script
 * under tsx, turns its stdout JSON lines into awaitable messages, and makes
 * sure every wait is bounded and every failure says which peer and why.
 */
import { spawn, type ChildProcess } from "node:child_process"
import { existsSync } from "node:fs"
import { buildSync } from "esbuild"
import { basename, isAbsolute, join } from "node:path"
import { createInterface } from "node:readline"
import { fileURLToPath } from "node:url"

export const ROOT = fileURLToPath(new URL("..", import.meta.url))

const compiled = new Map<string, string>()

/** Bundles a peer script (and the bench helpers it imports) to bench/.build/*.mjs, once per run. */
function compiledPeer(script: string): string {
  let out = compiled.get(script)
  if (out === undefined) {
    out = join(ROOT, "bench", ".build", basename(script).replace(/\.ts$/, ".mjs"))
    buildSync({
      entryPoints: [isAbsolute(script) ? script : join(ROOT, script)],
      outfile: out,
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node20",
      packages: "external",
      logLevel: "error",
    })
    compiled.set(script, out)
  }
  return out
}
const STDERR_TAIL = 2000

export interface PeerMessage {
  type: string
  [k: string]: unknown
}

export interface SpawnOptions {
  /** Extra node flags, e.g. ["--cpu-prof", ...]. */
  nodeArgs?: readonly string[]
  /** `script` is a native program (e.g. the libzmq-from-C peer, c-peer.ts), run as is rather than under node. */
  native?: boolean
  /** Default bound for next(). */
  timeoutMs: number
}

export class Peer {
  private readonly child: ChildProcess
  private readonly inbox: PeerMessage[] = []
  private waiter: ((m: PeerMessage | Error) => void) | null = null
  private stderr = ""
  private exitError: Error | null = null
  readonly exited: Promise<number | null>

  constructor(
    readonly label: string,
    script: string,
    args: readonly string[],
    private readonly opts: SpawnOptions,
  ) {
    // Peers run as plain node processes on a bundled copy of their script: a module loader such as
    // tsx's `--import` hooks measurably slows a receiving omq peer (64 KiB: 1.0 vs 2.0 GB/s), which
    // would be a benchmark artefact. BENCH_OMQ=src keeps tsx to run omq from its sources.
    const runner = () => (process.env.BENCH_OMQ === "src" ? ["--import", "tsx", script] : [compiledPeer(script)])
    const [command, argv] = opts.native ? [script, args] : [process.execPath, [...(opts.nodeArgs ?? []), ...runner(), ...args]]
    this.child = spawn(command, argv, {
      cwd: ROOT,
      stdio: ["pipe", "pipe", "pipe"],
    })
    this.child.stderr!.setEncoding("utf8").on("data", (s: string) => {
      this.stderr = (this.stderr + s).slice(-STDERR_TAIL)
    })
    createInterface({ input: this.child.stdout! }).on("line", (line) => this.onLine(line))
    // "close", not "exit": it fires after stdout is drained, so no result line is lost.
    this.exited = new Promise((resolve) => {
      this.child.on("close", (code, signal) => {
        if (code !== 0) this.exitError = this.error(`exited with ${signal ?? `code ${code}`}`)
        this.deliver(this.exitError ?? this.error("exited before sending the expected message"))
        resolve(code)
      })
      this.child.on("error", (err) => this.deliver(this.error(`spawn failed: ${err.message}`)))
    })
  }

  private onLine(line: string): void {
    let msg: PeerMessage
    try {
      msg = JSON.parse(line) as PeerMessage
    } catch {
      process.stderr.write(`[${this.label}] ${line}\n`) // stray output: show it, don't choke
      return
    }
    if (this.waiter) this.deliver(msg)
    else this.inbox.push(msg)
  }

  private deliver(m: PeerMessage | Error): void {
    const w = this.waiter
    this.waiter = null
    w?.(m)
  }

  private error(what: string): Error {
    const tail = this.stderr.trim()
    return new Error(`${this.label}: ${what}${tail ? `\n  stderr: ${tail.replace(/\n/g, "\n  stderr: ")}` : ""}`)
  }

  /** Waits for the next message, which must be of `type`. */
  async next(type: string, timeoutMs = this.opts.timeoutMs): Promise<PeerMessage> {
    const queued = this.inbox.shift()
    const msg =
      queued ??
      (await new Promise<PeerMessage | Error>((resolve) => {
        if (this.child.exitCode !== null || this.child.signalCode !== null) {
          return resolve(this.exitError ?? this.error("exited before sending the expected message"))
        }
        const timer = setTimeout(() => this.deliver(this.error(`no "${type}" message within ${timeoutMs} ms`)), timeoutMs)
        this.waiter = (m) => {
          clearTimeout(timer)
          resolve(m)
        }
      }))
    if (msg instanceof Error) throw msg
    if (msg.type === "error") throw this.error(String(msg.message))
    if (msg.type !== type) throw this.error(`expected "${type}", got ${JSON.stringify(msg)}`)
    return msg
  }

  /** Sends a one-line command to the peer (read there with parentCommand() from child.ts). */
  send(command: string): void {
    this.child.stdin!.write(command + "\n")
  }

  /** Asks the peer to close its sockets and exit (closes its stdin), then waits, killing it past the timeout. */
  async finish(timeoutMs = this.opts.timeoutMs): Promise<void> {
    this.child.stdin!.end()
    const timer = setTimeout(() => this.kill(), timeoutMs)
    await this.exited
    clearTimeout(timer)
    if (this.exitError) throw this.exitError
  }

  /** The peer's process id (undefined if it could not be spawned). */
  get pid(): number | undefined {
    return this.child.pid
  }

  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill("SIGKILL")
  }
}

/** Peers still alive, so the runner can kill them all on a global timeout or Ctrl-C. */
export const livePeers = new Set<Peer>()

export function spawnPeer(label: string, script: string, args: readonly string[], opts: SpawnOptions): Peer {
  const p = new Peer(label, script, args, opts)
  livePeers.add(p)
  void p.exited.then(() => livePeers.delete(p))
  return p
}

/** A windowed producer's arguments: `--size`, `--window`, and `--count` / `--seconds` (small in a quick run). */
export function producerLoad(o: {
  size: number
  window: number
  count: number
  seconds: number
  quick: boolean
  quickCount?: number
}): string[] {
  return [
    "--size",
    String(o.size),
    "--window",
    String(o.window),
    "--count",
    String(o.quick ? (o.quickCount ?? 20_000) : o.count),
    "--seconds",
    o.quick ? "0.5" : String(o.seconds),
  ]
}

/**
 * One busy loop per CPU at SCHED_IDLE priority, for the length of a latency trial: a vCPU with
 * nothing to run sleeps, and waking it costs a round trip tens of µs (an idle machine gave both
 * libraries 5× the p50 of a busy one). A SCHED_IDLE task gives way to any other the moment it
 * wakes, so the peers keep the CPU they would have had, minus nothing but the sleep. Each loop
 * ends by itself when the bench process is gone. Off with BENCH_AWAKE=0, or where `chrt` is not.
 */
export function keepCpusAwake(cpus: number, timeoutMs: number): () => void {
  if (process.env.BENCH_AWAKE === "0" || !existsSync("/usr/bin/chrt")) return () => {}
  const loop = `while kill -0 ${process.pid} 2>/dev/null; do :; done`
  const spinners = Array.from({ length: cpus }, (_, i) =>
    spawnPeer(`idle spinner ${i}`, "/usr/bin/chrt", ["--idle", "0", "sh", "-c", loop], { native: true, timeoutMs }),
  )
  return () => {
    for (const s of spinners) s.kill()
  }
}

/**
 * A server (PostgreSQL, Redis) a scenario starts on its first trial that needs it and shares
 * with its later trials: `get()` starts it once; `stop()` (the scenario's teardown) stops it if
 * it was started.
 */
export function sharedServer<T extends { stop(): Promise<void> }>(start: () => Promise<T>): { get(): Promise<T>; stop(): Promise<void> } {
  let server: Promise<T> | undefined
  return {
    get: () => (server ??= start()),
    async stop() {
      const s = server
      server = undefined
      if (s !== undefined) await (await s.catch(() => undefined))?.stop()
    },
  }
}

/**
 * Ends an omq queue device peer after its trial: waits for its "stats" message and its exit, and
 * fails the trial if messages were left in its queue (every put must have been consumed).
 */
export async function finishDevice(device: Peer, scenario: string): Promise<PeerMessage> {
  const finished = device.finish()
  const stats = await device.next("stats")
  await finished
  const left = (stats.queue as { total?: number } | null)?.total ?? 0
  if (left !== 0) throw new Error(`${scenario}: ${left} messages left in omq's queue after the run`)
  return stats
}
