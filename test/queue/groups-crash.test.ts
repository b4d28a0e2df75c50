/**
 * Consumer groups under SIGKILL, and a broadcast at volume.
 *
 * Crash loop: a device process (fsync "always") is killed at random moments while producers put
 * keyed messages into a stream read by three groups; then restarted on the same directory, over
 * and over. For every group: no confirmed put is lost (each is delivered to the group at some
 * point), no message whose ack the group got confirmed is delivered to it again, and a key's
 * messages are never delivered out of order (nothing older than what the group already acked
 * for that key, and one at a time).
 *
 * Broadcast: 100,000 messages to 3 groups; each group gets each exactly once (nothing is
 * redelivered: no lease ends).
 */
import type { ChildProcess } from "node:child_process"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"
import { QueueClient } from "../../lib/entry/queue.js"
import { killChild, startFixture } from "../helpers.js"
import { client, startDevice, tempDir } from "./queue-util.js"

const CHILD = fileURLToPath(new URL("./fixtures/crash-device.ts", import.meta.url))
const QUEUE = "stream"
const GROUPS = ["g0", "g1", "g2"]
const KEYS = 6

async function startChild(dir: string): Promise<{ child: ChildProcess; endpoint: string }> {
  const { child, ready } = await startFixture<{ endpoint: string }>(CHILD, [dir], 20_000)
  return { child, endpoint: ready.endpoint }
}

const kill = killChild

describe("consumer groups under SIGKILL (fsync always)", () => {
  it("per group: no confirmed put lost, no confirmed ack redelivered, key order kept, across repeated kills", async () => {
    const dir = tempDir()
    const confirmedPuts = new Map<number, string>() // seq -> key
    const acked = GROUPS.map(() => new Set<number>())
    const delivered = GROUPS.map(() => new Set<number>())
    /** Per group and key: the highest seq whose ack was confirmed, and the seq in flight. */
    const lastAcked = GROUPS.map(() => new Map<string, number>())
    const violations: string[] = []
    let next = 0
    let iterations = 0
    const started = Date.now()

    const setup = async (endpoint: string) => {
      const admin = new QueueClient(endpoint)
      try {
        for (const g of GROUPS) await admin.createGroup(QUEUE, g)
      } finally {
        await admin.close(100)
      }
    }

    while (iterations < 4 || (Date.now() - started < 15_000 && iterations < 20)) {
      const { child, endpoint } = await startChild(dir)
      iterations++
      if (iterations === 1) await setup(endpoint)
      const producer = new QueueClient(endpoint)
      const consumers = GROUPS.map(() => new QueueClient(endpoint))
      let stop = false
      const producing = Array.from({ length: 8 }, async () => {
        while (!stop) {
          const n = next++
          const key = `k${n % KEYS}`
          try {
            const r = await producer.put(QUEUE, `p${n}`, { key })
            confirmedPuts.set(r.seq, key)
          } catch {
            return
          }
        }
      })
      const consuming = GROUPS.map(async (g, gi) => {
        const inflight = new Map<string, number>()
        try {
          for await (const d of consumers[gi]!.consume(QUEUE, { group: g, credit: 16 })) {
            const key = d.key!
            if (acked[gi]!.has(d.seq)) violations.push(`${g}: ${d.seq} delivered again after its ack was confirmed`)
            if ((lastAcked[gi]!.get(key) ?? 0) > d.seq) violations.push(`${g}: ${key} ${d.seq} delivered after a later one was acked`)
            const other = inflight.get(key)
            if (other !== undefined && other !== d.seq) violations.push(`${g}: ${key} ${d.seq} delivered while ${other} was in flight`)
            inflight.set(key, d.seq)
            delivered[gi]!.add(d.seq)
            if (d.seq % 7 === 0 && d.attempt === 1) {
              inflight.delete(key)
              d.nack().catch(() => {})
              continue
            }
            inflight.delete(key)
            d.ack().then(
              () => {
                acked[gi]!.add(d.seq)
                if ((lastAcked[gi]!.get(key) ?? 0) < d.seq) lastAcked[gi]!.set(key, d.seq)
              },
              () => {},
            )
          }
        } catch {
          // the device is gone
        }
      })
      await new Promise((r) => setTimeout(r, 150 + Math.random() * 400))
      await kill(child)
      stop = true
      await Promise.all(producing)
      await Promise.all([producer.close(100), ...consumers.map((c) => c.close(100))])
      await Promise.all(consuming)
    }

    // A last start: every group drains what it has left.
    const { child, endpoint } = await startChild(dir)
    try {
      await Promise.all(
        GROUPS.map(async (g, gi) => {
          const c = new QueueClient(endpoint)
          try {
            for (;;) {
              const d = await c.reserve(QUEUE, { group: g, timeout: 300 })
              if (d === null) break
              if (acked[gi]!.has(d.seq)) violations.push(`${g}: ${d.seq} delivered again after its ack was confirmed (final drain)`)
              if ((lastAcked[gi]!.get(d.key!) ?? 0) > d.seq) violations.push(`${g}: ${d.key} ${d.seq} out of order (final drain)`)
              delivered[gi]!.add(d.seq)
              await d.ack()
              acked[gi]!.add(d.seq)
              lastAcked[gi]!.set(d.key!, Math.max(lastAcked[gi]!.get(d.key!) ?? 0, d.seq))
            }
          } finally {
            await c.close(100)
          }
        }),
      )
      const c = new QueueClient(endpoint)
      const s = (await c.stats(QUEUE)).queues[QUEUE]!.stream!
      await c.close(100)
      for (const g of GROUPS) expect(s.groups[g]).toMatchObject({ reserved: 0, lag: 0 })
    } finally {
      await kill(child)
    }

    const lost = GROUPS.map((g, gi) => [g, [...confirmedPuts.keys()].filter((seq) => !delivered[gi]!.has(seq)).length])
    console.log(
      `group crash loop: ${iterations} SIGKILLs, ${confirmedPuts.size} confirmed puts, acks per group ${acked.map((a) => a.size).join("/")}`,
    )
    expect(violations.slice(0, 10)).toEqual([])
    expect(lost).toEqual(GROUPS.map((g) => [g, 0]))
    expect(confirmedPuts.size).toBeGreaterThan(100)
  }, 90_000)
})

