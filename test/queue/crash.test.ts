/**
 * Crash safety: a device process is killed with SIGKILL at random moments
 * while a producer and a consumer work against it, then restarted on the
 * same directory, over and over. With fsync "always":
 * - no confirmed put is ever lost (every one is delivered at some point);
 * - no message whose ack was confirmed is ever delivered again;
 * - bodies come back intact, and recovery copes with whatever the kill left
 *   (half-written checkpoints, fresh segments) and with torn tails, which
 *   every other iteration adds on purpose (a SIGKILL rarely tears a write).
 * Bounded in time: iterations run until ~18 s are used (at least 4).
 */
import type { ChildProcess } from "node:child_process"
import { randomBytes } from "node:crypto"
import { appendFileSync, readdirSync, statSync } from "node:fs"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"

import { killChild, startFixture } from "../helpers.js"
import { tempDir } from "./queue-util.js"
import { QueueClient } from "../../lib/entry/queue.js"

const CHILD = fileURLToPath(new URL("./fixtures/crash-device.ts", import.meta.url))
const QUEUE = "crash"

interface Started {
  child: ChildProcess
  endpoint: string
  recovery: { checkpoint: number; records: number; truncated: number; ms: number }
}

async function startChild(dir: string): Promise<Started> {
  const { child, ready } = await startFixture<Omit<Started, "child">>(CHILD, [dir], 20_000)
  return { child, ...ready }
}

const kill = killChild

describe("crash safety (SIGKILL of a device process, fsync always)", () => {
  it("never loses a confirmed put nor redelivers a confirmed ack, across repeated kills", async () => {
    const dir = tempDir()
    const confirmedPuts = new Set<string>()
    const confirmedAcks = new Set<string>()
    const delivered = new Set<string>()
    const violations: string[] = []
    let next = 0
    let iterations = 0
    let truncatedTails = 0
    let injected = 0
    let checkpointsLoaded = 0
    const started = Date.now()

    const onDelivery = (body: Buffer) => {
      const id = body.toString()
      if (!/^p\d+$/.test(id)) violations.push(`damaged body ${JSON.stringify(id)}`)
      if (confirmedAcks.has(id)) violations.push(`${id} delivered again after its ack was confirmed`)
      delivered.add(id)
      return id
    }

    while (iterations < 4 || (Date.now() - started < 18_000 && iterations < 25)) {
      const { child, endpoint, recovery } = await startChild(dir)
      iterations++
      truncatedTails += recovery.truncated
      if (recovery.checkpoint > 0) checkpointsLoaded++
      const producer = new QueueClient(endpoint)
      const consumer = new QueueClient(endpoint)
      let stop = false
      const producing = Array.from({ length: 16 }, async () => {
        while (!stop) {
          const id = `p${next++}`
          try {
            await producer.put(QUEUE, id)
            confirmedPuts.add(id)
          } catch {
            return // the device is gone
          }
        }
      })
      const consuming = (async () => {
        try {
          for await (const d of consumer.consume(QUEUE, { credit: 32 })) {
            const id = onDelivery(d.body)
            if (d.seq % 10 === 0 && d.attempt === 1) {
              d.nack().catch(() => {})
              continue
            }
            d.ack().then(
              () => confirmedAcks.add(id),
              () => {},
            )
          }
        } catch {
          // the device is gone
        }
      })()
      // Kill at a random moment under load.
      await new Promise((r) => setTimeout(r, 100 + Math.random() * 400))
      await kill(child)
      // Every other kill also leaves a torn write: junk after the last record, as a crash mid-write would.
      if (iterations % 2 === 0) {
        const last = readdirSync(dir)
          .filter((f) => f.startsWith("seg-"))
          .sort()
          .at(-1)
        // Only after a complete segment header: a kill in the middle of creating a segment leaves
        // an empty file, and junk after nothing is damage, not a torn write (recovery says CORRUPT).
        if (last !== undefined && statSync(join(dir, last)).size >= 16) {
          const junk = randomBytes(1 + Math.floor(Math.random() * 200))
          if (junk.length >= 4) junk.writeUInt32LE(1000 + junk.length, 0) // a length that runs past the end
          appendFileSync(join(dir, last), junk)
          injected++
        }
      }
      stop = true
      await Promise.all(producing)
      await Promise.all([producer.close(100), consumer.close(100)])
      await consuming
    }

    // A last start: drain everything that is left.
    const { child, endpoint, recovery } = await startChild(dir)
    truncatedTails += recovery.truncated
    const c = new QueueClient(endpoint)
    try {
      for (;;) {
        const d = await c.reserve(QUEUE, { timeout: 300 })
        if (d === null) break
        onDelivery(d.body)
        await d.ack()
      }
      const s = (await c.stats(QUEUE)).queues[QUEUE]!
      expect(s.total).toBe(0)
    } finally {
      await c.close(100)
      await kill(child)
    }

    const lost = [...confirmedPuts].filter((id) => !delivered.has(id))
    console.log(
      `crash loop: ${iterations} SIGKILLs in ${((Date.now() - started) / 1000).toFixed(1)} s, ${confirmedPuts.size} confirmed puts, ` +
        `${confirmedAcks.size} confirmed acks, ${truncatedTails} torn tails truncated (${injected} injected), ${checkpointsLoaded} restarts from a checkpoint`,
    )
    expect(violations).toEqual([])
    expect(lost).toEqual([])
    expect(iterations).toBeGreaterThanOrEqual(4)
    expect(truncatedTails).toBeGreaterThanOrEqual(injected)
    expect(confirmedPuts.size).toBeGreaterThan(100)
  }, 90_000)
})
