/**
 * The PostgreSQL backend against a real server the run starts (test/helpers/postgres.ts):
 * restart on the same database, checkpoints compacting the log, one device per database, a
 * standby taking over after a kill -9 of the active device under load, the database itself
 * crashing, and bad store options. (The semantic suites run on it too: semantics, groups.)
 */
import { spawn } from "node:child_process"
import { createInterface } from "node:readline"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"
import { QueueClient, QueueDevice, type QueueDeviceOptions } from "../../lib/entry/queue.js"
import { postgresAvailable, sharedPostgres } from "../helpers/postgres.js"
import { freePort, killChild, waitFor } from "../helpers.js"
import { client, failoverWork, freshDatabase, onCleanup, startDevice, startPgDevice } from "./queue-util.js"

/** A device on database `store`, bound to tcp://127.0.0.1:*, closed after the test. */
const device = (store: string, extra: Partial<QueueDeviceOptions> = {}) => startDevice({ store, ...extra })

async function rows(url: string, sql: string): Promise<number> {
  const { default: pg } = await import("pg")
  const c = new pg.Client({ connectionString: url })
  await c.connect()
  try {
    return Number((await c.query<{ n: string }>(sql)).rows[0]!.n)
  } finally {
    await c.end()
  }
}

const kill = killChild

