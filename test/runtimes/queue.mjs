/**
 * The durable queue on this runtime, from the built package: messages put before the device
 * closes are there when a new device opens the same directory; consumed and acked, they are
 * gone after the next restart too. A LOCK file left by a dead device is taken over, except on
 * Deno without --allow-run, which may not ask whether its pid lives: there it is refused.
 */
import { QueueClient, QueueDevice } from "omq/queue"
import * as fs from "node:fs"
import * as path from "node:path"
import * as os from "node:os"
import { check, done, runtime, same, scratchDir } from "./harness.mjs"

const dir = scratchDir()

/** Runs `f` with a device on `dir` (fsync always) and a client of it; closes both. */
async function withDevice(f) {
  const device = new QueueDevice({ dir, fsync: "always" })
  await device.bind("tcp://127.0.0.1:0")
  const client = new QueueClient(device.lastEndpoint)
  try {
    await f(client)
  } finally {
    await client.close()
    await device.close()
  }
}

await check("put: confirmed after fsync; the device closes and releases its lock", async () => {
  await withDevice(async (client) => {
    same(await client.put("jobs", "first", { headers: { n: 1 } }), { seq: 1, duplicate: false })
    same(await client.put("jobs", "second", { id: "job-2" }), { seq: 2, duplicate: false })
    same(await client.put("jobs", "again", { id: "job-2" }), { seq: 2, duplicate: true }, "dedup")
  })
  if (fs.existsSync(path.join(dir, "LOCK"))) throw new Error("LOCK left behind by a clean close")
})

await check("restart: a new device on the same directory delivers them; ack", async () => {
  await withDevice(async (client) => {
    same((await client.stats("jobs")).queues.jobs.ready, 2, "ready after recovery")
    const first = await client.reserve("jobs", { timeout: 2000 })
    same([first.body.toString(), first.headers], ["first", { n: 1 }])
    await first.ack()
    const consumer = client.consume("jobs", { credit: 1 })
    for await (const job of consumer) {
      same(job.body.toString(), "second")
      await job.ack()
      break
    }
  })
})

await check("restart: acked messages stay gone", async () => {
  await withDevice(async (client) => {
    same((await client.stats("jobs")).queues.jobs?.total ?? 0, 0, "messages left")
  })
})

await check("a LOCK left by a dead process: taken over, or on Deno without --allow-run refused", async () => {
  const stale = scratchDir()
  // No process has this pid: it is above Linux's largest pid_max (2^22) and macOS's 99998.
  fs.writeFileSync(path.join(stale, "LOCK"), JSON.stringify({ pid: 99_999_999, start: "1", host: os.hostname() }))
  const mayAsk = runtime !== "deno" || globalThis.Deno.permissions.querySync({ name: "run" }).state === "granted"
  const device = new QueueDevice({ dir: stale })
  try {
    await device.open()
    if (!mayAsk) throw new Error("taken over without a way to know its owner is dead")
  } catch (err) {
    if (mayAsk || err.code !== "LOCKED") throw err
  } finally {
    await device.close()
  }
})

done()
