/**
 * The client's direct reading of RANGE replies and deliveries (client/payload.ts) against the device's
 * encoder (server/protocol.ts) and the general decoder: the same messages for any
 * stored messages; null (so the client falls back) for any other shape.
 */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { encodeCbor } from "../../lib/devices/queue/cbor.js"
import { readDeliveries, readRange } from "../../lib/devices/queue/client/payload.js"
import { QueueConsumer, type Delivery, type DeliveryHost } from "../../lib/devices/queue/client/delivery.js"
import { deliveryPayload, rangePayload } from "../../lib/devices/queue/server/protocol.js"
import type { DeliveredMessage, StoredMessage } from "../../lib/devices/queue/backend.js"

const stored = fc.record({
  seq: fc.nat({ max: Number.MAX_SAFE_INTEGER }),
  putAt: fc.oneof(fc.nat({ max: 2 ** 32 + 5 }), fc.integer({ min: 1_500_000_000_000, max: 2_000_000_000_000 })),
  priority: fc.nat({ max: 2 ** 32 - 1 }),
  id: fc.option(fc.string({ minLength: 1, maxLength: 30 }), { nil: undefined }),
  key: fc.option(fc.string({ unit: "grapheme", minLength: 1, maxLength: 30 }), { nil: undefined }),
})

describe("readRange", () => {
  it("reads what rangePayload writes, with the data frames in order", () => {
    fc.assert(
      fc.property(fc.array(stored, { maxLength: 40 }), fc.nat({ max: Number.MAX_SAFE_INTEGER }), (list, next) => {
        const msgs: StoredMessage[] = list.map((m, i) => ({ ...m, headers: Buffer.alloc(0), body: Buffer.from(`b${i}`) }))
        const frames = [Buffer.from("OK"), Buffer.alloc(4), rangePayload("q.name", next, msgs)]
        for (const m of msgs) frames.push(m.headers, m.body)
        const r = readRange(frames[2]!, frames, 3)
        expect(r).not.toBeNull()
        expect(r!.next).toBe(next)
        expect(
          r!.messages.map((m) => ({ seq: m.offset, putAt: m.putAt, priority: m.priority, id: m.id, key: m.key, body: m.body.toString() })),
        ).toEqual(list.map((m, i) => ({ ...m, body: `b${i}` })))
      }),
    )
  })

  it("decodes headers on first access", () => {
    const headers = encodeCbor({ a: 1 })
    const payload = rangePayload("q", 8, [{ seq: 7, putAt: 1, priority: 2, id: undefined, key: undefined, headers, body: Buffer.from("x") }])
    const r = readRange(payload, [Buffer.alloc(0), Buffer.alloc(0), payload, headers, Buffer.from("x")], 3)!
    expect(r.messages[0]!.headers).toEqual({ a: 1 })
    expect(r.messages[0]!.rawHeaders).toBe(headers)
  })

  it("returns null for any other shape (the client then uses the general decoder)", () => {
    const other = [
      encodeCbor({ queue: "q", next: 1 }), // no messages
      encodeCbor({ queue: "q", next: 1, messages: [[1, 2, 3, null]] }), // a tuple of 4
      encodeCbor({ queue: "q", next: 1, messages: [[1, 2, 3, 4, null]] }), // id not text
      encodeCbor({ queue: "q", next: -1, messages: [] }),
      encodeCbor({ queue: "q", next: 1, messages: [], more: true }),
      encodeCbor([1, 2]),
      Buffer.from([0xa3, 0x65]), // truncated
      Buffer.concat([rangePayload("q", 2, []), Buffer.from([0])]), // trailing byte
      Buffer.from([0xa1, 0x64, 0x6e, 0x65, 0x78, 0x74, 0x1b, 0xff, 0, 0, 0, 0, 0, 0, 0, 0]), // next above 2^53
      Buffer.alloc(0),
    ]
    for (const p of other) expect(readRange(p, [], 3)).toBeNull()
  })
})

describe("readDeliveries", () => {
  const host = {} as DeliveryHost
  const delivered = fc.record({
    seq: fc.nat({ max: Number.MAX_SAFE_INTEGER }),
    attempts: fc.integer({ min: 1, max: 2 ** 32 }),
    priority: fc.nat({ max: 2 ** 32 - 1 }),
    putAt: fc.integer({ min: 0, max: 2_000_000_000_000 }),
    ttr: fc.integer({ min: 1, max: 2 ** 32 - 1 }),
    id: fc.option(fc.string({ minLength: 1, maxLength: 30 }), { nil: undefined }),
    key: fc.option(fc.string({ unit: "grapheme", minLength: 1, maxLength: 30 }), { nil: undefined }),
  })

  const drain = async (c: QueueConsumer): Promise<Delivery[]> => {
    const out: Delivery[] = []
    while (c.buffered > 0) out.push((await c.next()).value!)
    return out
  }

  it("reads what deliveryPayload writes into Deliveries of the consumer's group", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(delivered, { maxLength: 40 }), async (list) => {
        const msgs = list.map((m, i) => ({ ...m, headers: Buffer.alloc(0), body: Buffer.from(`b${i}`) })) as unknown as DeliveredMessage[]
        const frames = [Buffer.from("MSG"), Buffer.alloc(4), deliveryPayload("q/1", msgs)]
        for (const m of msgs) frames.push(m.headers, m.body)
        const c = new QueueConsumer(host, "q/1", 100, undefined, "g")
        expect(readDeliveries(frames[2]!, frames, 3, host, c)).toBe(true)
        const got = await drain(c)
        expect(
          got.map((d) => ({
            seq: d.seq,
            attempts: d.attempt,
            priority: d.priority,
            putAt: d.putAt,
            ttr: d.ttr,
            id: d.id,
            key: d.key,
            body: d.body.toString(),
            queue: d.queue,
            group: d.group,
          })),
        ).toEqual(list.map((m, i) => ({ ...m, body: `b${i}`, queue: "q/1", group: "g" })))
      }),
    )
  })

  it("returns false, pushing nothing, for any other shape", () => {
    const c = new QueueConsumer(host, "q", 100, undefined)
    const other = [
      encodeCbor({ queue: "q" }),
      encodeCbor({ messages: [], queue: "q" }), // keys in another order
      encodeCbor({ queue: "q", messages: [[1, 1, 1, 1, 1]] }),
      encodeCbor({
        queue: "q",
        messages: [
          [1, 1, 1, 1, 1, null],
          [1, 1, 1, 1, 1, null, null],
        ],
      }),
      Buffer.concat([deliveryPayload("q", []), Buffer.from([0])]),
      Buffer.alloc(0),
    ]
    for (const p of other) expect(readDeliveries(p, [], 3, host, c)).toBe(false)
    expect(c.buffered).toBe(0)
  })
})
