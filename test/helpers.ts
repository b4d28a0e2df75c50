/**
 * Helpers shared by the test suites. Each lives here once; the per-suite
 * helper files (features/feature-util.ts, interop/peer-util.ts,
 * security/sec-util.ts, load/util.ts) re-export the ones they offer.
 * No vitest import here, so scripts run by tsx (test/load/soak.ts) can use
 * it too; the afterEach-based socket tracker is in helpers/close-after-each.ts.
 *
 * Everything here is bounded: waits take a deadline, receives a timeout.
 */
import { spawn, type ChildProcess } from "node:child_process"
import { randomBytes } from "node:crypto"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import { createInterface } from "node:readline"

/** Socket files of uniqueIpc() endpoints: removed after each test file (test/setup.ts). */
export const ipcFiles = new Set<string>()

/**
 * A unique ipc:// endpoint in the temp dir. Its socket file is removed after the test file: a
 * listener closed by omq unlinks its file, but one bound by a libzmq peer in the same process,
 * or by a child killed with SIGKILL, stays behind.
 */
export function uniqueIpc(): string {
  const file = path.join(os.tmpdir(), `omq-test-${process.pid}-${randomBytes(4).toString("hex")}.sock`)
  ipcFiles.add(file)
  return `ipc://${file}`
}

/** Polls `cond` until true or the deadline passes (then throws). */
export async function waitFor(cond: () => boolean | Promise<boolean>, ms = 5000, what = "condition"): Promise<void> {
  const end = Date.now() + ms
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 5))
  }
}

/** Resolves after `ms` milliseconds. For pacing and "nothing arrives within" checks, not as synchronisation. */
export const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/** True for an error with code EAGAIN (a send/receive timeout). */
export function isEagain(err: unknown): boolean {
  return (err as { code?: unknown } | null)?.code === "EAGAIN"
}

/** Rejects if `promise` does not settle within `ms`. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms)
  })
  try {
    return await Promise.race([promise, timeout])
  } finally {
    clearTimeout(timer)
  }
}

/**
 * Like Promise.all, but waits for every promise to settle before throwing
 * the first error, so no rejection is left unhandled when one side fails.
 */
export async function all<T extends readonly unknown[]>(promises: { [K in keyof T]: Promise<T[K]> }): Promise<T> {
  const results = await Promise.allSettled(promises)
  for (const r of results) if (r.status === "rejected") throw r.reason
  return results.map((r) => (r as PromiseFulfilledResult<unknown>).value) as unknown as T
}

/** Receives with a temporary receiveTimeout of `ms`; undefined on EAGAIN. Restores the timeout afterwards. */
export async function tryReceive(sock: { receive(): Promise<Buffer[]>; receiveTimeout: number }, ms: number): Promise<Buffer[] | undefined> {
  const saved = sock.receiveTimeout
  sock.receiveTimeout = ms
  try {
    return await sock.receive()
  } catch (err) {
    if (isEagain(err)) return undefined
    throw err
  } finally {
    sock.receiveTimeout = saved
  }
}

/**
 * Binds `sock` to a fixed endpoint, retrying while the previous owner of the
 * endpoint is still releasing it (libzmq closes sockets asynchronously).
 */
export async function bindRetry(sock: { bind(address: string): Promise<void> }, endpoint: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms
  for (;;) {
    try {
      await sock.bind(endpoint)
      return
    } catch (err) {
      if ((err as { code?: string }).code !== "EADDRINUSE" || Date.now() > end) throw err
      await delay(20)
    }
  }
}

/**
 * A tcp port on 127.0.0.1 that was free a moment ago (the OS picked it for a
 * listener that is closed again). Only for tests that must know a port
 * before anything binds it; everywhere else bind to port 0 / `*`.
 */
export async function freePort(): Promise<number> {
  const s = net.createServer()
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r))
  const port = (s.address() as net.AddressInfo).port
  await new Promise<void>((r) => s.close(() => r()))
  return port
}

/** A process's exit status and what it printed. */
export interface ProcessResult {
  status: number | null
  stdout: string
  stderr: string
}

/** Runs `cmd args` to its end (killed after `timeout` ms) and gives its status and output. */
export function runProcess(
  cmd: string,
  args: readonly string[],
  options: { timeout: number; env?: NodeJS.ProcessEnv; input?: string },
): Promise<ProcessResult> {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { timeout: options.timeout, ...(options.env === undefined ? {} : { env: options.env }) })
    p.stdin.on("error", () => {}) // a program that exits without reading its input
    p.stdin.end(options.input ?? "")
    let stdout = ""
    let stderr = ""
    p.stdout.on("data", (b: Buffer) => (stdout += b))
    p.stderr.on("data", (b: Buffer) => (stderr += b))
    p.on("close", (status) => resolve({ status, stdout, stderr }))
  })
}

/** Kills `child` with SIGKILL (if it still runs); resolves once it has exited. */
export function killChild(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve()
    child.once("exit", () => resolve())
    child.kill("SIGKILL")
  })
}

/**
 * Starts `node --import tsx script ...args` (a test fixture that prints one JSON line once it is
 * ready) and resolves with the child and that line, parsed; rejects if it exits first or, with
 * `startTimeoutMs`, takes longer (then it is killed).
 */
export function startFixture<T>(script: string, args: readonly string[], startTimeoutMs?: number): Promise<{ child: ChildProcess; ready: T }> {
  const child = spawn(process.execPath, ["--import", "tsx", script, ...args], { stdio: ["ignore", "pipe", "pipe"] })
  let stderr = ""
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()))
  return new Promise((resolve, reject) => {
    const timer =
      startTimeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            child.kill("SIGKILL")
            reject(new Error(`${script} did not start within ${startTimeoutMs} ms: ${stderr}`))
          }, startTimeoutMs)
    createInterface({ input: child.stdout! }).once("line", (line) => {
      clearTimeout(timer)
      resolve({ child, ready: JSON.parse(line) as T })
    })
    child.once("exit", (code) => {
      clearTimeout(timer)
      reject(new Error(`${script} exited with ${code}: ${stderr}`))
    })
  })
}
