/**
 * XPUB's internal PeerTakeover hook (what the durable forwarder uses): a claimed peer's
 * subscriptions go to the taker, not the trie, so send() skips it; the taker writes to its
 * pipe and hears of every drain; it hears when the peer leaves. Unclaimed peers, and an XPUB
 * without a taker, behave as before.
 */
import { afterEach, describe, expect, it } from "vitest"
import * as zmq from "zeromq"
import { Subscriber, XPublisher } from "../../lib/index.js"
import type { Pipe } from "../../lib/pipe/pipe.js"
import type { PeerTakeover } from "../../lib/sockets/xpub.js"
import { waitFor } from "../helpers.js"

const closers: Array<() => void> = []
afterEach(() => {
  for (const c of closers.splice(0)) c()
})

function namedSub(endpoint: string, name: string): zmq.Subscriber {
  const s = new zmq.Subscriber({ linger: 0, receiveTimeout: 5000 })
  ;(s as unknown as { setStringOption(o: number, v: string): void }).setStringOption(95, `X-Routing-Id:${name}`)
  s.subscribe("t")
  s.connect(endpoint)
  closers.push(() => s.close())
  return s
}

describe("XPUB PeerTakeover (internal)", () => {
  it("a claimed peer gets only what the taker writes to its pipe; an unclaimed one gets send()", async () => {
    const events: string[] = []
    let claimed: Pipe | undefined
    let drains = 0
    const takeover: PeerTakeover = {
      claim: (pipe) => {
        if (pipe.peerMetadata?.get("x-routing-id")?.toString() !== "named") return false
        claimed = pipe
        return true
      },
      subscription: (_pipe, subscribe, topic) => events.push(`${subscribe ? "+" : "-"}${topic.toString()}`),
      writable: () => drains++,
      released: () => events.push("released"),
    }
    const xpub = new XPublisher({ linger: 0 })
    closers.push(() => xpub.close())
    xpub.takeover = takeover
    await xpub.bind("tcp://127.0.0.1:*")
    const named = namedSub(xpub.lastEndpoint!, "named")
    const anon = new Subscriber({ linger: 0, receiveTimeout: 5000 })
    closers.push(() => anon.close())
    anon.subscribe("t")
    anon.connect(xpub.lastEndpoint!)

    // The anonymous subscription reaches the user as with any XPUB; the claimed one only the taker.
    expect((await xpub.receive())[0]).toEqual(Buffer.from("\x01t"))
    await waitFor(() => events.includes("+t"), 5000, "the claimed peer's subscription")
    expect(claimed!.watchDrain).toBe(true)

    await xpub.send(["t", "to all"])
    expect((await anon.receive()).map(String)).toEqual(["t", "to all"])
    claimed!.write([Buffer.from("t"), Buffer.from("to one")])
    expect((await named.receive()).map(String)).toEqual(["t", "to one"])
    expect(drains).toBeGreaterThan(0)
    expect(claimed!.out.length).toBe(0)

    named.close()
    await waitFor(() => events.includes("released"), 5000, "the claimed peer's release")
    expect(claimed!.watchDrain).toBe(false)
  })

  it("invertMatching skips claimed peers too", async () => {
    const xpub = new XPublisher({ linger: 0, invertMatching: true })
    closers.push(() => xpub.close())
    let claimed = 0
    xpub.takeover = { claim: () => (claimed++, true), subscription: () => {}, writable: () => {}, released: () => {} }
    await xpub.bind("tcp://127.0.0.1:*")
    const named = namedSub(xpub.lastEndpoint!, "named")
    named.subscribe("x")
    await waitFor(() => claimed === 1, 5000, "the claim")
    await xpub.send(["t", "not for the claimed peer"])
    // Checked before the engine's flush (a later turn of the event loop) could empty the pipe.
    const pipes = (xpub as unknown as { pipes: Set<Pipe> }).pipes
    expect([...pipes].every((p) => p.out.length === 0)).toBe(true)
  })
})
