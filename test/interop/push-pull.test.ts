/**
 * PUSH/PULL interop between omq and libzmq 4.3.5 (through zeromq.js 6), in
 * both directions, over tcp and ipc, with each side binding in turn.
 */
import { describe, expect, it } from "vitest"
import * as zmq from "zeromq"
import * as omq from "../../lib/index.js"
import { defineContentTests } from "./content-tests.js"
import {
  IO_TIMEOUT,
  SIDES,
  TRANSPORTS,
  all,
  bindRetry,
  delay,
  isEagain,
  probeUntilDelivered,
  socketTracker,
  transferNumbered,
  tryReceive,
  type Receiver,
  type Sender,
  type Side,
} from "./peer-util.js"

const t = socketTracker()

/** omq reconnects quickly so restart tests don't wait on the 100 ms default. */
const RECONNECT_IVL = 20

function push(side: Side, extra: Record<string, unknown> = {}): Sender {
  const opts = { linger: 0, sendTimeout: IO_TIMEOUT, reconnectInterval: RECONNECT_IVL, ...extra }
  return t.track(side === "omq" ? new omq.Push(opts) : new zmq.Push(opts)) as unknown as Sender
}

function pull(side: Side, extra: Record<string, unknown> = {}): Receiver {
  const opts = { linger: 0, receiveTimeout: IO_TIMEOUT, reconnectInterval: RECONNECT_IVL, ...extra }
  return t.track(side === "omq" ? new omq.Pull(opts) : new zmq.Pull(opts)) as unknown as Receiver
}

const other = (side: Side): Side => (side === "omq" ? "libzmq" : "omq")

