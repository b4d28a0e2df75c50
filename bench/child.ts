/**
 * Helpers for peer processes (the scripts run in child processes).
 * Protocol with the parent (see proc.ts): one JSON object per stdout line;
 * stderr is free text for diagnostics; the parent closing our stdin means
 * "close your sockets and exit" (also what happens if the parent dies).
 */
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { createInterface } from "node:readline"
import { parseArgs } from "node:util"

/** Sends one message to the parent. Pipe writes to stdout are synchronous on Linux, so nothing is lost on exit. */
export function emit(msg: { type: string; [k: string]: unknown }): void {
  process.stdout.write(JSON.stringify(msg) + "\n")
}

/** Resolves when the parent closes our stdin. */
export function parentDone(): Promise<void> {
  return new Promise((resolve) => {
    if (process.stdin.readableEnded || process.stdin.destroyed) return resolve() // already closed (e.g. read by parentCommand)
    process.stdin.on("end", resolve)
    process.stdin.on("close", resolve)
    process.stdin.resume()
  })
}

interface Commands {
  queue: string[]
  waiter: ((line: string | null) => void) | null
  ended: boolean
}
let commands: Commands | undefined

/**
 * Waits for a command line from the parent (Peer.send in proc.ts), e.g. "go".
 * Rejects if the parent closes our stdin first.
 */
export function parentCommand(): Promise<string> {
  if (!commands) {
    const c: Commands = (commands = { queue: [], waiter: null, ended: false })
    const rl = createInterface({ input: process.stdin })
    rl.on("line", (line) => (c.waiter ? c.waiter(line) : c.queue.push(line)))
    rl.on("close", () => {
      c.ended = true
      c.waiter?.(null)
    })
  }
  const c = commands
  const queued = c.queue.shift()
  if (queued !== undefined) return Promise.resolve(queued)
  if (c.ended) return Promise.reject(new Error("parent closed stdin before sending a command"))
  return new Promise((resolve, reject) => {
    c.waiter = (line) => {
      c.waiter = null
      if (line === null) reject(new Error("parent closed stdin before sending a command"))
      else resolve(line)
    }
  })
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** Parses `--key value` args; every option is a string, validated by the caller. */
export function args(names: readonly string[]): Record<string, string | undefined> {
  const options = Object.fromEntries(names.map((n) => [n, { type: "string" as const }]))
  return parseArgs({ options, strict: true }).values as Record<string, string | undefined>
}

export function num(v: string | undefined, name: string): number {
  const n = Number(v)
  if (v === undefined || !Number.isFinite(n)) throw new Error(`missing or invalid --${name}: ${String(v)}`)
  return n
}

/**
 * Runs a peer's main function with a hard deadline, so a hung library can
 * never leave an orphan process behind. Exit codes: 1 error, 3 watchdog, 4 no exit after close.
 */
export function runPeer(name: string, deadlineMs: number, main: () => Promise<void>): void {
  const die = (code: number, why: string): never => {
    process.stderr.write(`[${name}] ${why}\n`)
    process.exit(code)
  }
  setTimeout(() => die(3, `watchdog: still running after ${deadlineMs} ms`), deadlineMs).unref()
  main().then(
    // The sockets are closed now; if something keeps the loop alive, say so instead of hanging.
    () => setTimeout(() => die(4, "process did not exit within 3 s after close()"), 3000).unref(),
    (err: unknown) => die(1, `error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`),
  )
}

/** Monotonic µs, the clock V8 CPU profiles use for startTime and sample times. */
export function hrUs(): number {
  return Number(process.hrtime.bigint() / 1000n)
}

/**
 * When run under `node --cpu-prof`, records the measured phase next to the
 * profile (NAME.cpuprofile.window.json) so prof-summary.ts can leave out
 * startup (tsx compiling TypeScript) and the idle wait for the peer.
 */
export function markProfileWindow(startUs: number, endUs: number): void {
  const argv = process.execArgv
  const dir = argv[argv.indexOf("--cpu-prof-dir") + 1]
  const name = argv[argv.indexOf("--cpu-prof-name") + 1]
  if (!argv.includes("--cpu-prof") || !dir || !name) return
  writeFileSync(join(dir, `${name}.window.json`), JSON.stringify({ startUs, endUs }))
}

/**
 * Calls `put(i)` for i = 0, 1, ... with `window` calls in flight (each confirmation lets the next
 * one go) until `count` are made or `budgetMs` have passed since `start` (performance.now()).
 * With `sample`, every `every`-th call is timed and handed over: when it was made and how long
 * its confirmation took (ms). Resolves with how many were made; rejects with the first failure.
 */
export async function windowed(
  put: (i: number) => Promise<unknown>,
  o: { count: number; window: number; budgetMs: number; start: number; sample?: { every: number; got(at: number, ms: number): void } },
): Promise<number> {
  let sent = 0
  let failed: unknown
  let inflight = 0
  let wake: (() => void) | null = null
  const done = () => {
    inflight--
    if (wake !== null) {
      const w = wake
      wake = null
      w()
    }
  }
  const fail = (err: unknown) => {
    failed ??= err
    done()
  }
  const s = o.sample
  while (sent < o.count && failed === undefined) {
    if (inflight >= o.window) await new Promise<void>((r) => (wake = r))
    if (failed !== undefined) break
    inflight++
    if (s !== undefined && sent % s.every === 0) {
      const t = performance.now()
      put(sent).then(() => {
        s.got(t - o.start, performance.now() - t)
        done()
      }, fail)
    } else put(sent).then(done, fail)
    sent++
    if ((sent & 255) === 0 && performance.now() - o.start > o.budgetMs) break
  }
  while (inflight > 0) await new Promise<void>((r) => (wake = r))
  if (failed !== undefined) throw failed
  return sent
}

/**
 * Puts `body` to `queue` with `window` puts in flight until `count` are sent or `budgetMs` have
 * passed, then an empty end marker. Resolves with how many were sent.
 */
export async function putWindowed(
  client: { put(queue: string, body: Buffer): Promise<unknown> },
  queue: string,
  body: Buffer,
  o: { count: number; window: number; budgetMs: number; start: number },
): Promise<number> {
  const sent = await windowed(() => client.put(queue, body), o)
  await client.put(queue, Buffer.alloc(0))
  return sent
}
