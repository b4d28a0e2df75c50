/**
 * The durable queue on this runtime, from the built package: messages put before the device
 * closes are there when a new device opens the same directory; consumed and acked, they are
 * gone after the next restart too.
 */
import { QueueClient, QueueDevice } from "omq/queue"
import * as fs from "node:fs"
import * as path from "node:path"
import { check, done, same, scratchDir } from "./harness.mjs"

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

done()
