import { describe, expect, it } from "vitest"
import { Dealer, Reply, Request, Router } from "../../lib/index.js"
import { closeAfterEach } from "../helpers/close-after-each.js"

const track = closeAfterEach()

const str = (m: Buffer[]) => m.map(String)

describe("REQ/REP state machine (RFC 28)", () => {
  it("round-trips and strips/restores the envelope", async () => {
    const rep = track(new Reply({ receiveTimeout: 3000 }))
    await rep.bind("tcp://127.0.0.1:*")
    const req = track(new Request({ receiveTimeout: 3000 }))
    req.connect(rep.lastEndpoint!)
    for (let i = 0; i < 3; i++) {
      await req.send(["q", String(i)])
      expect(str(await rep.receive())).toEqual(["q", String(i)])
      await rep.send(["a", String(i)])
      expect(str(await req.receive())).toEqual(["a", String(i)])
    }
  })

  it("REQ refuses receive before send and a second send with EFSM", async () => {
    const req = track(new Request({ sendTimeout: 0 }))
    await expect(req.receive()).rejects.toMatchObject({
      code: "EFSM",
      message: "Operation cannot be accomplished in current state",
    })
    const rep = track(new Reply())
    await rep.bind("tcp://127.0.0.1:*")
    req.sendTimeout = 2000
    req.connect(rep.lastEndpoint!)
    await req.send("one")
    await expect(req.send("two")).rejects.toMatchObject({ code: "EFSM" })
  })

  it("REP refuses send before receive with EFSM", async () => {
    const rep = track(new Reply())
    await expect(rep.send("x")).rejects.toMatchObject({ code: "EFSM" })
  })

  it("async iteration over a fresh REQ surfaces EFSM", async () => {
    const req = track(new Request())
    await expect(
      (async () => {
        for await (const _ of req) void _
      })(),
    ).rejects.toMatchObject({ code: "EFSM" })
  })

  it("REQ load-balances requests across REP peers", async () => {
    const reps = [track(new Reply({ receiveTimeout: 3000 })), track(new Reply({ receiveTimeout: 3000 }))]
    const req = track(new Request({ receiveTimeout: 3000 }))
    for (const r of reps) {
      await r.bind("tcp://127.0.0.1:*")
      req.connect(r.lastEndpoint!)
    }
    for (let i = 0; i < 4; i++) {
      await req.send(String(i))
      const rep = reps[i % 2]!
      expect(str(await rep.receive())).toEqual([String(i)])
      await rep.send(`r${i}`)
      expect(str(await req.receive())).toEqual([`r${i}`])
    }
  })

  it("relaxed REQ can send again when its peer vanished with the request", async () => {
    const gone = new Reply()
    await gone.bind("tcp://127.0.0.1:*")
    const alive = track(new Reply({ receiveTimeout: 3000 }))
    await alive.bind("tcp://127.0.0.1:*")
    const req = track(new Request({ relaxed: true, correlate: true, receiveTimeout: 3000 }))
    req.connect(gone.lastEndpoint!)
    await req.send("lost")
    expect(str(await gone.receive())).toEqual(["lost"])
    gone.close()
    req.connect(alive.lastEndpoint!)
    // The next request goes to whichever peer is up; retry until `alive` answers.
    let answer: string[] | undefined
    for (let i = 0; i < 20 && answer === undefined; i++) {
      await req.send(`retry ${i}`)
      const got = await alive.receive().catch(() => undefined)
      if (got === undefined) continue
      await alive.send(["ok", ...str(got)])
      answer = str(await req.receive())
    }
    expect(answer?.[0]).toBe("ok")
  })

  it("correlate drops a stale reply and accepts the one for the current request", async () => {
    const router = track(new Router({ receiveTimeout: 3000 }))
    await router.bind("tcp://127.0.0.1:*")
    const req = track(new Request({ relaxed: true, correlate: true, receiveTimeout: 3000 }))
    req.connect(router.lastEndpoint!)
    await req.send("first")
    const first = await router.receive()
    expect(first).toHaveLength(4) // id, request id, delimiter, body
    expect(first[1]).toHaveLength(4)
    expect(first[2]).toHaveLength(0)
    await req.send("second")
    const second = await router.receive()
    // Reply to the stale request first, then to the current one.
    await router.send([first[0]!, first[1]!, Buffer.alloc(0), "stale"])
    await router.send([second[0]!, second[1]!, Buffer.alloc(0), "fresh"])
    expect(str(await req.receive())).toEqual(["fresh"])
  })
})

