import { describe, expect, it } from "vitest"
import { Pipe, type PipeOwner } from "../../lib/pipe/pipe.js"
import { FairQueue } from "../../lib/routing/fair-queue.js"
import { LoadBalancer } from "../../lib/routing/load-balancer.js"

const owner: PipeOwner = { pipeReadable() {}, pipeWritable() {} }
const msg = (s: string) => [Buffer.from(s)]

describe("LoadBalancer (round-robin with HWM)", () => {
  it("sends whole messages to each pipe in turn", () => {
    const lb = new LoadBalancer()
    const pipes = [new Pipe(owner, 10, 10), new Pipe(owner, 10, 10), new Pipe(owner, 10, 10)]
    for (const p of pipes) lb.add(p)
    for (let i = 0; i < 6; i++) expect(lb.send(msg(String(i)))).toBe(true)
    expect(pipes.map((p) => [...p.out].map((m) => String(m[0])))).toEqual([
      ["0", "3"],
      ["1", "4"],
      ["2", "5"],
    ])
  })

  it("skips full pipes and refuses when all are full", () => {
    const lb = new LoadBalancer()
    const a = new Pipe(owner, 1, 10)
    const b = new Pipe(owner, 3, 10)
    lb.add(a)
    lb.add(b)
    expect([1, 2, 3, 4].map((i) => lb.send(msg(String(i))))).toEqual([true, true, true, true])
    expect(a.out.length).toBe(1)
    expect(b.out.length).toBe(3)
    expect(lb.send(msg("x"))).toBe(false)
    expect(lb.writable).toBe(false)
  })

  it("treats HWM 0 as unlimited and survives removal of the current pipe", () => {
    const lb = new LoadBalancer()
    const a = new Pipe(owner, 0, 0)
    const b = new Pipe(owner, 0, 0)
    lb.add(a)
    lb.add(b)
    for (let i = 0; i < 5000; i++) lb.send(msg("m"))
    lb.remove(b)
    expect(lb.send(msg("after"))).toBe(true)
    expect(a.out.length).toBe(2501)
    lb.remove(a)
    expect(lb.send(msg("none"))).toBe(false)
  })
})

describe("FairQueue", () => {
  it("takes one message from each ready pipe in turn", () => {
    const fq = new FairQueue()
    const a = new Pipe(owner, 10, 100)
    const b = new Pipe(owner, 10, 100)
    for (let i = 0; i < 50; i++) a.deliver(msg(`a${i}`))
    b.deliver(msg("b0"))
    b.deliver(msg("b1"))
    fq.activate(a)
    fq.activate(b)
    const order = Array.from({ length: 6 }, () => String(fq.recv()![0]))
    expect(order).toEqual(["a0", "b0", "a1", "b1", "a2", "a3"])
    expect(fq.lastPipe).toBe(a)
  })

  it("returns undefined when empty and forgets drained pipes", () => {
    const fq = new FairQueue()
    expect(fq.recv()).toBeUndefined()
    const a = new Pipe(owner, 10, 10)
    a.deliver(msg("x"))
    fq.activate(a)
    fq.activate(a)
    expect(fq.readable).toBe(true)
    expect(String(fq.recv()![0])).toBe("x")
    expect(fq.recv()).toBeUndefined()
    expect(fq.readable).toBe(false)
  })
})

describe("Pipe HWM", () => {
  it("asks the engine to pause at the receive HWM and resume at half", () => {
    const p = new Pipe(owner, 10, 4)
    let resumed = 0
    p.engine = { scheduleFlush() {}, resumeReading: () => void resumed++, sendSubscription() {}, close() {} }
    expect([1, 2, 3].map(() => p.deliver(msg("m")))).toEqual([true, true, true])
    expect(p.deliver(msg("m"))).toBe(false)
    p.read()
    expect(resumed).toBe(0)
    p.read()
    expect(resumed).toBe(1)
  })
})
