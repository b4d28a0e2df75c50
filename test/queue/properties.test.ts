/**
 * Property tests of the queue's building blocks: the protocol's CBOR
 * encoder against cbor-x's decoder, the indexed heap against a sorted
 * model, and recovery of a log damaged at random (it recovers a prefix of
 * what was stored, or refuses with CORRUPT; it never throws anything else).
 */
import * as fs from "node:fs"
import { join } from "node:path"
import { Decoder } from "cbor-x"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { encodeCbor } from "../../lib/devices/queue/cbor.js"
import { QueueStoreError } from "../../lib/devices/queue/errors.js"
import { IndexedHeap } from "../../lib/devices/queue/model/heap.js"
import { recover } from "../../lib/devices/queue/journal/recovery.js"
import { RecordType, readPut } from "../../lib/devices/queue/journal/records.js"
import { Store } from "../../lib/devices/queue/journal/store.js"
import { logPut } from "../../lib/devices/queue/journal/log.js"
import { tempDir } from "./queue-util.js"

const decoder = new Decoder({ mapsAsObjects: true, useRecords: false })
const plain = (v: unknown): unknown =>
  typeof v === "bigint" && v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(v) : v
const normalize = (v: unknown): unknown => {
  if (Array.isArray(v)) return v.map(normalize)
  if (v instanceof Uint8Array) return Buffer.from(v)
  if (v !== null && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, normalize(x)]))
  return plain(v)
}

describe("protocol CBOR encoder", () => {
  it("round-trips through a standard decoder (integers of every width, text, bytes, arrays, maps)", () => {
    const value = fc.letrec((tie) => ({
      leaf: fc.oneof(
        fc.integer({ min: -(2 ** 31), max: 2 ** 31 }),
        fc.maxSafeInteger(),
        fc.maxSafeNat(),
        fc.double({ noNaN: true, noDefaultInfinity: true }).filter((d) => !Number.isInteger(d)),
        fc.string({ unit: "binary", maxLength: 40 }),
        fc.uint8Array({ maxLength: 40 }).map((u) => Buffer.from(u)),
        fc.boolean(),
        fc.constant(null),
      ),
      node: fc.oneof(
        { depthSize: "small" },
        tie("leaf"),
        fc.array(tie("node"), { maxLength: 5 }),
        fc.dictionary(fc.string({ maxLength: 8 }), tie("node"), { maxKeys: 5 }),
      ),
    })).node
    fc.assert(
      fc.property(value, (v) => {
        expect(normalize(decoder.decode(encodeCbor(v)))).toEqual(normalize(v))
      }),
      { numRuns: 500 },
    )
  })

  it("writes integers above 2^32 as CBOR integers, not floats", () => {
    expect(encodeCbor(2 ** 40).toString("hex")).toBe("1b0000010000000000")
    expect(encodeCbor(-(2 ** 40)).toString("hex")).toBe("3b000000ffffffffff")
    expect(encodeCbor({ a: undefined, b: 1 }).toString("hex")).toBe("a1616201")
  })
})

describe("indexed heap", () => {
  it("pops in order under random pushes and removals", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 50 })), { maxLength: 200 }), (ops) => {
        type Item = { key: number; id: number; index: number }
        const heap = new IndexedHeap<Item>(
          (a, b) => a.key < b.key || (a.key === b.key && a.id < b.id),
          (x) => x.index,
          (x, i) => (x.index = i),
        )
        const model: Item[] = []
        let id = 0
        for (const [push, n] of ops) {
          if (push || model.length === 0) {
            const item = { key: n, id: id++, index: -1 }
            heap.push(item)
            model.push(item)
          } else {
            const victim = model.splice(n % model.length, 1)[0]!
            heap.remove(victim)
            expect(heap.has(victim)).toBe(false)
          }
        }
        model.sort((a, b) => a.key - b.key || a.id - b.id)
        const out: Item[] = []
        for (let x = heap.pop(); x !== undefined; x = heap.pop()) out.push(x)
        expect(out).toEqual(model)
      }),
      { numRuns: 300 },
    )
  })
})