describe("broadcast at volume", () => {
  it("100,000 messages to 3 groups: each group gets each exactly once", async () => {
    const dev = await startDevice({ fsync: { intervalMs: 50 } } as never)
    const admin = client(dev)
    for (const g of GROUPS) await admin.createGroup("wide", g)
    const N = 100_000
    const seen = GROUPS.map(() => new Uint8Array(N))
    const dups = [0, 0, 0]
    const counts = [0, 0, 0]
    const consumers = GROUPS.map((g, gi) => {
      const c = client(dev)
      return (async () => {
        for await (const d of c.consume("wide", { group: g, credit: 2000 })) {
          const i = d.body.readUInt32LE(0)
          if (seen[gi]![i]) dups[gi]!++
          seen[gi]![i] = 1
          void d.ack()
          if (++counts[gi]! === N) break
        }
      })()
    })
    const producer = client(dev)
    const batch: Promise<unknown>[] = []
    for (let i = 0; i < N; i++) {
      const b = Buffer.alloc(16)
      b.writeUInt32LE(i, 0)
      batch.push(producer.put("wide", b))
      if (batch.length === 5000) await Promise.all(batch.splice(0))
    }
    await Promise.all(batch)
    await Promise.all(consumers)
    expect(dups).toEqual([0, 0, 0])
    expect(counts).toEqual([N, N, N])
    for (const s of seen) expect(s.every((x) => x === 1)).toBe(true)
    const st = (await admin.stats("wide")).queues.wide!.stream!
    for (const g of GROUPS) expect(st.groups[g]).toMatchObject({ redeliveries: 0 })
  }, 60_000)
})
