/**
 * ZMTP heartbeats (RFC 37 PING/PONG): silent peers are dropped, PINGs are
 * answered with the same context, our TTL is announced, a peer's TTL is
 * honoured, and a live libzmq peer stays connected.
 */
import type * as net from "node:net"
import { describe, expect, it } from "vitest"
import * as zmq from "zeromq"
import * as omq from "../../lib/index.js"
import type { Event } from "../../lib/index.js"
import { pingFrame, pongFrame } from "../../lib/wire/command.js"
import { RawPeer, delay, nextEvent, rawServer, tracker, withTimeout } from "./feature-util.js"

const t = tracker()
const IO = { linger: 0, receiveTimeout: 5000, sendTimeout: 5000 }
/** Scheduling slack allowed on a loaded 2-core machine. */
const SLACK = 1500

/** An omq PULL bound on tcp with `opts`, and a raw peer that completed the handshake as a PUSH. */
async function pullWithRawPeer(
  opts: Record<string, unknown>,
): Promise<{ pull: omq.Pull; peer: RawPeer; events: omq.Observer; before: number }> {
  const pull = t.track(new omq.Pull({ ...IO, ...opts }))
  const events = pull.events
  await pull.bind("tcp://127.0.0.1:*")
  const peer = RawPeer.connect(pull.lastEndpoint!)
  t.cleanup(() => peer.destroy())
  await withTimeout(peer.connectedPromise, 5000, "raw connect")
  // omq's heartbeat clock cannot start before our READY is sent: lower bounds measured from
  // here hold exactly, however slow the machine.
  const before = Date.now()
  peer.handshake("PUSH")
  await peer.peerReady()
  await nextEvent(events, (e) => e.type === "handshake", 5000)
  return { pull, peer, events, before }
}

