/**
 * Memory under load (one process, tcp loopback): queues are bounded by the
 * high water marks, so RSS stays bounded however many messages go through,
 * and a peer that stops reading makes PUSH block (and PUB drop), not grow.
 * RSS is sampled every 100 ms; bounds are loose (this is about "bounded",
 * not about exact figures) and the figures are printed.
 */
import { describe, expect, it } from "vitest"
import * as omq from "../../lib/index.js"
import { MB, RssSampler, delay, gc, isEagain, mb, waitUntil } from "./util.js"
import { closeAfterEach } from "../helpers/close-after-each.js"

const track = closeAfterEach({ ignoreErrors: true })

describe("memory stays bounded under load", () => {
  it("1,000,000 × 64 B PUSH → PULL over tcp with HWM 1,000", { timeout: 60_000 }, async () => {
    const N = 1_000_000
    const BOUND = 150 * MB
    const pull = track(new omq.Pull({ linger: 0, receiveHighWaterMark: 1000, receiveTimeout: 10_000 }))
    const push = track(new omq.Push({ linger: 0, sendHighWaterMark: 1000, sendTimeout: 10_000 }))
    await pull.bind("tcp://127.0.0.1:*")
    push.connect(pull.lastEndpoint!)
    await push.send(Buffer.alloc(64)) // connection up
    await pull.receive()

    gc()
    const rss0 = process.memoryUsage.rss()
    const sampler = new RssSampler(100)
    const t0 = process.hrtime.bigint()

    const sender = (async () => {
      for (let i = 0; i < N; i++) {
        // Every message is a fresh 64-byte buffer carrying its sequence number.
        const msg = Buffer.allocUnsafe(64)
        msg.writeUInt32LE(i, 0)
        msg.fill(i & 0xff, 4)
        await push.send(msg)
      }
    })()
    let received = 0
    let outOfOrder = 0
    let badSize = 0
    const receiver = (async () => {
      for (let i = 0; i < N; i++) {
        const [m] = await pull.receive()
        if (m!.length !== 64) badSize++
        else if (m!.readUInt32LE(0) !== i) outOfOrder++
        received++
      }
    })()
    await Promise.all([sender, receiver])
    const secs = Number(process.hrtime.bigint() - t0) / 1e9
    sampler.stop()
    const peakDelta = sampler.peak - rss0
    console.log(
      `[memory] 1M × 64 B PUSH→PULL tcp HWM 1000: ${Math.round(N / secs).toLocaleString("en-US")} msgs/s ` +
        `(${secs.toFixed(2)} s); RSS baseline ${mb(rss0)}, peak ${mb(sampler.peak)} (+${mb(peakDelta)}), ` +
        `${sampler.samples} samples`,
    )
    expect(received).toBe(N)
    expect(badSize).toBe(0)
    expect(outOfOrder).toBe(0)
    expect(peakDelta, `peak RSS ${mb(sampler.peak)} vs baseline ${mb(rss0)}`).toBeLessThan(BOUND)
  })

  it("PUSH to a PULL that never reads: send blocks at the HWM (EAGAIN) and memory stays bounded", { timeout: 30_000 }, async () => {
    const HWM = 1000
    const SIZE = 1024
    const pull = track(new omq.Pull({ linger: 0, receiveHighWaterMark: HWM, receiveTimeout: 5000 }))
    const push = track(new omq.Push({ linger: 0, sendHighWaterMark: HWM, sendTimeout: 200 }))
    await pull.bind("tcp://127.0.0.1:*")
    push.connect(pull.lastEndpoint!)
    await push.send(Buffer.alloc(SIZE))
    await pull.receive()

    gc()
    const rss0 = process.memoryUsage.rss()
    const sampler = new RssSampler(100)
    let sent = 0
    let eagain = 0
    const payload = Buffer.alloc(SIZE - 4, 1)
    // Keep pushing: once blocked, every further try must time out with EAGAIN.
    const t0 = Date.now()
    while (eagain < 5 && Date.now() - t0 < 20_000) {
      try {
        const msg = Buffer.allocUnsafe(4)
        msg.writeUInt32LE(sent, 0)
        await push.send([msg, payload])
        sent++
      } catch (err) {
        if (!isEagain(err)) throw err
        eagain++
      }
      if (sent > 1_000_000) break
    }
    sampler.stop()
    console.log(
      `[memory] PUSH → non-reading PULL (HWM ${HWM}/${HWM}, ${SIZE} B): blocked after ${sent} messages ` +
        `(${mb(sent * SIZE)} in HWM queues + socket buffers); RSS +${mb(sampler.peak - rss0)} at peak`,
    )
    expect(eagain, "send() timing out with EAGAIN once the peer's queues are full").toBe(5)
    // Both HWMs plus what the kernel's socket buffers hold (a few MB on loopback).
    expect(sent).toBeGreaterThanOrEqual(HWM)
    expect(sent).toBeLessThan(2 * HWM + (32 * MB) / SIZE)
    expect(sampler.peak - rss0).toBeLessThan(100 * MB)

    // Nothing was lost: once the peer reads, everything arrives in order.
    push.sendTimeout = 5000
    for (let i = 0; i < sent; i++) {
      const [seq] = await pull.receive()
      expect(seq!.readUInt32LE(0)).toBe(i)
    }
  })

  it("PUB to a SUB that never reads: the publisher never blocks and memory stays bounded", { timeout: 30_000 }, async () => {
    const N = 300_000
    const SIZE = 1024
    const pub = track(new omq.Publisher({ linger: 0, sendHighWaterMark: 1000 }))
    const stuck = track(new omq.Subscriber({ linger: 0, receiveHighWaterMark: 1000, receiveTimeout: 5000 }))
    const reader = track(new omq.Subscriber({ linger: 0, receiveHighWaterMark: 100_000, receiveTimeout: 5000 }))
    await pub.bind("tcp://127.0.0.1:*")
    for (const s of [stuck, reader]) {
      s.subscribe("")
      s.connect(pub.lastEndpoint!)
    }
    // Both subscriptions are in place once a probe reaches both.
    let probes = 0
    await waitUntil(
      () => {
        void pub.send("probe")
        return stuck.readable && reader.readable
      },
      5000,
      "both subscriptions",
    )
    while (stuck.readable) {
      await stuck.receive()
      probes++
    }
    while (reader.readable) await reader.receive()

    gc()
    const rss0 = process.memoryUsage.rss()
    const sampler = new RssSampler(100)
    // The reading subscriber drains concurrently and counts.
    let got = 0
    let readerDone = false
    const readerLoop = (async () => {
      while (!readerDone) {
        try {
          await reader.receive()
          got++
        } catch (err) {
          if (!isEagain(err) || readerDone) break
        }
      }
    })()
    const payload = Buffer.alloc(SIZE, 2)
    let slowest = 0
    const t0 = Date.now()
    for (let i = 0; i < N; i++) {
      const ts = Date.now()
      await pub.send(payload)
      const d = Date.now() - ts
      if (d > slowest) slowest = d
      // Let the connections make progress now and then (as any real producer would).
      if (i % 1000 === 999) await new Promise((r) => setImmediate(r))
    }
    const sendMs = Date.now() - t0
    await delay(300)
    readerDone = true
    reader.close()
    await readerLoop
    sampler.stop()
    console.log(
      `[memory] PUB ${N} × ${SIZE} B (${mb(N * SIZE)}) to a stuck SUB + a reading SUB: sent in ${sendMs} ms, ` +
        `slowest send ${slowest} ms; reader got ${got}; RSS +${mb(sampler.peak - rss0)} at peak (${probes} probes)`,
    )
    expect(slowest, "a PUB send never waits").toBeLessThan(1000)
    expect(sampler.peak - rss0).toBeLessThan(100 * MB)
    expect(got, "the reading subscriber keeps getting messages").toBeGreaterThan(N / 10)
    // The stuck subscriber holds at most its HWM (plus one read's worth) plus what socket buffers held.
    let backlog = 0
    stuck.receiveTimeout = 200
    for (;;) {
      try {
        await stuck.receive()
        backlog++
      } catch {
        break
      }
      if (backlog > N) break
    }
    console.log(`[memory] the stuck SUB had ${backlog} messages waiting (HWM 1000 + socket buffers)`)
    expect(backlog).toBeLessThan(N / 2)
  })
})
