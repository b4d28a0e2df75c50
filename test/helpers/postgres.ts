/**
 * A real PostgreSQL server for the tests: Debian's `postgresql` package (initdb into a fresh
 * temporary directory, a free port on 127.0.0.1, its socket in that directory), started once
 * per test file that asks for it and stopped when the process exits. As root (CI containers),
 * the server runs as the `postgres` system user the package creates, since PostgreSQL refuses
 * to run as root. Where the package is missing, postgresAvailable() prints why and the tests
 * skip; under CI (`.ci/run` installs it) that is an error instead.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from "node:child_process"
import { chownSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { freePort } from "../helpers.js"
import { skipping } from "./foreign-peer.js"

/** The newest installed PostgreSQL's bin directory, or undefined. */
function binDir(): string | undefined {
  const root = "/usr/lib/postgresql"
  if (!existsSync(root)) return undefined
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, "bin", "postgres")) && existsSync(join(root, v, "bin", "initdb")))
    .sort((a, b) => Number(b) - Number(a))
  return versions.length > 0 ? join(root, versions[0]!, "bin") : undefined
}

/** True when a PostgreSQL server can be started here (else the reason is printed, or thrown under CI). */
export function postgresAvailable(): boolean {
  const bin = binDir()
  if (bin === undefined)
    return skipping("PostgreSQL tests: skipped, no /usr/lib/postgresql/*/bin/postgres; install: apt-get install postgresql")
  if (process.getuid?.() === 0 && spawnSync("id", ["postgres"], { stdio: "ignore" }).status !== 0)
    return skipping(
      "PostgreSQL tests: skipped, running as root and there is no postgres user to run the server as; install: apt-get install postgresql",
    )
  return true
}

export interface PostgresServer {
  /** A connection string for database `postgres` as the superuser `omq`. */
  readonly url: string
  readonly port: number
  /** Makes a fresh database and returns its connection string. */
  createDatabase(name: string): Promise<string>
  /** Stops the server at once (as a crash would), keeping its data directory. */
  kill(): Promise<void>
  /** Starts it again on the same port and directory. */
  restart(): Promise<void>
  stop(): Promise<void>
}

let shared: Promise<PostgresServer> | undefined

/** One server per test process (started on first use, stopped at exit). */
export function sharedPostgres(): Promise<PostgresServer> {
  shared ??= startPostgres()
  return shared
}

export async function startPostgres(): Promise<PostgresServer> {
  const bin = binDir()!
  const asRoot = process.getuid?.() === 0
  const dir = mkdtempSync(join(tmpdir(), "omq-pg-"))
  const data = join(dir, "data")
  if (asRoot) {
    const uid = Number(execFileSync("id", ["-u", "postgres"]).toString().trim())
    const gid = Number(execFileSync("id", ["-g", "postgres"]).toString().trim())
    chownSync(dir, uid, gid)
  }
  const run = (cmd: string, args: string[]) =>
    (asRoot ? ["runuser", ["-u", "postgres", "--", join(bin, cmd), ...args]] : [join(bin, cmd), args]) as [string, string[]]
  const [initCmd, initArgs] = run("initdb", ["-D", data, "-U", "omq", "--auth=trust", "-E", "UTF8", "--no-sync"])
  const init = spawnSync(initCmd, initArgs, { encoding: "utf8", timeout: 60_000 })
  if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr || init.error?.message}`)
  const port = await freePort()
  let child: ChildProcess | undefined
  const start = async () => {
    const [cmd, args] = run("postgres", [
      "-D",
      data,
      "-p",
      String(port),
      "-k",
      dir,
      "-c",
      "listen_addresses=127.0.0.1",
      "-c",
      "max_connections=200",
      "-c",
      "fsync=on",
    ])
    let log = ""
    // Under a watchdog shell: when this process goes away (its end of stdin closes), the shell
    // stops the server and removes its directory, so no test run leaves a PostgreSQL or its
    // data behind (vitest's forks are killed without an "exit" event). kill() writes a line
    // first: the directory is then kept, for restart().
    const quote = (a: string) => `'${a.replace(/'/g, "'\\''")}'`
    const pidFile = quote(join(data, "postmaster.pid"))
    const script =
      `${[cmd, ...args].map(quote).join(" ")} & if read _; then keep=1; fi; ` +
      `kill -QUIT $(head -1 ${pidFile}) 2>/dev/null; wait; [ -n "$keep" ] || rm -rf ${quote(dir)}`
    const c = spawn("sh", ["-c", script], { stdio: ["pipe", "pipe", "pipe"] })
    c.stdout!.on("data", (d: Buffer) => (log += d.toString()))
    c.stderr!.on("data", (d: Buffer) => (log += d.toString()))
    child = c
    const deadline = Date.now() + 30_000
    for (;;) {
      if (c.exitCode !== null) throw new Error(`postgres exited with ${c.exitCode}: ${log}`)
      if (/ready to accept connections/.test(log)) return
      if (Date.now() > deadline) throw new Error(`postgres did not start within 30 s: ${log}`)
      await new Promise((r) => setTimeout(r, 20))
    }
  }
  const kill = () =>
    new Promise<void>((resolve) => {
      const c = child
      if (c === undefined || c.exitCode !== null || c.signalCode !== null) return resolve()
      c.once("exit", () => resolve())
      // SIGQUIT to the postmaster itself (`c` is the watchdog shell): immediate shutdown, no
      // checkpoint (what a crash leaves; the next start replays the WAL). Then the shell ends,
      // keeping the directory (the line it reads).
      c.stdin!.end("keep\n")
      let pid = c.pid!
      try {
        pid = Number(readFileSync(join(data, "postmaster.pid"), "utf8").split("\n")[0])
      } catch {
        // not written yet: the child is the server
      }
      try {
        process.kill(pid, "SIGQUIT")
      } catch {
        c.kill("SIGKILL")
      }
    })
  await start()
  const url = `postgres://omq@127.0.0.1:${port}/postgres`
  const onExit = () => {
    try {
      process.kill(Number(readFileSync(join(data, "postmaster.pid"), "utf8").split("\n")[0]), "SIGQUIT")
    } catch {
      // gone already
    }
    rmSync(dir, { recursive: true, force: true })
  }
  process.once("exit", onExit)
  return {
    url,
    port,
    async createDatabase(name) {
      const { default: pg } = await import("pg")
      const c = new pg.Client({ connectionString: url })
      await c.connect()
      try {
        await c.query(`CREATE DATABASE "${name.replace(/"/g, "")}"`)
      } finally {
        await c.end()
      }
      return `postgres://omq@127.0.0.1:${port}/${name}`
    },
    kill,
    async restart() {
      await kill()
      await start()
    },
    async stop() {
      await kill()
      process.removeListener("exit", onExit)
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
