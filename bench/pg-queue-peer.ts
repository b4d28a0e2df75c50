/**
 * One process of the PostgreSQL job-queue benchmark (bench/pg-queue.ts): the same work done by
 * omq's QueueDevice on its PostgreSQL backend, by pg-boss and by graphile-worker, each on a
 * fresh database of one server the runner started.
 *
 *   --role device (omq only): a QueueDevice({ store: --url }) bound to tcp://127.0.0.1:*
 *       (with --shared 1 a shared one: the first leads, a second follows); emits
 *       {type:"ready", endpoint, role}; at stdin's end emits {type:"stats"} and closes.
 *   --role consumer: takes jobs and completes them (omq: consume with --credit, ack each;
 *       pg-boss: work() with a batch size; graphile-worker: a runner with a task); emits
 *       {type:"ready"} once it is waiting for jobs. The runner then sends one line, the number
 *       of jobs the producer put; when that many are completed (durably: omq's acks are
 *       confirmed; for the others the job table shows none left) it emits {type:"result", doneAt}.
 *   --role producer: puts 64 B jobs (--count, or until --seconds) with --window puts in flight,
 *       each put its own call, confirmed on its own; emits {type:"sent", sent, firstAt, putsPerSec}.
 *
 * Times (firstAt, doneAt) are wall-clock milliseconds with sub-ms precision
 * (performance.timeOrigin + performance.now()), comparable across the processes of one machine.
 */
import { randomBytes } from "node:crypto"
import type * as OmqQueue from "../lib/entry/queue.js"
import { args, emit, hrUs, markProfileWindow, num, parentDone, runPeer, windowed } from "./child.js"
import { OMQ_QUEUE_ENTRY } from "./libs.js"
import { completion, omqConsumer, omqProducer, PAYLOADS, QUEUE, windowOptions } from "./job-peer.js"

const a = args([
  "system",
  "role",
  "url",
  "endpoint",
  "size",
  "count",
  "seconds",
  "window",
  "credit",
  "pool",
  "batch",
  "concurrency",
  "notify",
  "refetch",
  "deadline",
  "shared",
])
const now = () => performance.timeOrigin + performance.now()
const url = a.url ?? ""

/** JSON payloads of exactly `size` bytes once serialized ({"b":"<random hex>"}), for the two JSON-based queues. */
function jsonPayloads(size: number): { b: string }[] {
  return Array.from({ length: PAYLOADS }, () => ({
    b: randomBytes(size)
      .toString("hex")
      .slice(0, Math.max(0, size - 8)),
  }))
}

/**
 * The producer's loop, the same for every system: `window` puts in flight (each confirmation
 * lets the next one go) until `count` or `seconds`.
 */
async function putLoop(put: (i: number) => Promise<unknown>): Promise<void> {
  const firstAt = now()
  const startUs = hrUs()
  const o = windowOptions(a)
  const sent = await windowed(put, o)
  const seconds = (now() - firstAt) / 1000
  markProfileWindow(startUs, hrUs())
  emit({ type: "sent", sent, firstAt, seconds, putsPerSec: sent / seconds })
}

async function omq(role: string): Promise<void> {
  const { QueueClient, QueueDevice } = (await import(OMQ_QUEUE_ENTRY)) as typeof OmqQueue
  if (role === "device") {
    const dev = new QueueDevice({ dir: "", store: url, shared: a.shared === "1" })
    await dev.bind("tcp://127.0.0.1:*")
    emit({ type: "ready", endpoint: dev.lastEndpoint, role: dev.role })
    await parentDone()
    const probe = new QueueClient(dev.lastEndpoint!)
    const s = await probe.stats(QUEUE).catch(() => undefined)
    await probe.close()
    emit({ type: "stats", queue: s?.queues[QUEUE] ?? null, logRows: (s as { logRows?: number } | undefined)?.logRows ?? 0 })
    await dev.close()
  } else if (role === "producer") {
    await omqProducer(a.endpoint!, num(a.window, "window"), num(a.size, "size"), putLoop)
  } else {
    await omqConsumer(a.endpoint!, num(a.credit, "credit"), completion())
  }
}

