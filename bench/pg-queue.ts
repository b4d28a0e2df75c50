/**
 * Durable job queues on PostgreSQL, end to end (issue 17): 64 B jobs put by one producer process
 * while one consumer process takes and completes them, through omq's QueueDevice on its
 * PostgreSQL backend (a third process), pg-boss and graphile-worker, on one PostgreSQL server
 * this scenario starts (test/helpers/postgres.ts; default settings, so synchronous_commit on),
 * a fresh database per trial. The rows are the three systems; zeromq has no part here.
 *
 * Metrics: jobs/s from the producer's first put to the last job's completion being durable;
 * the producer's confirmed puts/s; and, from PostgreSQL's statistics over the trial, commits
 * and WAL bytes per job (what each system asks of the database).
 */
import { fileURLToPath } from "node:url"
import type pg from "pg"
import { postgresAvailable, startPostgres } from "../test/helpers/postgres.js"
import { finishDevice, producerLoad, sharedServer, spawnPeer, type Peer } from "./proc.js"
import type { Scenario, TrialContext } from "./scenario.js"

const PEER = fileURLToPath(new URL("./pg-queue-peer.ts", import.meta.url))

export const PG_SYSTEMS = ["omq", "pg-boss", "graphile-worker"] as const
type PgSystem = (typeof PG_SYSTEMS)[number]

/** How each system is driven: puts in flight, connections, and its consumer's settings. */
export interface PgSystemSettings {
  /** Producer: puts in flight. */
  window: number
  /** Connection pool of each client process (pg-boss, graphile-worker). */
  pool?: number
  /** omq: consumer credit. */
  credit?: number
  /** pg-boss: jobs per fetch; graphile-worker: local queue size. */
  batch?: number
  /** pg-boss: localConcurrency; graphile-worker: concurrency. */
  concurrency?: number
  /** pg-boss: LISTEN/NOTIFY on (useListenNotify and the queue's notify). */
  notify?: boolean
  /** graphile-worker: the local queue's refetchDelay.durationMs. */
  refetchDelayMs?: number
}

export interface PgQueueScenarioOptions {
  name: string
  size: number
  /** Puts per trial; the producer also stops after `seconds`. */
  count: number
  seconds: number
  settings: Partial<Record<PgSystem, PgSystemSettings>>
  /**
   * 2: omq alone, through two shared devices on the database (the producer on the follower, the
   * consumer on the leader, so every job crosses devices). Default 1.
   */
  devices?: 1 | 2
}

interface PgCounters {
  commits: number
  walBytes: number
}

/** Commits in `database` and WAL bytes written by the whole server, from its statistics views. */
async function counters(url: string, database: string): Promise<PgCounters> {
  const { default: pgm } = (await import("pg")) as { default: typeof pg }
  const c = new pgm.Client({ connectionString: url })
  await c.connect()
  try {
    const d = await c.query<{ n: string }>("SELECT xact_commit AS n FROM pg_stat_database WHERE datname = $1", [database])
    const w = await c.query<{ n: string }>("SELECT wal_bytes AS n FROM pg_stat_wal")
    return { commits: Number(d.rows[0]?.n ?? 0), walBytes: Number(w.rows[0]?.n ?? 0) }
  } finally {
    await c.end()
  }
}