describe("recovery of a randomly damaged log", () => {
  it("recovers a prefix of the stored messages, or refuses with CORRUPT", async () => {
    // One log of 40 puts, written once; each case damages a copy.
    const src = tempDir()
    const store = new Store(src, 1, { fsync: "never", segmentBytes: 1 << 20 })
    for (let i = 0; i < 40; i++) {
      logPut(store, {
        seq: i + 1,
        putAt: 1,
        priority: 0,
        readyAt: 0,
        ttr: 1000,
        expiresAt: 0,
        queue: "q",
        id: undefined,
        retry: Buffer.alloc(0),
        headers: Buffer.alloc(0),
        body: Buffer.from(`body-${i}`),
      })
    }
    await store.close()
    const original = fs.readFileSync(join(src, "seg-0000000000000001.log"))

    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.record({ kind: fc.constant("flip" as const), at: fc.nat(), bits: fc.integer({ min: 1, max: 255 }) }),
          fc.record({ kind: fc.constant("cut" as const), at: fc.nat() }),
          fc.record({ kind: fc.constant("append" as const), junk: fc.uint8Array({ minLength: 1, maxLength: 64 }) }),
        ),
        async (damage) => {
          const dir = tempDir()
          let buf = Buffer.from(original)
          if (damage.kind === "flip") {
            const at = damage.at % buf.length
            buf[at] = buf[at]! ^ damage.bits
          } else if (damage.kind === "cut") buf = buf.subarray(0, damage.at % buf.length)
          else buf = Buffer.concat([buf, damage.junk])
          fs.writeFileSync(join(dir, "seg-0000000000000001.log"), buf)
          const bodies: string[] = []
          try {
            recover(
              dir,
              (type, r) => {
                if (type === RecordType.Put) bodies.push(readPut(r).body.toString())
              },
              false,
            )
          } catch (err) {
            expect(err).toBeInstanceOf(QueueStoreError)
            expect((err as QueueStoreError).code).toBe("CORRUPT")
            return
          }
          // Whatever was recovered is the stored sequence up to some point, intact.
          expect(bodies).toEqual(Array.from({ length: bodies.length }, (_, i) => `body-${i}`))
          if (damage.kind === "append") expect(bodies).toHaveLength(40)
        },
      ),
      { numRuns: 150 },
    )
  })
})

describe("retry backoff", () => {
  it("fixed, exponential with a cap, and jitter", async () => {
    const { backoffDelay, effectiveRetry } = await import("../../lib/devices/queue/model/retry.js")
    const fixed = effectiveRetry({ delay: 100 }, undefined)
    expect([1, 2, 5].map((a) => backoffDelay(fixed, a))).toEqual([100, 100, 100])
    const exp = effectiveRetry({ backoff: "exponential", delay: 100, maxDelay: 1000 }, undefined)
    expect([1, 2, 3, 4, 5, 60].map((a) => backoffDelay(exp, a))).toEqual([100, 200, 400, 800, 1000, 1000])
    const jittered = effectiveRetry({ backoff: "exponential", delay: 100 }, { jitter: 0.5 })
    expect(backoffDelay(jittered, 3, () => 0)).toBe(400)
    expect(backoffDelay(jittered, 3, () => 1)).toBe(200)
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 100 }), fc.double({ min: 0, max: 1, noNaN: true }), (attempt, r) => {
        const d = backoffDelay(jittered, attempt, () => r)
        const full = Math.min(100 * 2 ** (attempt - 1), 2 ** 40)
        expect(d).toBeGreaterThanOrEqual(Math.floor(full / 2))
        expect(d).toBeLessThanOrEqual(Math.ceil(full))
      }),
    )
    // A message's fields override its queue's, field by field.
    expect(effectiveRetry({ maxAttempts: 5, delay: 10 }, { delay: 20 })).toMatchObject({ maxAttempts: 5, delay: 20, backoff: "fixed" })
  })
})
