/**
 * MessageQueue (lib/pipe/message-queue.ts), a pipe's `in` queue: messages and one-frame messages
 * queued as ranges of a shared buffer, in one FIFO. Pipe.deliverRange queues a range under the
 * receive HWM and ZMQ_CONFLATE as deliverQuiet does a message.
 */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { MessageQueue } from "../../lib/pipe/message-queue.js"
import { Pipe, type PipeOwner } from "../../lib/pipe/pipe.js"
import { SendSlab } from "../../lib/pipe/send-slab.js"

const hex = (m: Buffer[] | undefined): string[] | undefined => m?.map((b) => b.toString("hex"))

describe("MessageQueue", () => {
  it("keeps FIFO order across messages and ranges, through growth and wrap-around, as an array would (property)", () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant("msg" as const), parts: fc.array(fc.uint8Array({ maxLength: 4 }), { minLength: 1, maxLength: 3 }) }),
      fc.record({ kind: fc.constant("range" as const), start: fc.nat(20), len: fc.integer({ min: 1, max: 12 }) }),
      fc.record({ kind: fc.constant("shift" as const) }),
    )
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
        const shared = Buffer.from(Array.from({ length: 40 }, (_, i) => i))
        const q = new MessageQueue()
        const model: Buffer[][] = []
        for (const o of ops) {
          if (o.kind === "msg") {
            const m = o.parts.map((p) => Buffer.from(p))
            q.push(m)
            model.push(m)
          } else if (o.kind === "range") {
            q.pushRange(shared, o.start, o.start + o.len)
            model.push([shared.subarray(o.start, o.start + o.len)])
          } else {
            expect(hex(q.shift())).toEqual(hex(model.shift()))
          }
          expect(q.length).toBe(model.length)
        }
        while (model.length > 0) expect(hex(q.shift())).toEqual(hex(model.shift()))
        expect(q.shift()).toBeUndefined()
      }),
      { numRuns: 200, seed: 4711 },
    )
  })

  it("makes a range's Buffer when it is taken, not when it is queued (it holds no view meanwhile)", () => {
    const buf = Buffer.from("hello world")
    const q = new MessageQueue()
    q.pushRange(buf, 6, 11)
    buf.write("WORLD", 6)
    const [part] = q.shift()!
    expect(part!.toString()).toBe("WORLD")
    // The part is a view of the buffer, not a copy.
    expect(part!.buffer).toBe(buf.buffer)
  })

  it("clear() empties it, ranges included, and it is usable after", () => {
    const q = new MessageQueue()
    for (let i = 0; i < 40; i++) q.pushRange(Buffer.from([i]), 0, 1)
    q.push([Buffer.from("m")])
    q.clear()
    expect(q.length).toBe(0)
    expect(q.shift()).toBeUndefined()
    q.pushRange(Buffer.from("ab"), 1, 2)
    expect(hex(q.shift())).toEqual([Buffer.from("b").toString("hex")])
  })
})

describe("Pipe.deliverRange", () => {
  const owner = (): PipeOwner & { readable: number } => {
    const o = { readable: 0, pipeReadable: () => o.readable++, pipeWritable: () => {} }
    return o
  }

  it("counts ranges against the receive HWM (false at the HWM, reading resumes at half) and tells the socket once per commit", () => {
    const o = owner()
    const p = new Pipe(o, 10, 4)
    const buf = Buffer.from("abcdef")
    expect(p.deliverRange(buf, 0, 1)).toBe(true)
    expect(p.deliverRange(buf, 1, 2)).toBe(true)
    expect(p.deliverQuiet([Buffer.from("m")])).toBe(true)
    expect(p.deliverRange(buf, 2, 3)).toBe(false)
    expect(p.readPaused).toBe(true)
    expect(o.readable).toBe(0)
    p.commit()
    expect(o.readable).toBe(1)
    expect(p.read()!.toString()).toBe("a")
    expect(p.readPaused).toBe(true)
    expect(p.read()!.toString()).toBe("b")
    expect(p.readPaused).toBe(false)
    expect(p.read()!.toString()).toBe("m")
    expect(p.read()!.toString()).toBe("c")
  })

  it("with ZMQ_CONFLATE keeps only the newest, range or message", () => {
    const p = new Pipe(owner(), 10, 10)
    p.conflate = true
    const buf = Buffer.from("xyz")
    p.deliverQuiet([Buffer.from("old")])
    p.deliverRange(buf, 0, 1)
    p.deliverRange(buf, 2, 3)
    expect(p.in.length).toBe(1)
    expect(p.read()!.toString()).toBe("z")
  })
})

describe("Pipe.writeSmall", () => {
  const owner: PipeOwner = { pipeReadable: () => {}, pipeWritable: () => {} }

  it("copies a small message into the slab and queues its range; with ranges off (inproc), into a Buffer of its own", () => {
    const slab = new SendSlab()
    const data = Buffer.from("hello")
    const p = new Pipe(owner, 10, 10)
    expect(p.writeSmall(data, slab)).toBe(true)
    expect(p.out.rangeLength(0)).toBe(5)
    data.fill(0) // the caller's buffer is free once written
    const inproc = new Pipe(owner, 10, 10)
    inproc.ranges = false
    expect(inproc.writeSmall(Buffer.from("world"), slab)).toBe(true)
    expect(inproc.out.rangeLength(0)).toBe(-1)
    expect(p.out.shift()![0]!.toString()).toBe("hello")
    expect(inproc.out.shift()![0]!.toString()).toBe("world")
  })

  it("refuses at the send HWM (nothing copied) and keeps only the newest with ZMQ_CONFLATE", () => {
    const slab = new SendSlab()
    const p = new Pipe(owner, 2, 10)
    expect(p.writeSmall(Buffer.from("a"), slab)).toBe(true)
    expect(p.writeSmall(Buffer.from("b"), slab)).toBe(true)
    const before = slab.buf
    expect(p.writeSmall(Buffer.from("c"), slab)).toBe(false)
    expect(p.out.length).toBe(2)
    expect(slab.buf).toBe(before)
    const c = new Pipe(owner, 2, 10)
    c.conflate = true
    c.writeSmall(Buffer.from("x"), slab)
    c.writeSmall(Buffer.from("y"), slab)
    expect(c.out.length).toBe(1)
    expect(c.out.shift()![0]!.toString()).toBe("y")
  })

  it("a full slab is replaced, never rewritten: earlier ranges keep their bytes", () => {
    const slab = new SendSlab()
    const p = new Pipe(owner, 0, 0)
    for (let i = 0; i < 1000; i++) p.writeSmall(Buffer.alloc(100, i & 0xff), slab) // ~3 slabs of 32 KiB
    for (let i = 0; i < 1000; i++) expect(p.out.shift()![0]!.equals(Buffer.alloc(100, i & 0xff))).toBe(true)
  })
})