// Skipped where Debian's postgresql is missing (the reason is printed); under CI=true postgresAvailable() fails instead.
describe.skipIf(!postgresAvailable())("PostgreSQL backend", () => {
  it("keeps messages, configs and groups across a restart on the same database; a checkpoint compacts the log", async () => {
    const url = await freshDatabase()
    let d = await device(url)
    let c = client(d)
    await c.configure("jobs", { retry: { maxAttempts: 2 } })
    await c.createGroup("events", "g")
    for (let i = 0; i < 50; i++) await c.put("jobs", `j${i}`, { priority: i % 3 })
    await c.put("events", "e0")
    const taken = (await c.reserve("jobs", { timeout: 1000 }))!
    await taken.ack()
    expect(await rows(url, "SELECT count(*) AS n FROM omq_log")).toBeGreaterThan(0)
    await d.checkpoint()
    expect(await rows(url, "SELECT count(*) AS n FROM omq_log")).toBe(0)
    expect(await rows(url, "SELECT count(*) AS n FROM omq_checkpoint")).toBeGreaterThan(0)
    await c.put("jobs", "after checkpoint")
    await c.close()
    await d.close()
    d = await device(url)
    c = client(d)
    const s = (await c.stats()).queues
    expect(s.jobs).toMatchObject({ ready: 50, total: 50 })
    expect(s.events!.stream!.groups.g).toMatchObject({ lag: 1 })
    expect(await c.configure("jobs", {})).toMatchObject({ retry: { maxAttempts: 2 } })
    const first = (await c.reserve("jobs", { timeout: 1000 }))!
    expect(first.priority).toBe(0)
    expect((await c.reserve("events", { group: "g", timeout: 1000 }))!.body.toString()).toBe("e0")
    expect(((await c.stats()) as unknown as Record<string, unknown>).store).toBe("postgres")
  })

  it("schema migrations: a fresh database and one at schema 1 (keeping its messages) reach version 3: the log compressed with lz4 or not at all (2), omq_leader (3)", async () => {
    const column = async (url: string, table: string) => {
      const { default: pg } = await import("pg")
      const c = new pg.Client({ connectionString: url })
      await c.connect()
      try {
        const sql = "SELECT attcompression AS c, attstorage AS s FROM pg_attribute WHERE attrelid = $1::regclass AND attname = 'data'"
        return (await c.query<{ c: string; s: string }>(sql, [table])).rows[0]!
      } finally {
        await c.end()
      }
    }
    // lz4 where the server has it (Debian's has), else no compression (EXTERNAL storage) for the log.
    const compressedFast = (col: { c: string; s: string }) => col.c === "l" || col.s === "e"
    const fresh = await freshDatabase()
    await (await device(fresh)).close()
    expect(compressedFast(await column(fresh, "omq_log"))).toBe(true)
    expect(await rows(fresh, "SELECT version AS n FROM omq_schema")).toBe(3)
    expect(await rows(fresh, "SELECT count(*) AS n FROM omq_leader")).toBe(0)

    // A database the first version of the backend made: its tables, a row in the log.
    const old = await freshDatabase()
    let d = await device(old)
    await client(d).put("q", "kept")
    await d.close()
    const { default: pg } = await import("pg")
    const c = new pg.Client({ connectionString: old })
    await c.connect()
    await c.query("ALTER TABLE omq_log ALTER COLUMN data SET STORAGE EXTENDED")
    await c.query("ALTER TABLE omq_log ALTER COLUMN data SET COMPRESSION DEFAULT")
    await c.query("DROP TABLE omq_leader")
    await c.query("UPDATE omq_schema SET version = 1")
    await c.end()
    d = await device(old)
    expect(compressedFast(await column(old, "omq_log"))).toBe(true)
    expect(await rows(old, "SELECT version AS n FROM omq_schema")).toBe(3)
    expect(await rows(old, "SELECT count(*) AS n FROM omq_leader")).toBe(0)
    expect((await client(d).reserve("q", { timeout: 1000 }))!.body.toString()).toBe("kept")
  })

  it("one device per database: a second one gets LOCKED; a standby waits and serves once the first is gone", async () => {
    const url = await freshDatabase()
    const a = await device(url)
    await client(a).put("q", "from a")
    await expect(new QueueDevice({ dir: "", store: url }).open()).rejects.toMatchObject({ code: "LOCKED" })
    const b = new QueueDevice({ dir: "", store: url, standby: true })
    onCleanup(() => b.close())
    let bServing = false
    const bBound = b.bind("tcp://127.0.0.1:*").then(() => (bServing = true))
    await new Promise((r) => setTimeout(r, 200))
    expect(bServing).toBe(false)
    // A standby closed while it waits gives up at once.
    const c3 = new QueueDevice({ dir: "", store: url, standby: true })
    const c3Bound = c3.bind("tcp://127.0.0.1:*")
    await c3.close()
    await expect(c3Bound).rejects.toMatchObject({ code: "CLOSED" })
    await a.close()
    await bBound
    const d = (await client(b).reserve("q", { timeout: 1000 }))!
    expect(d.body.toString()).toBe("from a")
  })

  it("kill -9 of the active device under load: the standby takes over, clients carry on; no confirmed put lost, no confirmed ack redelivered", async () => {
    const url = await freshDatabase()
    const [pa, pb] = [await freePort(), await freePort()]
    const ea = `tcp://127.0.0.1:${pa}`
    const eb = `tcp://127.0.0.1:${pb}`
    const a = startPgDevice(url, ea)
    await a.serving
    const b = startPgDevice(url, eb, "standby")
    const endpoints = [ea, eb]
    const producer = client(endpoints, { socket: { reconnectInterval: 50 } })
    const consumer = client(endpoints, { socket: { reconnectInterval: 50 } })
    const work = failoverWork(producer, consumer)
    await waitFor(() => work.confirmed.size > 200 && work.acked.size > 100, 20_000, "work through the first device")
    await kill(a.child)
    await b.serving
    const at = work.confirmed.size
    await waitFor(() => work.confirmed.size > at + 200, 20_000, "work through the standby")
    expect(await work.finish()).toEqual({ violations: [], lost: [] })
  }, 90_000)

  it("the database crashing and coming back: STORE_FAILED meanwhile, then the device carries on without a restart (state from the database, subscriptions taken over)", async () => {
    const server = await sharedPostgres()
    const url = await freshDatabase()
    const d = await device(url, { reconnectMs: 100 })
    const c = client(d)
    for (let i = 0; i < 20; i++) await c.put("q", `m${i}`)
    const consumer = client(d)
    const got: string[] = []
    const sub = consumer.consume("live", { credit: 10 })
    const consuming = (async () => {
      for await (const m of sub) {
        got.push(m.body.toString())
        await m.ack().catch(() => {})
      }
    })()
    await c.put("live", "before")
    await waitFor(() => got.includes("before"), 5000, "a delivery before the outage")
    await server.kill()
    await expect(c.put("q", "lost")).rejects.toMatchObject({ code: "STORE_FAILED" })
    expect(await c.hello()).toMatchObject({ protocol: "omq-queue" }) // still serving
    expect((await c.stats("q")).queues.q!.total).toBe(20) // reads go on
    await server.restart()
    // Writes work again once the device has rebuilt its state from the database.
    await waitFor(
      async () => {
        try {
          await c.put("q", "after")
          return true
        } catch {
          return false
        }
      },
      20_000,
      "writes after the database is back",
    )
    const st = (await c.stats()) as unknown as { resyncs: number; storeFailed: boolean; queues: Record<string, { total: number }> }
    expect(st).toMatchObject({ resyncs: 1, storeFailed: false })
    expect(st.queues.q!.total).toBe(21) // the 20 confirmed and "after"; not "lost"
    await c.put("live", "after the outage")
    await waitFor(() => got.includes("after the outage"), 5000, "the subscription taken over")
    await sub.close()
    await consuming
  }, 60_000)

  it("omq-queue --store: serves from the database, keeps messages across a restart; --shared leads or follows; --standby and --shared need --store", async () => {
    const url = await freshDatabase()
    const CLI = fileURLToPath(new URL("../../lib/devices/queue/cli.ts", import.meta.url))
    const run = (args: string[]) => {
      const child = spawn(process.execPath, ["--import", "tsx", CLI, ...args], { stdio: ["ignore", "pipe", "pipe"] })
      onCleanup(() => void child.kill("SIGKILL"))
      let err = ""
      child.stderr!.on("data", (d: Buffer) => (err += d.toString()))
      const exit = new Promise<number | null>((r) => child.once("exit", (code) => r(code)))
      const line = new Promise<string>((resolve, reject) => {
        createInterface({ input: child.stdout! }).on("line", (l) => l.startsWith("omq-queue listening") && resolve(l))
        void exit.then((code) => reject(new Error(`exited with ${code}: ${err}`)))
      })
      line.catch(() => {})
      return { child, line, exit, stderr: () => err }
    }
    const first = run(["--store", url, "--bind", "tcp://127.0.0.1:*"])
    const banner = await first.line
    expect(banner).toMatch(/\(store postgres:\/\/omq@127\.0\.0\.1:\d+\/\w+, synchronous_commit; 0 messages recovered\)/)
    const c = new QueueClient(/listening on (\S+)/.exec(banner)![1]!)
    await c.put("cli", "kept")
    await c.close()
    first.child.kill("SIGTERM")
    expect(await first.exit).toBe(0)
    const second = run(["--store", url, "--bind", "tcp://127.0.0.1:*"])
    expect(await second.line).toMatch(/1 messages recovered/)
    second.child.kill("SIGTERM")
    expect(await second.exit).toBe(0)
    const bad = run(["--standby", "--dir", "/tmp/x"])
    expect(await bad.exit).toBe(2)
    expect(bad.stderr()).toMatch(/--standby needs --store/)
    // --shared: the first leads, the second follows (and says so); a put through the follower is the leader's.
    const leader = run(["--store", url, "--shared", "--bind", "tcp://127.0.0.1:*"])
    const leaderBanner = await leader.line
    expect(leaderBanner).toMatch(/1 messages recovered/)
    const follower = run(["--store", url, "--shared", "--bind", "tcp://127.0.0.1:*"])
    const followerBanner = await follower.line
    expect(followerBanner).toMatch(/following the database's leading device/)
    const cf = new QueueClient(/listening on (\S+)/.exec(followerBanner)![1]!)
    const cl = new QueueClient(/listening on (\S+)/.exec(leaderBanner)![1]!)
    await cf.put("cli", "through the follower")
    expect((await cl.stats("cli")).queues.cli).toMatchObject({ total: 2 })
    await Promise.all([cf.close(), cl.close()])
    follower.child.kill("SIGTERM")
    leader.child.kill("SIGTERM")
    expect(await follower.exit).toBe(0)
    expect(await leader.exit).toBe(0)
    for (const [args, message] of [
      [["--shared", "--dir", "/tmp/x"], /--shared needs --store/],
      [["--shared", "--standby", "--store", url], /exclude each other/],
      [["--advertise", "tcp://h:1", "--store", url], /--advertise needs --shared/],
    ] as const) {
      const b = run([...args])
      expect(await b.exit).toBe(2)
      expect(b.stderr()).toMatch(message)
    }
  }, 60_000)

  it("a database restart with a standby waiting: the standby outlives it, one device serves afterwards, the clients carry on", async () => {
    const server = await sharedPostgres()
    const url = await freshDatabase()
    const [pa, pb] = [await freePort(), await freePort()]
    const a = await device(url, { reconnectMs: 100 })
    await a.bind(`tcp://127.0.0.1:${pa}`)
    const b = new QueueDevice({ dir: "", store: url, standby: true, reconnectMs: 100 })
    onCleanup(() => b.close())
    let bServing = false
    const bBound = b.bind(`tcp://127.0.0.1:${pb}`).then(() => (bServing = true))
    bBound.catch(() => {})
    const c = client([`tcp://127.0.0.1:${pa}`, `tcp://127.0.0.1:${pb}`], { socket: { reconnectInterval: 50 } })
    await c.put("q", "before", { id: "before" })
    await server.kill()
    await server.restart()
    // Whichever device gets the lock first serves; the other waits (the standby) or steps aside (a).
    let n = 0
    await waitFor(
      async () => {
        try {
          await c.put("q", `after-${n}`, { id: `after-${n}` })
          n++
          return n >= 3
        } catch {
          return false
        }
      },
      30_000,
      "puts after the database restart",
    )
    const stats = (await c.stats("q")) as unknown as { superseded?: boolean; queues: Record<string, { total: number }> }
    expect(stats.queues.q!.total).toBe(1 + n)
    expect(stats.superseded).toBe(false)
    if (bServing) expect(((await client(`tcp://127.0.0.1:${pb}`).stats()) as unknown as { superseded: boolean }).superseded).toBe(false)
  }, 60_000)

  it("a database that hangs (a lock held elsewhere): writes fail with STORE_FAILED after statementTimeoutMs, other requests are answered meanwhile", async () => {
    const url = await freshDatabase()
    const d = await device(url, { statementTimeoutMs: 300 })
    const c = client(d)
    await c.put("q", "before")
    const { default: pg } = await import("pg")
    const blocker = new pg.Client({ connectionString: url })
    await blocker.connect()
    onCleanup(() => blocker.end())
    await blocker.query("BEGIN")
    await blocker.query("LOCK TABLE omq_log IN ACCESS EXCLUSIVE MODE")
    const started = Date.now()
    const stuck = c.put("q", "during")
    expect(await c.hello()).toMatchObject({ protocol: "omq-queue" })
    expect((await c.stats("q")).queues.q!.ready).toBe(1)
    await expect(stuck).rejects.toMatchObject({ code: "STORE_FAILED" })
    expect(Date.now() - started).toBeGreaterThanOrEqual(250)
    await blocker.query("ROLLBACK")
    expect((await c.reserve("q", { timeout: 0 }))!.body.toString()).toBe("before")
  })

  it("connections exhausted (the role's connection limit reached): a device cannot start (clear error; a standby waits), a running one whose connection is lost gets STORE_FAILED until a connection frees, then carries on with nothing confirmed lost", async () => {
    const server = await sharedPostgres()
    const role = `omq_lim_${process.pid}`
    const url = await freshDatabase()
    const dbName = new URL(url).pathname.slice(1)
    const { default: pg } = await import("pg")
    const admin = new pg.Client({ connectionString: server.url })
    await admin.connect()
    onCleanup(() => admin.end())
    await admin.query(`CREATE ROLE ${role} LOGIN CONNECTION LIMIT 2`)
    await admin.query(`ALTER DATABASE ${dbName} OWNER TO ${role}`)
    onCleanup(async () => {
      await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '${role}'`)
      await admin.query(`ALTER DATABASE ${dbName} OWNER TO omq`)
      await admin.query(`DROP ROLE ${role}`)
    })
    const limited = url.replace("//omq@", `//${role}@`)
    const d = await device(limited, { reconnectMs: 100 })
    const c = client(d)
    for (let i = 0; i < 10; i++) await c.put("q", `m${i}`)
    // The other connection the role may have, held elsewhere (an application's pool, say).
    const hog = new pg.Client({ connectionString: limited })
    await hog.connect()
    onCleanup(() => hog.end().catch(() => {}))
    await expect(new QueueDevice({ dir: "", store: limited }).open()).rejects.toThrow(/cannot connect to PostgreSQL.*too many connections/)
    // A standby cannot connect either: it keeps trying (and gives up when closed).
    const standby = new QueueDevice({ dir: "", store: limited, standby: true, reconnectMs: 100 })
    const standbyOpening = standby.open()
    await new Promise((r) => setTimeout(r, 300))
    await standby.close()
    await expect(standbyOpening).rejects.toMatchObject({ code: "CLOSED" })
    // The device's own connection is cut, and the limit is down to the one the hog holds: the
    // device cannot get another until the hog lets go.
    await admin.query(`ALTER ROLE ${role} CONNECTION LIMIT 1`)
    await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '${role}' AND pid <> $1`, [
      (hog as unknown as { processID: number }).processID,
    ])
    await waitFor(
      async () => {
        try {
          await c.put("q", "probe", { id: "probe" })
          return false
        } catch (err) {
          return (err as { code?: string }).code === "STORE_FAILED"
        }
      },
      10_000,
      "STORE_FAILED while no connection is to be had",
    )
    // It keeps trying, and failing, while no connection is to be had; reads go on.
    type PgStats = { storeFailed: boolean; reconnectFailures: number; lastReconnectError?: string; queues: Record<string, { total: number }> }
    await waitFor(async () => ((await c.stats()) as unknown as PgStats).reconnectFailures >= 3, 10_000, "reconnect attempts failing")
    const during = (await c.stats("q")) as unknown as PgStats
    expect(during).toMatchObject({ storeFailed: true, lastReconnectError: expect.stringMatching(/too many connections/) })
    expect(during.queues.q!.total).toBe(10)
    await expect(c.put("q", "lost")).rejects.toMatchObject({ code: "STORE_FAILED" })
    await hog.end()
    await waitFor(
      async () => {
        try {
          await c.put("q", "after", { id: "after" })
          return true
        } catch {
          return false
        }
      },
      20_000,
      "writes once a connection is free again",
    )
    const st = (await c.stats()) as unknown as PgStats
    expect(st.storeFailed).toBe(false)
    expect(st.queues.q!.total).toBe(11) // the ten confirmed and "after"
  }, 60_000)

  it("bad store options are refused clearly", async () => {
    expect(() => new QueueDevice({ dir: "", store: "mysql://x" })).toThrow(/PostgreSQL connection string/)
    const port = await freePort()
    await expect(new QueueDevice({ dir: "", store: `postgres://nobody@127.0.0.1:${port}/none` }).open()).rejects.toThrow(
      /cannot connect to PostgreSQL/,
    )
  })
})