export function pgQueue({ name, size, count, seconds, settings, devices = 1 }: PgQueueScenarioOptions): Scenario {
  const server = sharedServer(startPostgres)
  let trials = 0
  return {
    name,
    sockets: ["QueueDevice", "QueueClient"],
    systems: devices === 2 ? ["omq"] : PG_SYSTEMS,
    metrics: [
      { key: "jobsPerSec", label: "jobs/s", digits: 0, better: "higher" },
      { key: "putsPerSec", label: "puts/s", digits: 0, better: "higher" },
      { key: "commitsPer1k", label: "commits/1k jobs", digits: 1, better: "lower" },
      { key: "walPerJob", label: "WAL B/job", digits: 0, better: "lower" },
    ],
    profRoles: ["device", "follower", "producer", "consumer"],
    async unavailable() {
      try {
        return postgresAvailable() ? undefined : "no PostgreSQL server here (apt-get install postgresql)"
      } catch (err) {
        return (err as Error).message // under CI, postgresAvailable() throws rather than skip
      }
    },
    async trial(ctx: TrialContext) {
      const system = ctx.system as PgSystem
      // BENCH_PG_SETTINGS='{"pg-boss":{"batch":500}}' overrides settings, for tuning.
      const set = { ...settings[system]!, ...(JSON.parse(process.env.BENCH_PG_SETTINGS ?? "{}") as Record<string, PgSystemSettings>)[system] }
      const pgs = await server.get()
      const database = `bench_${system.replace(/-/g, "_")}_${++trials}`
      const url = await pgs.createDatabase(database)
      const before = await counters(pgs.url, database)
      const common = ["--system", system, "--url", url, "--deadline", String(ctx.timeoutMs)]
      const opts = (role: string) => ({ timeoutMs: ctx.timeoutMs, nodeArgs: ctx.profArgs(role) })
      const tuning = [
        ...(set.pool !== undefined ? ["--pool", String(set.pool)] : []),
        ...(set.credit !== undefined ? ["--credit", String(set.credit)] : []),
        ...(set.batch !== undefined ? ["--batch", String(set.batch)] : []),
        ...(set.concurrency !== undefined ? ["--concurrency", String(set.concurrency)] : []),
        ...(set.notify !== undefined ? ["--notify", set.notify ? "1" : "0"] : []),
        ...(set.refetchDelayMs !== undefined ? ["--refetch", String(set.refetchDelayMs)] : []),
      ]
      let device: Peer | undefined
      let follower: Peer | undefined
      let consumer: Peer | undefined
      let producer: Peer | undefined
      try {
        let endpoint: string[] = []
        let producerEndpoint: string[] = []
        if (system === "omq") {
          const shared = devices === 2 ? ["--shared", "1"] : []
          device = spawnPeer(`pg-queue omq device (${name})`, PEER, ["--role", "device", ...common, ...shared], opts("device"))
          endpoint = producerEndpoint = ["--endpoint", String((await device.next("ready")).endpoint)]
          if (devices === 2) {
            follower = spawnPeer(`pg-queue omq follower (${name})`, PEER, ["--role", "device", ...common, ...shared], opts("follower"))
            const ready = await follower.next("ready")
            if (ready.role !== "follower") throw new Error(`${name}: the second device is ${String(ready.role)}, not a follower`)
            producerEndpoint = ["--endpoint", String(ready.endpoint)]
          }
        }
        consumer = spawnPeer(
          `pg-queue ${system} consumer (${name})`,
          PEER,
          ["--role", "consumer", ...common, ...endpoint, ...tuning],
          opts("consumer"),
        )
        await consumer.next("ready")
        const load = producerLoad({ size, window: set.window, count, seconds, quick: ctx.quick, quickCount: 5_000 })
        producer = spawnPeer(
          `pg-queue ${system} producer (${name})`,
          PEER,
          ["--role", "producer", ...common, ...producerEndpoint, ...tuning, ...load],
          opts("producer"),
        )
        const sent = await producer.next("sent")
        consumer.send(String(sent.sent))
        const res = await consumer.next("result")
        await Promise.all([producer.finish(), consumer.finish()])
        if (follower !== undefined) {
          const finished = follower.finish()
          await follower.next("stats")
          await finished
        }
        if (device !== undefined) await finishDevice(device, name)
        // Backends report their statistics when their session ends, just after the clients go.
        await new Promise((r) => setTimeout(r, 500))
        const after = await counters(pgs.url, database)
        const jobs = Number(sent.sent)
        return {
          jobsPerSec: jobs / ((Number(res.doneAt) - Number(sent.firstAt)) / 1000),
          putsPerSec: Number(sent.putsPerSec),
          commitsPer1k: (1000 * (after.commits - before.commits)) / jobs,
          walPerJob: (after.walBytes - before.walBytes) / jobs,
        }
      } finally {
        device?.kill()
        follower?.kill()
        consumer?.kill()
        producer?.kill()
      }
    },
    teardown: () => server.stop(),
  }
}

export const PG_QUEUE_SCENARIOS: readonly Scenario[] = [
  pgQueue({
    name: "pg-queue-64B",
    size: 64,
    count: 500_000,
    seconds: 2,
    settings: {
      omq: { window: 4000, credit: 2000 },
      "pg-boss": { window: 100, pool: 10, batch: 100, concurrency: 4, notify: false },
      "graphile-worker": { window: 100, pool: 10, batch: 500, concurrency: 24 },
    },
  }),
  pgQueue({
    name: "pg-queue-2dev-64B",
    size: 64,
    count: 500_000,
    seconds: 2,
    devices: 2,
    settings: { omq: { window: 4000, credit: 2000 } },
  }),
]
