/**
 * Durable queue: a producer and a worker around a QueueDevice that stores to
 * disk. A job that keeps failing is retried with backoff and then
 * dead-lettered; a delayed job waits its turn; the device restarts and the
 * messages stored before are still there.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { QueueClient, QueueDevice } from "../../lib/entry/queue.js"

export async function durableQueue(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), "omq-demo-queue-"))
  let device = new QueueDevice({ dir, fsync: "always" })
  const clients: QueueClient[] = []
  try {
    await device.bind("tcp://127.0.0.1:*")
    const endpoint = device.lastEndpoint!

    const producer = new QueueClient(endpoint)
    clients.push(producer)
    // Every job gets 3 attempts, 20 ms then 40 ms apart.
    await producer.configure("emails", { retry: { maxAttempts: 3, backoff: "exponential", delay: 20 } })

    const worker = new QueueClient(endpoint, { consumerName: "worker-1" })
    clients.push(worker)
    const sent: string[] = []
    const failures: number[] = []
    let delayedAfter = 0
    const t0 = Date.now()
    const jobs = worker.consume("emails", { credit: 10 })
    const working = (async () => {
      for await (const job of jobs) {
        const to = String(job.headers.to)
        if (to === "nobody@invalid") {
          failures.push(job.attempt)
          await job.nack() // retried with backoff until its attempts are used up
          if (failures.length === 3 && sent.length === 3) return
          continue
        }
        if (job.body.toString() === "reminder") delayedAfter = Date.now() - t0
        sent.push(`${job.body} to ${to}`)
        await job.ack()
        if (sent.length === 3 && failures.length === 3) return
      }
    })()

    await producer.put("emails", "welcome", { headers: { to: "ada@example.com" } })
    await producer.put("emails", "invoice", { headers: { to: "nobody@invalid" } })
    await producer.put("emails", "reminder", { headers: { to: "ada@example.com" }, delay: 200 })
    await producer.put("emails", "receipt", { headers: { to: "bob@example.com" } })
    await working
    await jobs.close()
    const [dead] = await producer.peek("emails", { state: "buried" })
    if (dead === undefined) throw new Error("the failing job was not dead-lettered")

    // Two more jobs, confirmed (on disk) before the device stops.
    await producer.putBatch("emails", [
      { body: "newsletter", headers: { to: "ada@example.com" } },
      { body: "survey", headers: { to: "bob@example.com" } },
    ])
    for (const c of clients.splice(0)) await c.close()
    await device.close()
    device = new QueueDevice({ dir })
    await device.bind(endpoint) // same directory, same address
    const restarted = new QueueClient(endpoint, { consumerName: "worker-2" })
    clients.push(restarted)
    const kept: string[] = []
    for (let i = 0; i < 2; i++) {
      const job = await restarted.reserve("emails", { timeout: 5000 })
      if (job === null) throw new Error("a message was lost in the restart")
      kept.push(job.body.toString())
      await job.ack()
    }
    const stats = (await restarted.stats("emails")).queues.emails!

    return (
      `sent ${sent.join(", ")}; "${dead.body}" failed attempts ${failures.join(",")} and was dead-lettered ` +
      `(${dead.buryReason}, last consumer ${dead.lastConsumer}); the delayed reminder went after ${delayedAfter} ms; ` +
      `after a device restart ${kept.join(" and ")} were still queued; left: ${stats.total} (${stats.buried} dead letter)`
    )
  } finally {
    for (const c of clients) await c.close(500)
    await device.close()
    rmSync(dir, { recursive: true, force: true })
  }
}