async function pgBoss(role: string): Promise<void> {
  const { PgBoss } = await import("pg-boss")
  // useListenNotify (with the queue's notify) wakes the worker at once instead of at its next poll.
  const notify = a.notify === "1"
  const boss = new PgBoss({ connectionString: url, max: num(a.pool, "pool"), useListenNotify: notify })
  boss.on("error", (err: Error) => process.stderr.write(`pg-boss error: ${err.message}\n`))
  await boss.start()
  try {
    if (role === "producer") {
      const data = jsonPayloads(num(a.size, "size"))
      await putLoop((i) => boss.send(QUEUE, data[i % PAYLOADS]!))
    } else {
      await boss.createQueue(QUEUE, { notify })
      const { default: pg } = await import("pg")
      const db = new pg.Client({ connectionString: url })
      await db.connect()
      const left = async () =>
        Number(
          (await db.query<{ n: string }>("SELECT count(*) AS n FROM pgboss.job WHERE name = $1 AND state <> 'completed'", [QUEUE])).rows[0]!.n,
        )
      const c = completion(async () => (await left()) === 0)
      // A batch handler that returns completes its whole batch; burstWhenBatchFull fetches again at
      // once while batches come back full, localConcurrency runs several such fetch loops.
      const options = {
        batchSize: num(a.batch, "batch"),
        localConcurrency: num(a.concurrency, "concurrency"),
        burstWhenBatchFull: true,
        pollingIntervalSeconds: 0.5,
      }
      await boss.work(QUEUE, options, async (jobs) => {
        c.completed(jobs.length)
      })
      emit({ type: "ready" })
      const doneAt = await c.done
      await db.end()
      emit({ type: "result", doneAt })
    }
  } finally {
    await boss.stop({ graceful: true, timeout: 5000 })
  }
}

async function graphileWorker(role: string): Promise<void> {
  const gw = await import("graphile-worker")
  const logger = new gw.Logger(() => (level, message) => {
    if (level === "error") process.stderr.write(`graphile-worker: ${message}\n`)
  })
  if (role === "producer") {
    const utils = await gw.makeWorkerUtils({ connectionString: url, maxPoolSize: num(a.pool, "pool"), logger })
    try {
      const payload = jsonPayloads(num(a.size, "size"))
      await putLoop((i) => utils.addJob("bench", payload[i % PAYLOADS]!))
    } finally {
      await utils.release()
    }
  } else {
    const { default: pg } = await import("pg")
    const db = new pg.Client({ connectionString: url })
    await db.connect()
    // Completed jobs are deleted.
    const c = completion(
      async () => Number((await db.query<{ n: string }>("SELECT count(*) AS n FROM graphile_worker._private_jobs")).rows[0]!.n) === 0,
    )
    // The batching its performance guide recommends: a local queue fetching (and locking) many
    // jobs at once, and completions batched (completeJobBatchDelay 0: those of one tick).
    const runner = await gw.run({
      connectionString: url,
      maxPoolSize: num(a.pool, "pool"),
      concurrency: num(a.concurrency, "concurrency"),
      noHandleSignals: true,
      logger,
      taskList: {
        bench: async () => {
          c.completed(1)
        },
      },
      preset: {
        worker: {
          localQueue: {
            size: num(a.batch, "batch"),
            ...(a.refetch !== undefined ? { refetchDelay: { durationMs: num(a.refetch, "refetch") } } : {}),
          },
          completeJobBatchDelay: 0,
          failJobBatchDelay: 0,
        },
      },
    })
    emit({ type: "ready" })
    const doneAt = await c.done
    await runner.stop()
    await db.end()
    emit({ type: "result", doneAt })
  }
}

const systems: Record<string, (role: string) => Promise<void>> = { omq, "pg-boss": pgBoss, "graphile-worker": graphileWorker }
const main = systems[a.system ?? ""]
if (main === undefined) throw new Error(`bad --system ${a.system}`)
if (!["device", "producer", "consumer"].includes(a.role ?? "")) throw new Error(`bad --role ${a.role}`)
runPeer(`pg-queue ${a.system} ${a.role}`, num(a.deadline, "deadline"), () => main(a.role!))