describe("heartbeats", () => {
  it("drops a peer that completes the handshake then never answers PINGs, within about heartbeatInterval + heartbeatTimeout", async () => {
    const ivl = 100
    const timeout = 200
    const { peer, events, before } = await pullWithRawPeer({ heartbeatInterval: ivl, heartbeatTimeout: timeout })
    const start = before
    await peer.waitClosed(ivl + timeout + SLACK, "omq to drop the silent peer")
    const elapsed = peer.closedAt - start
    // It PINGed first, and did not drop the peer before the timeout could have run out.
    expect(peer.commands.some((c) => c.name === "PING")).toBe(true)
    expect(elapsed).toBeGreaterThanOrEqual(ivl + timeout - 50)
    expect(elapsed).toBeLessThanOrEqual(ivl + timeout + SLACK)
    const log: Event[] = []
    await nextEvent(events, (e) => e.type === "disconnect", 2000, log)
  })

  it("heartbeatTimeout defaults to heartbeatInterval: a silent peer is dropped after about two intervals", async () => {
    const ivl = 150
    const { peer, before } = await pullWithRawPeer({ heartbeatInterval: ivl })
    const start = before
    await peer.waitClosed(2 * ivl + SLACK, "omq to drop the silent peer")
    expect(peer.closedAt - start).toBeGreaterThanOrEqual(2 * ivl - 50)
  })

  it("keeps a peer that answers every PING with a PONG (several intervals)", async () => {
    const ivl = 100
    const { peer } = await pullWithRawPeer({ heartbeatInterval: ivl, heartbeatTimeout: 200 })
    let pings = 0
    peer.onCommand = (c) => {
      if (c.name !== "PING") return
      pings++
      peer.write(pongFrame(c.context))
    }
    // Count the PINGs already recorded before the hook was set (answer them too).
    for (const c of peer.commands) if (c.name === "PING") peer.write(pongFrame(c.context))
    await peer.until(() => pings >= 6 || peer.closed, 6 * ivl + 5 * SLACK, "six PINGs")
    expect(peer.closed).toBe(false)
  })

  it("the connecting side drops a silent peer too (omq PUSH connects to a raw server)", async () => {
    const ivl = 100
    const timeout = 150
    let peer: RawPeer | undefined
    const accepted = new Promise<RawPeer>((resolve) => {
      void rawServer((s: net.Socket) => {
        peer = new RawPeer(s)
        t.cleanup(() => peer?.destroy())
        resolve(peer)
      }).then(({ server, port }) => {
        t.cleanup(() => server.close())
        const push = t.track(new omq.Push({ ...IO, heartbeatInterval: ivl, heartbeatTimeout: timeout, reconnectInterval: 60_000 }))
        push.connect(`tcp://127.0.0.1:${port}`)
      })
    })
    const p = await withTimeout(accepted, 5000, "omq to connect")
    const start = Date.now() // before our READY: omq's heartbeat clock starts later
    p.handshake("PULL")
    await p.peerReady()
    await p.waitClosed(ivl + timeout + SLACK, "omq to drop the silent peer")
    expect(p.closedAt - start).toBeGreaterThanOrEqual(ivl + timeout - 50)
    expect(p.commands.some((c) => c.name === "PING")).toBe(true)
  })

  it("answers a peer's PING (with TTL) with a PONG carrying the same context", async () => {
    const { peer } = await pullWithRawPeer({})
    const ctx = Buffer.from("ctx-0123456789ab") // 16 bytes, the RFC 37 maximum
    peer.write(pingFrame(50, ctx))
    const pong = await peer.command("PONG", 5000)
    expect(Buffer.compare(pong.context, ctx)).toBe(0)
    // An empty context comes back empty.
    const before = peer.commands.length
    peer.write(pingFrame(50))
    const pong2 = await peer.command("PONG", 5000, before)
    expect(pong2.context.length).toBe(0)
    expect(peer.closed).toBe(false)
  })

  it("honours the TTL in a peer's PING: a peer silent for longer than its TTL is dropped (omq heartbeats off)", async () => {
    const { peer } = await pullWithRawPeer({})
    const ttlMs = 300
    const sentAt = Date.now()
    peer.write(pingFrame(ttlMs / 100))
    await peer.command("PONG", 5000)
    await peer.waitClosed(ttlMs + SLACK, "omq to drop the peer after its TTL")
    expect(peer.closedAt - sentAt).toBeGreaterThanOrEqual(ttlMs - 50)
  })

  it("announces heartbeatTimeToLive in its PINGs (deciseconds), and 0 when unset", async () => {
    const a = await pullWithRawPeer({ heartbeatInterval: 50, heartbeatTimeout: 5000, heartbeatTimeToLive: 2000 })
    a.peer.onCommand = (c) => {
      if (c.name === "PING") a.peer.write(pongFrame(c.context))
    }
    const ping = await a.peer.command("PING", 5000)
    expect(ping.ttl).toBe(20)

    const b = await pullWithRawPeer({ heartbeatInterval: 50, heartbeatTimeout: 5000, heartbeatTimeToLive: 1250 })
    const ping2 = await b.peer.command("PING", 5000)
    expect([12, 13]).toContain(ping2.ttl) // 1250 ms in 100 ms units

    const c = await pullWithRawPeer({ heartbeatInterval: 50, heartbeatTimeout: 5000 })
    const ping3 = await c.peer.command("PING", 5000)
    expect(ping3.ttl).toBe(0)
  })

  for (const omqBinds of [true, false]) {
    it(`a live libzmq peer with heartbeats on both sides stays connected over many intervals (omq ${omqBinds ? "binds" : "connects"})`, async () => {
      const HB = { heartbeatInterval: 50, heartbeatTimeout: 150, heartbeatTimeToLive: 300 }
      const pull = t.track(new omq.Pull({ ...IO, ...HB }))
      const zpush = t.track(new zmq.Push({ linger: 0, sendTimeout: 5000, ...HB }))
      const omqDrops: Event[] = []
      const zmqDrops: string[] = []
      let handshakes = 0
      pull.events.on("disconnect", (e) => omqDrops.push(e))
      pull.events.on("handshake", () => handshakes++)
      zpush.events.on("disconnect", (e) => zmqDrops.push(e.type))
      if (omqBinds) {
        await pull.bind("tcp://127.0.0.1:*")
        zpush.connect(pull.lastEndpoint!)
      } else {
        await zpush.bind("tcp://127.0.0.1:*")
        pull.connect(zpush.lastEndpoint!)
      }
      await zpush.send("before")
      expect((await pull.receive()).map(String)).toEqual(["before"])
      // Idle time is what is being tested here: 12 heartbeat intervals, 4 TTLs, 4 timeouts.
      await delay(600)
      await zpush.send("after")
      expect((await pull.receive()).map(String)).toEqual(["after"])
      expect(omqDrops).toEqual([])
      expect(zmqDrops).toEqual([])
      expect(handshakes).toBe(1)
    })
  }
})