for (const transport of TRANSPORTS) {
  describe(`PUSH/PULL interop over ${transport}`, () => {
    // ---- contents, sizes, volume: every direction × binder ----
    for (const senderSide of SIDES) {
      for (const binder of SIDES) {
        const name = `${senderSide} PUSH → ${other(senderSide)} PULL [${transport}, ${binder} binds]`
        defineContentTests(name, async () => {
          const sender = push(senderSide)
          const receiver = pull(other(senderSide))
          const [b, c] = binder === senderSide ? [sender, receiver] : [receiver, sender]
          await b.bind(t.endpoint(transport))
          c.connect(b.lastEndpoint!)
          return { sender, receiver }
        })
      }
    }

    // ---- reconnection: omq connects, the libzmq peer is closed and re-bound ----
    it(`omq PUSH → libzmq PULL [${transport}, libzmq binds]: omq reconnects after libzmq PULL is closed and re-bound on the same endpoint`, async () => {
      let zpull = pull("libzmq")
      await zpull.bind(t.endpoint(transport))
      const endpoint = zpull.lastEndpoint!
      const opush = push("omq")
      opush.connect(endpoint)
      await transferNumbered(opush, zpull, 100, { prefix: "before-" })

      zpull.close()
      zpull = pull("libzmq")
      await bindRetry(zpull, endpoint)

      await probeUntilDelivered(opush, zpull, "probe-")
      await transferNumbered(opush, zpull, 1000, { prefix: "after-", skipPrefix: "probe-" })
    })

    it(`libzmq PUSH → omq PULL [${transport}, libzmq binds]: omq reconnects after libzmq PUSH is closed and re-bound on the same endpoint`, async () => {
      let zpush = push("libzmq")
      await zpush.bind(t.endpoint(transport))
      const endpoint = zpush.lastEndpoint!
      const opull = pull("omq")
      opull.connect(endpoint)
      await transferNumbered(zpush, opull, 100, { prefix: "before-" })

      zpush.close()
      zpush = push("libzmq")
      await bindRetry(zpush, endpoint)

      await probeUntilDelivered(zpush, opull, "probe-")
      await transferNumbered(zpush, opull, 1000, { prefix: "after-", skipPrefix: "probe-" })
    })

    // ---- load balancing and fair queueing with two libzmq peers ----
    for (const binder of SIDES) {
      it(`omq PUSH → 2× libzmq PULL [${transport}, ${binder} binds]: round-robins messages over both peers`, async () => {
        const opush = push("omq")
        const zpulls = [pull("libzmq"), pull("libzmq")] as const
        if (binder === "omq") {
          await opush.bind(t.endpoint(transport))
          for (const p of zpulls) p.connect(opush.lastEndpoint!)
        } else {
          for (const p of zpulls) {
            await p.bind(t.endpoint(transport))
            opush.connect(p.lastEndpoint!)
          }
        }

        // Warm up one message at a time (each received before the next is
        // sent) until both peers got one: then both connections are up and
        // nothing is in flight.
        const warmedUp = [false, false]
        const deadline = Date.now() + 10_000
        for (let i = 0; !(warmedUp[0] && warmedUp[1]); i++) {
          await opush.send(`warmup-${i}`)
          for (;;) {
            if (Date.now() > deadline) throw new Error(`warm-up: peers reached: ${warmedUp}`)
            const k = (await tryReceive(zpulls[0], 20)) ? 0 : (await tryReceive(zpulls[1], 20)) ? 1 : -1
            if (k >= 0) {
              warmedUp[k] = true
              break
            }
          }
        }

        const N = 100
        for (let i = 0; i < N; i++) await opush.send(String(i))
        const got: number[][] = [[], []]
        const end = Date.now() + 10_000
        while (got[0]!.length + got[1]!.length < N && Date.now() < end) {
          for (const k of [0, 1]) {
            const msg = await tryReceive(zpulls[k]!, 20)
            if (msg) got[k]!.push(Number(String(msg[0])))
          }
        }
        // Strict alternation: one peer gets the even numbers, the other the odd ones, in order.
        expect(got[0]!.length, `peer 0 got ${got[0]!.length}, peer 1 got ${got[1]!.length}`).toBe(N / 2)
        expect(got[1]!.length).toBe(N / 2)
        const first = got[0]![0]! % 2
        expect(got[0]).toEqual(Array.from({ length: N / 2 }, (_, i) => 2 * i + first))
        expect(got[1]).toEqual(Array.from({ length: N / 2 }, (_, i) => 2 * i + 1 - first))
        // Nothing else arrives.
        expect(await tryReceive(zpulls[0], 50)).toBeUndefined()
        expect(await tryReceive(zpulls[1], 50)).toBeUndefined()
      })

      it(`2× libzmq PUSH → omq PULL [${transport}, ${binder} binds]: fair-queues both peers`, async () => {
        // Small omq receive HWM: once a peer's backlog fills it, omq stops
        // reading that connection and libzmq's send starts to fail with EAGAIN.
        const RCVHWM = 8
        const opull = pull("omq", { receiveHighWaterMark: RCVHWM })
        const zpushes = [push("libzmq", { sendHighWaterMark: 4 }), push("libzmq", { sendHighWaterMark: 4 })] as const
        if (binder === "omq") {
          await opull.bind(t.endpoint(transport))
          for (const p of zpushes) p.connect(opull.lastEndpoint!)
        } else {
          for (const p of zpushes) {
            await p.bind(t.endpoint(transport))
            opull.connect(p.lastEndpoint!)
          }
        }

        // Both connections up: a hello from each arrives.
        const receiveTwo = async () => [String((await opull.receive())[0]), String((await opull.receive())[0])]
        const [, , hellos] = await all([zpushes[0].send("hello-0"), zpushes[1].send("hello-1"), receiveTwo()])
        expect(hellos.sort()).toEqual(["hello-0", "hello-1"])

        // Fill both peers' paths to omq until both are back-pressured, so
        // omq holds at least RCVHWM queued messages from each.
        const sent = [0, 0]
        for (let round = 0; ; round++) {
          if (round > 20) throw new Error("senders never stayed back-pressured")
          const before = sent[0]! + sent[1]!
          for (const k of [0, 1]) sent[k] = await saturate(zpushes[k]!, k, sent[k]!)
          if (round > 0 && sent[0]! + sent[1]! === before) break
        }

        const total = sent[0]! + sent[1]!
        const next = [0, 0]
        const order: number[] = []
        for (let i = 0; i < total; i++) {
          const msg = await opull.receive()
          expect(msg.length).toBe(1)
          const src = msg[0]!.readUInt32BE(0)
          const seq = msg[0]!.readUInt32BE(4)
          expect(src === 0 || src === 1, `source id ${src}`).toBe(true)
          if (seq !== next[src]) throw new Error(`peer ${src}: expected seq ${next[src]}, got ${seq}`)
          if (!msg[0]!.equals(fqFrame(src, seq))) throw new Error(`peer ${src} seq ${seq}: contents differ`)
          next[src]!++
          order.push(src)
        }
        expect(next).toEqual(sent)
        expect(await tryReceive(opull, 50)).toBeUndefined()
        // Both backlogs held >= RCVHWM messages: the first 2×RCVHWM alternate.
        const head = order.slice(0, 2 * RCVHWM)
        const alternating = Array.from({ length: 2 * RCVHWM }, (_, i) => (i % 2 === 0 ? head[0] : 1 - head[0]!))
        expect(head, `receive order by peer (sent ${sent})`).toEqual(alternating)
      })
    }
  })
}

const FQ_FRAME = 64 * 1024
function fqFrame(src: number, seq: number): Buffer {
  const b = Buffer.alloc(FQ_FRAME, (seq * 31 + src * 7) & 0xff)
  b.writeUInt32BE(src, 0)
  b.writeUInt32BE(seq, 4)
  return b
}

/** How long send must keep failing with EAGAIN (while omq's loop is idle) to count as back-pressured. */
const STALL_MS = 400

/**
 * Sends numbered 64 KiB frames from libzmq peer `src` without waiting
 * (sendTimeout 0) until send has failed continuously for STALL_MS; returns
 * the next sequence number. Bounded by a deadline.
 */
async function saturate(sock: Sender, src: number, seq: number): Promise<number> {
  const saved = sock.sendTimeout
  sock.sendTimeout = 0
  try {
    const end = Date.now() + 10_000
    let failingSince: number | undefined
    for (;;) {
      if (Date.now() > end) throw new Error(`peer ${src} not back-pressured after ${seq} messages`)
      try {
        await sock.send(fqFrame(src, seq))
        seq++
        failingSince = undefined
      } catch (err) {
        if (!isEagain(err)) throw err
        const now = Date.now()
        failingSince ??= now
        if (now - failingSince >= STALL_MS) return seq
        await delay(10)
      }
    }
  } finally {
    sock.sendTimeout = saved
  }
}
