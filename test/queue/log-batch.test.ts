/**
 * The PUTB / PUTBX record (lib/devices/queue/journal/log.ts logBatch), written straight from the
 * model's messages: byte for byte the layout records.ts defines for each item (writePut of its
 * PutFields), with the item sizes in front, whatever the mix of ids, retry policies, headers,
 * keys and queue names; and it reads back to the same fields.
 */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { putFields } from "../../lib/devices/queue/journal/codec.js"
import { encodeRetry, logBatch } from "../../lib/devices/queue/journal/log.js"
import { RecordReader, RecordType, RecordWriter, putSize, readPut, utf8Length, writePut } from "../../lib/devices/queue/journal/records.js"
import type { MessageData } from "../../lib/devices/queue/model/changes.js"

const messageArb: fc.Arbitrary<MessageData> = fc.record({
  seq: fc.integer({ min: 1, max: 2 ** 40 }),
  putAt: fc.integer({ min: 0, max: 2 ** 45 }),
  priority: fc.integer({ min: 0, max: 2 ** 31 }),
  readyAt: fc.integer({ min: 0, max: 2 ** 45 }),
  ttr: fc.integer({ min: 1, max: 2 ** 31 }),
  expiresAt: fc.integer({ min: 0, max: 2 ** 45 }),
  queueName: fc.constantFrom("jobs", "jobs", "ünïcode-q", "other"),
  id: fc.option(fc.string({ maxLength: 12 }), { nil: undefined }),
  retry: fc.option(fc.record({ maxAttempts: fc.integer({ min: 1, max: 9 }), backoff: fc.constantFrom("fixed", "exponential") }), {
    nil: undefined,
  }),
  headers: fc.uint8Array({ maxLength: 20 }).map((u) => Buffer.from(u)),
  body: fc.uint8Array({ maxLength: 200 }).map((u) => Buffer.from(u)),
})

/** The record as the per-item layout defines it, built with writePut over each item's PutFields. */
function reference(msgs: readonly MessageData[], exts: Buffer[] | undefined): Buffer {
  const items = msgs.map((m, i) => {
    const f = putFields(m)
    const size = (exts === undefined ? 0 : 4 + exts[i]!.length) + putSize(f, utf8Length(f.queue), utf8Length(f.id))
    return { f, size }
  })
  const w = new RecordWriter()
  w.begin(exts === undefined ? RecordType.PutBatch : RecordType.PutBatchX, 4 + items.reduce((n, it) => n + 4 + it.size, 0))
  w.u32(msgs.length)
  items.forEach(({ f, size }, i) => {
    w.u32(size)
    if (exts !== undefined) w.bin(exts[i]!)
    writePut(w, f, utf8Length(f.queue), utf8Length(f.id))
  })
  w.end()
  return Buffer.concat(w.take())
}

describe("PUTB records written from the messages", () => {
  it("equal the per-item layout byte for byte, with and without extension maps (property)", () => {
    fc.assert(
      fc.property(fc.array(messageArb, { minLength: 1, maxLength: 12 }), fc.boolean(), (msgs, withExts) => {
        const exts = withExts
          ? msgs.map((_, i) => (i % 2 === 0 ? Buffer.alloc(0) : Buffer.from([0xa1, 0x63, 0x6b, 0x65, 0x79, 0x61, 0x6b])))
          : undefined
        const w = new RecordWriter()
        const size = logBatch(w, msgs, exts)
        const got = Buffer.concat(w.take())
        expect(size).toBe(got.length)
        expect(got.equals(reference(msgs, exts))).toBe(true)
      }),
      { numRuns: 300, seed: 19 },
    )
  })

  it("reads back to the messages' fields", () => {
    const msgs: MessageData[] = [
      {
        seq: 7,
        putAt: 1.7e12,
        priority: 3,
        readyAt: 1.7e12 + 5,
        ttr: 30_000,
        expiresAt: 0,
        queueName: "q",
        id: "a",
        retry: undefined,
        headers: Buffer.alloc(0),
        body: Buffer.from("one"),
      },
      {
        seq: 8,
        putAt: 1.7e12,
        priority: 0,
        readyAt: 1.7e12,
        ttr: 1,
        expiresAt: 9,
        queueName: "q2",
        id: undefined,
        retry: { maxAttempts: 2 },
        headers: Buffer.from([0xa0]),
        body: Buffer.alloc(0),
      },
    ]
    const w = new RecordWriter()
    logBatch(w, msgs)
    const rec = Buffer.concat(w.take())
    const r = new RecordReader(rec, 9, rec.length) // after length, CRC and type
    expect(r.u32()).toBe(2)
    for (const m of msgs) {
      const len = r.u32()
      const f = readPut(new RecordReader(rec, r.pos, r.pos + len))
      r.pos += len
      expect(f).toEqual({ ...putFields(m), id: m.id })
      expect(f.retry.equals(encodeRetry(m.retry))).toBe(true)
    }
  })
})
