/**
 * The client's direct reading of RANGE replies (client/payload.ts) against the device's
 * encoder (server/protocol.ts) and the general decoder: the same messages for any
 * stored messages; null (so the client falls back) for any other shape.
 */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { encodeCbor } from "../../lib/devices/queue/cbor.js"
import { readRange } from "../../lib/devices/queue/client/payload.js"
import { rangePayload } from "../../lib/devices/queue/server/protocol.js"
import type { StoredMessage } from "../../lib/devices/queue/backend.js"

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
