/**
 * A Redis server for the benchmarks: Debian's `redis-server` (apt-get install redis-server), never
 * a system service. startRedis() runs one on a free port of 127.0.0.1 with its data in a fresh
 * temporary directory, the append-only file on and fsynced before every reply
 * (`appendfsync always`), no RDB snapshots, and stops it with stop(). It runs under a watchdog
 * shell holding the other end of a pipe from this process: when this process goes away, however
 * it dies, the pipe closes, the shell stops the server and removes the directory.
 */
import { spawn, spawnSync } from "node:child_process"
import { mkdtempSync, readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { freePort } from "../test/helpers.js"

export const REDIS_INSTALL_HINT = "no redis-server here (apt-get install redis-server)"

/** Why a Redis server cannot be started here, or undefined. */
export function redisUnavailable(): string | undefined {
  const r = spawnSync("redis-server", ["--version"], { encoding: "utf8", timeout: 10_000 })
  return r.status === 0 && /Redis server v=/.test(r.stdout) ? undefined : REDIS_INSTALL_HINT
}

export interface RedisServer {
  readonly port: number
  /** The server's process id (for /proc/<pid>/io). */
  readonly pid: number
  /** `redis-server --version`. */
  readonly version: string
  /** Its data directory (removed by stop()). */
  readonly dir: string
  stop(): Promise<void>
}

/** Bytes and syscall counts from /proc/<pid>/io (all threads of the process). */
export function procIo(pid: number): Record<string, number> {
  const out: Record<string, number> = {}
  for (const line of readFileSync(`/proc/${pid}/io`, "utf8").split("\n")) {
    const [k, v] = line.split(":")
    if (k && v) out[k.trim()] = Number(v)
  }
  return out
}

/** CPU seconds (user + system, every thread) a process has used so far, from /proc/<pid>/stat; NaN where that is not readable. */
export function procCpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return NaN
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
    // Fields after the command name (in parentheses, which may hold spaces): utime and stime are the 12th and 13th.
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
    return (Number(f[11]) + Number(f[12])) / CLOCK_TICKS
  } catch {
    return NaN
  }
}
/** Linux's USER_HZ, the unit of /proc/<pid>/stat times (100 on every architecture Node runs on). */
const CLOCK_TICKS = 100

export async function startRedis(extra: readonly string[] = []): Promise<RedisServer> {
  const dir = mkdtempSync(join(tmpdir(), "omq-bench-redis-"))
  const port = await freePort()
  const version = spawnSync("redis-server", ["--version"], { encoding: "utf8" }).stdout.trim()
  const args = [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--dir",
    dir,
    "--appendonly",
    "yes",
    "--appendfsync",
    "always",
    "--save",
    "",
    "--daemonize",
    "no",
    // No background AOF rewrite (a fork) in the middle of a trial: the AOF of a few runs passes
    // the 64 MB at which Redis would start one. This spares Redis work it would do in production.
    "--auto-aof-rewrite-percentage",
    "0",
    ...extra,
  ]
  const quote = (a: string) => `'${a.replace(/'/g, "'\\''")}'`
  // The server's stdin is /dev/null (a background job of a non-interactive shell); the shell's is
  // our pipe: `read` returns when we close it or exit, then the server gets SIGTERM (it fsyncs
  // the AOF and exits) and the directory goes.
  const script = `redis-server ${args.map(quote).join(" ")} & pid=$!; read _; kill $pid 2>/dev/null; wait $pid; rm -rf ${quote(dir)}`
  const shell = spawn("sh", ["-c", script], { stdio: ["pipe", "pipe", "pipe"] })
  let log = ""
  shell.stdout!.on("data", (d: Buffer) => (log = (log + d.toString()).slice(-4000)))
  shell.stderr!.on("data", (d: Buffer) => (log = (log + d.toString()).slice(-4000)))
  const exited = new Promise<void>((resolve) => shell.once("exit", () => resolve()))
  const deadline = Date.now() + 15_000
  for (;;) {
    if (shell.exitCode !== null) throw new Error(`redis-server exited with ${shell.exitCode}: ${log}`)
    if (/Ready to accept connections/.test(log)) break
    if (Date.now() > deadline) {
      shell.stdin!.end()
      throw new Error(`redis-server did not start within 15 s: ${log}`)
    }
    await new Promise((r) => setTimeout(r, 10))
  }
  // The log's lines start with "<pid>:M".
  const pid = Number(/^(\d+):M /m.exec(log)?.[1])
  if (!(pid > 0)) throw new Error(`redis-server: no pid in its log: ${log}`)
  return {
    port,
    pid,
    version,
    dir,
    async stop() {
      if (shell.exitCode === null && shell.signalCode === null) {
        shell.stdin!.end()
        await exited
      }
    },
  }
}
