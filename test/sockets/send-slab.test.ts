/**
 * PUSH and DEALER copy a small one-frame message (1-128 bytes) into a send slab and queue it as a
 * range of it (lib/sockets/socket.ts, lib/pipe/message-queue.ts). What the peer gets must be what
 * was sent at the time of send(), whatever the sender does with its buffer afterwards, in send
 * order with every other kind of message, on every transport and through the paths that make
 * the range a message (a send that waits for room, inproc, CURVE boxes).
 */
import { describe, expect, it } from "vitest"
import { Dealer, Pull, Push, Router, curveKeyPair } from "../../lib/index.js"
import { freePort, uniqueIpc } from "../helpers.js"
import { closeAfterEach } from "../helpers/close-after-each.js"

const track = closeAfterEach()
let inprocN = 0

const endpoints = {
  tcp: () => "tcp://127.0.0.1:*",
  ipc: () => uniqueIpc(),
  inproc: () => `inproc://send-slab-${process.pid}-${inprocN++}`,
}

/** Message i: one small frame (sizes 1-128, walking across slab boundaries), now and then a multi-part or a large one. */
function message(i: number): Buffer[] {
  if (i % 97 === 5) return [Buffer.from(`multi-${i}`), Buffer.alloc(i % 7, i & 0xff)]
  if (i % 211 === 7) return [Buffer.alloc(2000 + i, i & 0xff)]
  const n = 1 + ((i * 37) % 128)
  const b = Buffer.alloc(n, i & 0xff)
  if (n >= 4) b.writeUInt32BE(i, 0)
  return [b]
}

async function pushPull(ep: string, opts: { curve?: boolean; sendHighWaterMark?: number } = {}): Promise<[Push, Pull]> {
  const server = curveKeyPair()
  const client = curveKeyPair()
  const pull = track(new Pull(opts.curve ? { linger: 0, curveServer: true, curveSecretKey: server.secretKey } : { linger: 0 }))
  const push = track(
    new Push({
      linger: 0,
      sendHighWaterMark: opts.sendHighWaterMark ?? 1000,
      ...(opts.curve ? { curveServerKey: server.publicKey, curvePublicKey: client.publicKey, curveSecretKey: client.secretKey } : {}),
    }),
  )
  await pull.bind(ep)
  push.connect(pull.lastEndpoint!)
  return [push, pull]
}

describe("send slab: small one-frame messages queued as ranges", () => {
  for (const [proto, ep] of Object.entries(endpoints)) {
    it(`PUSH → PULL over ${proto}: 3,000 messages of every size arrive whole and in order, though the sender rewrites its buffer after each send`, async () => {
      const [push, pull] = await pushPull(ep())
      const scratch = Buffer.alloc(128)
      const N = 3000
      const received = (async () => {
        for (let i = 0; i < N; i++)
          expect((await pull.receive()).map((p) => p.toString("hex"))).toEqual(message(i).map((p) => p.toString("hex")))
      })()
      for (let i = 0; i < N; i++) {
        const m = message(i)
        if (m.length === 1 && m[0]!.length <= 128) {
          // The very buffer sent is changed once send() has returned (before the engine wrote it).
          const view = scratch.subarray(0, m[0]!.length)
          m[0]!.copy(view)
          const sent = push.send(view)
          view.fill(0xee)
          await sent
        } else await push.send(m)
      }
      await received
    })
  }

  it("a send that waits for room (send HWM 1, no peer yet) delivers what was sent, not what the buffer became while it waited", async () => {
    const port = await freePort()
    const push = track(new Push({ linger: 0, sendHighWaterMark: 1 }))
    push.connect(`tcp://127.0.0.1:${port}`)
    const buf = Buffer.from("m-000")
    await push.send(buf) // queued for the peer to come
    buf.write("m-001")
    const waiting = push.send(buf) // no room: it waits
    buf.fill(0x21)
    const pull = track(new Pull({ linger: 0 }))
    await pull.bind(`tcp://127.0.0.1:${port}`)
    await waiting
    expect((await pull.receive())[0]!.toString()).toBe("m-000")
    expect((await pull.receive())[0]!.toString()).toBe("m-001")
  })

  it("under CURVE the ranges are boxed like any message", async () => {
    const [push, pull] = await pushPull(endpoints.tcp(), { curve: true })
    for (let i = 0; i < 500; i++) await push.send(message(i).length === 1 ? message(i)[0]! : message(i))
    for (let i = 0; i < 500; i++) expect((await pull.receive()).map((p) => p.toString("hex"))).toEqual(message(i).map((p) => p.toString("hex")))
  })

  it("DEALER → ROUTER: small one-frame messages and typed arrays (not Buffers) arrive after the routing id", async () => {
    const router = track(new Router({ linger: 0 }))
    const dealer = track(new Dealer({ linger: 0, routingId: "d1" }))
    await router.bind("tcp://127.0.0.1:*")
    dealer.connect(router.lastEndpoint!)
    const u8 = new Uint8Array(new SharedArrayBuffer(8))
    u8.set([1, 2, 3, 4, 5, 6, 7, 8])
    await dealer.send(u8)
    u8.fill(9)
    await dealer.send(new Uint8Array(new ArrayBuffer(16), 4, 3).fill(7))
    await dealer.send("text")
    expect(await router.receive()).toEqual([Buffer.from("d1"), Buffer.from([1, 2, 3, 4, 5, 6, 7, 8])])
    expect(await router.receive()).toEqual([Buffer.from("d1"), Buffer.from([7, 7, 7])])
    expect(await router.receive()).toEqual([Buffer.from("d1"), Buffer.from("text")])
  })
})