describe("DEALER/ROUTER (RFC 28)", () => {
  it("ROUTER prefixes the dealer's routing id and routes replies by it", async () => {
    const router = track(new Router({ receiveTimeout: 3000 }))
    await router.bind("tcp://127.0.0.1:*")
    const named = track(new Dealer({ routingId: "alice", receiveTimeout: 3000 }))
    const anon = track(new Dealer({ receiveTimeout: 3000 }))
    named.connect(router.lastEndpoint!)
    anon.connect(router.lastEndpoint!)
    await named.send("from alice")
    await anon.send("from anon")
    const got = [await router.receive(), await router.receive()]
    const a = got.find((m) => String(m[1]) === "from alice")!
    const b = got.find((m) => String(m[1]) === "from anon")!
    expect(String(a[0])).toBe("alice")
    expect(b[0]).toHaveLength(5)
    expect(b[0]![0]).toBe(0)
    await router.send([b[0]!, "to anon"])
    await router.send(["alice", "to alice"])
    expect(str(await named.receive())).toEqual(["to alice"])
    expect(str(await anon.receive())).toEqual(["to anon"])
  })

  it("ROUTER drops unroutable messages, or rejects them with EHOSTUNREACH when mandatory", async () => {
    const router = track(new Router())
    await router.send(["nobody", "x"])
    router.mandatory = true
    await expect(router.send(["nobody", "x"])).rejects.toMatchObject({ code: "EHOSTUNREACH" })
  })

  it("ROUTER with mandatory waits at a full peer and times out with EAGAIN", async () => {
    const router = track(new Router({ mandatory: true, sendHighWaterMark: 1, sendTimeout: 50 }))
    await router.bind("tcp://127.0.0.1:*")
    const dealer = track(new Dealer({ routingId: "slow", receiveHighWaterMark: 1 }))
    dealer.connect(router.lastEndpoint!)
    await dealer.send("hello")
    await router.receive()
    let err: unknown
    for (let i = 0; i < 100000 && err === undefined; i++) {
      await router.send(["slow", Buffer.alloc(65536)]).catch((e) => (err = e))
    }
    expect(err).toMatchObject({ code: "EAGAIN" })
  })

  it("DEALER round-robins and fair-queues", async () => {
    const dealer = track(new Dealer({ receiveTimeout: 3000 }))
    const routers = [track(new Router({ receiveTimeout: 3000 })), track(new Router({ receiveTimeout: 3000 }))]
    for (const r of routers) {
      await r.bind("tcp://127.0.0.1:*")
      dealer.connect(r.lastEndpoint!)
    }
    for (let i = 0; i < 4; i++) await dealer.send(String(i))
    const r0 = [await routers[0]!.receive(), await routers[0]!.receive()]
    const r1 = [await routers[1]!.receive(), await routers[1]!.receive()]
    expect(r0.map((m) => String(m[1]))).toEqual(["0", "2"])
    expect(r1.map((m) => String(m[1]))).toEqual(["1", "3"])
    await routers[0]!.send([r0[0]![0]!, "from r0"])
    await routers[1]!.send([r1[0]![0]!, "from r1"])
    const replies = [str(await dealer.receive()), str(await dealer.receive())].flat().sort()
    expect(replies).toEqual(["from r0", "from r1"])
  })

  it("probeRouter sends an empty message on connect", async () => {
    const router = track(new Router({ receiveTimeout: 3000 }))
    await router.bind("tcp://127.0.0.1:*")
    const dealer = track(new Dealer({ routingId: "probe", probeRouter: true }))
    dealer.connect(router.lastEndpoint!)
    const probe = await router.receive()
    expect(String(probe[0])).toBe("probe")
    expect(probe.slice(1).map((b) => b.length)).toEqual([0])
  })

  it("handover lets a new peer take over a routing id", async () => {
    const router = track(new Router({ handover: true, receiveTimeout: 3000, mandatory: true }))
    await router.bind("tcp://127.0.0.1:*")
    const first = track(new Dealer({ routingId: "dup", receiveTimeout: 300 }))
    first.connect(router.lastEndpoint!)
    await first.send("first")
    expect(str(await router.receive())).toEqual(["dup", "first"])
    const second = track(new Dealer({ routingId: "dup", receiveTimeout: 3000 }))
    second.connect(router.lastEndpoint!)
    await second.send("second")
    expect(str(await router.receive())).toEqual(["dup", "second"])
    await router.send(["dup", "to the newcomer"])
    expect(str(await second.receive())).toEqual(["to the newcomer"])
  })

  it("without handover a duplicate routing id is ignored", async () => {
    const router = track(new Router({ receiveTimeout: 300 }))
    await router.bind("tcp://127.0.0.1:*")
    const first = track(new Dealer({ routingId: "dup", receiveTimeout: 3000 }))
    first.connect(router.lastEndpoint!)
    await first.send("first")
    expect(str(await router.receive())).toEqual(["dup", "first"])
    const second = track(new Dealer({ routingId: "dup" }))
    second.connect(router.lastEndpoint!)
    await second.send("second")
    await expect(router.receive()).rejects.toMatchObject({ code: "EAGAIN" })
    await router.send(["dup", "to the first"])
    expect(str(await first.receive())).toEqual(["to the first"])
  })

  it("ROUTER to ROUTER with connect routing ids", async () => {
    const server = track(new Router({ routingId: "server", receiveTimeout: 3000 }))
    await server.bind("tcp://127.0.0.1:*")
    const client = track(new Router({ routingId: "client", mandatory: true, receiveTimeout: 3000 }))
    client.connect(server.lastEndpoint!, { routingId: "srv" })
    const deadline = Date.now() + 5000
    for (;;) {
      try {
        await client.send(["srv", "hello"])
        break
      } catch (err) {
        if ((err as { code?: string }).code !== "EHOSTUNREACH" || Date.now() > deadline) throw err
        await new Promise((r) => setTimeout(r, 5))
      }
    }
    expect(str(await server.receive())).toEqual(["client", "hello"])
    await server.send(["client", "hi back"])
    expect(str(await client.receive())).toEqual(["srv", "hi back"])
  })

  it("validates routing ids", () => {
    expect(() => new Dealer({ routingId: "" })).toThrow(expect.objectContaining({ code: "EINVAL" }))
    expect(() => new Dealer({ routingId: "x".repeat(256) })).toThrow(expect.objectContaining({ code: "EINVAL" }))
    // libzmq reserves a leading zero byte for generated ids but accepts it (so does omq).
    expect(new Dealer({ routingId: Buffer.from([0, 1]) as unknown as string }).routingId).toBe("\u0000\u0001")
    expect(new Dealer({ routingId: "ok" }).routingId).toBe("ok")
  })
})
