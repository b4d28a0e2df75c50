/**
 * Interop: omq DEALER/ROUTER against libzmq 4.3.5 (through zeromq.js 6) and
 * back, over tcp and ipc: routing id prefixes (explicit, generated, connect
 * routing ids), replies routed to the right peer, ROUTER-to-ROUTER and
 * ROUTER_MANDATORY.
 */
import { describe, expect, it } from "vitest"
import * as zmq from "zeromq"
import * as omq from "../../lib/index.js"
import { uniqueIpc } from "../helpers.js"
import { closeAfterEach } from "../helpers/close-after-each.js"

const RCV = 5000
const SND = 5000
const OPTS = { linger: 0, receiveTimeout: RCV, sendTimeout: SND }

const track = closeAfterEach({ ignoreErrors: true })

const strs = (msg: Buffer[]): string[] => msg.map((b) => b.toString())
const code = (err: unknown): string | undefined => (err as { code?: string }).code

/** Sends on a `mandatory` ROUTER, retrying while the peer is not routable yet (EHOSTUNREACH), up to a deadline. */
async function sendWhenRoutable(router: { send(m: (string | Buffer)[]): Promise<void> }, msg: (string | Buffer)[], ms = RCV): Promise<number> {
  const end = Date.now() + ms
  let retries = 0
  for (;;) {
    try {
      await router.send(msg)
      return retries
    } catch (err) {
      if (code(err) !== "EHOSTUNREACH" || Date.now() > end) throw err
      retries++
      await new Promise((r) => setTimeout(r, 5))
    }
  }
}

/** A libzmq/omq generated routing id: 5 bytes, the first one zero. */
function expectGeneratedId(id: Buffer | undefined): void {
  expect(id).toBeInstanceOf(Buffer)
  expect(id!.length).toBe(5)
  expect(id![0]).toBe(0)
}

interface DealerLike {
  send(m: (string | Buffer)[] | string): Promise<void>
  receive(): Promise<Buffer[]>
  bind(a: string): Promise<void>
  connect(a: string): void
  readonly lastEndpoint: string | null
}
interface RouterLike extends Omit<DealerLike, "connect"> {
  send(m: (string | Buffer)[]): Promise<void>
  connect(a: string, o?: { routingId?: string }): void
}

for (const proto of ["tcp", "ipc"] as const) {
  const endpoint = (): string => (proto === "tcp" ? "tcp://127.0.0.1:*" : uniqueIpc())

  /** Binds one side and connects the other. */
  async function link(dealer: DealerLike, router: RouterLike, routerBinds: boolean): Promise<void> {
    if (routerBinds) {
      await router.bind(endpoint())
      dealer.connect(router.lastEndpoint!)
    } else {
      await dealer.bind(endpoint())
      router.connect(dealer.lastEndpoint!)
    }
  }

  /** Dealer sends first; checks the id prefix the router sees, replies and checks routing back. */
  async function dealerRouterExchange(dealer: DealerLike, router: RouterLike, expectedId: string | null): Promise<void> {
    let id: Buffer | undefined
    for (let i = 0; i < 5; i++) {
      await dealer.send(["", "req", String(i), ""])
      const got = await router.receive()
      if (expectedId !== null) expect(got[0]).toEqual(Buffer.from(expectedId))
      else expectGeneratedId(got[0])
      if (id !== undefined) expect(got[0]).toEqual(id) // stable id for the connection
      id = got[0]!
      expect(strs(got.slice(1))).toEqual(["", "req", String(i), ""])
      await router.send([id, "", "rep", String(i), ""])
      expect(strs(await dealer.receive())).toEqual(["", "rep", String(i), ""])
    }
  }

  describe(`DEALER/ROUTER interop over ${proto}`, () => {
    for (const routerBinds of [true, false]) {
      const how = routerBinds ? "ROUTER binds" : "DEALER binds"

      it(`omq DEALER (routingId) -> libzmq ROUTER (${how}) over ${proto}: id prefix and replies`, async () => {
        const dealer = track(new omq.Dealer({ ...OPTS, routingId: "omq-dealer" }))
        const router = track(new zmq.Router(OPTS))
        await link(dealer, router, routerBinds)
        await dealerRouterExchange(dealer, router, "omq-dealer")
      })

      it(`omq DEALER (no routingId) -> libzmq ROUTER (${how}) over ${proto}: generated 5-byte id`, async () => {
        const dealer = track(new omq.Dealer(OPTS))
        const router = track(new zmq.Router(OPTS))
        await link(dealer, router, routerBinds)
        await dealerRouterExchange(dealer, router, null)
      })

      it(`libzmq DEALER (routingId) -> omq ROUTER (${how}) over ${proto}: id prefix and replies`, async () => {
        const dealer = track(new zmq.Dealer({ ...OPTS, routingId: "zmq-dealer" }))
        const router = track(new omq.Router(OPTS))
        await link(dealer, router, routerBinds)
        await dealerRouterExchange(dealer, router, "zmq-dealer")
      })

      it(`libzmq DEALER (no routingId) -> omq ROUTER (${how}) over ${proto}: omq generates a 5-byte id starting 0x00`, async () => {
        const dealer = track(new zmq.Dealer(OPTS))
        const router = track(new omq.Router(OPTS))
        await link(dealer, router, routerBinds)
        await dealerRouterExchange(dealer, router, null)
      })
    }

    it(`two anonymous libzmq DEALERs -> omq ROUTER over ${proto}: distinct generated ids, replies routed back`, async () => {
      const router = track(new omq.Router(OPTS))
      await router.bind(endpoint())
      const dealers = [0, 1].map(() => {
        const d = track(new zmq.Dealer(OPTS))
        d.connect(router.lastEndpoint!)
        return d
      })
      const ids: Buffer[] = []
      for (const [i, d] of dealers.entries()) {
        await d.send(`hello from ${i}`)
        const [id, body] = await router.receive()
        expectGeneratedId(id)
        expect(String(body)).toBe(`hello from ${i}`)
        ids.push(id!)
      }
      expect(ids[0]!.equals(ids[1]!)).toBe(false)
      // reply in reverse order; each dealer must get its own
      await router.send([ids[1]!, "for 1"])
      await router.send([ids[0]!, "for 0"])
      expect(strs(await dealers[0]!.receive())).toEqual(["for 0"])
      expect(strs(await dealers[1]!.receive())).toEqual(["for 1"])
    })

    /** Router side of the fan-in tests: answers every request, then ends each dealer's stream with "end". */
    async function serveAll(router: RouterLike, names: string[], perDealer: number): Promise<Map<string, number>> {
      const counts = new Map<string, number>()
      for (let n = 0; n < names.length * perDealer; n++) {
        const [id, kind, seq] = await router.receive()
        expect(String(kind)).toBe("req")
        const name = String(id)
        expect(names).toContain(name)
        counts.set(name, (counts.get(name) ?? 0) + 1)
        await router.send([id!, "rep", name, String(seq)])
      }
      for (const name of names) await router.send([name, "end"])
      return counts
    }

    /** Dealer side: sends its requests, then reads up to "end"; everything before must be its own replies in order. */
    async function dealerSide(dealer: DealerLike, name: string, perDealer: number): Promise<void> {
      for (let i = 0; i < perDealer; i++) await dealer.send(["req", String(i)])
      const got: string[][] = []
      for (;;) {
        const msg = strs(await dealer.receive())
        if (msg[0] === "end") break
        got.push(msg)
      }
      expect(got).toEqual(Array.from({ length: perDealer }, (_, i) => ["rep", name, String(i)]))
    }

    it(`several libzmq DEALERs (explicit ids) -> omq ROUTER over ${proto}: each gets exactly its own replies`, async () => {
      const router = track(new omq.Router({ ...OPTS, mandatory: true }))
      await router.bind(endpoint())
      const names = ["alpha", "bravo", "charlie", "delta"]
      const dealers = names.map((name) => {
        const d = track(new zmq.Dealer({ ...OPTS, routingId: name }))
        d.connect(router.lastEndpoint!)
        return d
      })
      const perDealer = 25
      const server = serveAll(router, names, perDealer)
      server.catch(() => {})
      await Promise.all(dealers.map((d, i) => dealerSide(d, names[i]!, perDealer)))
      const counts = await server
      for (const name of names) expect(counts.get(name)).toBe(perDealer)
    })

    it(`several omq DEALERs (explicit ids) -> libzmq ROUTER over ${proto}: each gets exactly its own replies`, async () => {
      const router = track(new zmq.Router({ ...OPTS, mandatory: true }))
      await router.bind(endpoint())
      const names = ["alpha", "bravo", "charlie", "delta"]
      const dealers = names.map((name) => {
        const d = track(new omq.Dealer({ ...OPTS, routingId: name }))
        d.connect(router.lastEndpoint!)
        return d
      })
      const perDealer = 25
      const server = serveAll(router, names, perDealer)
      server.catch(() => {})
      await Promise.all(dealers.map((d, i) => dealerSide(d, names[i]!, perDealer)))
      const counts = await server
      for (const name of names) expect(counts.get(name)).toBe(perDealer)
    })
  })

  describe(`ROUTER-to-ROUTER interop over ${proto}`, () => {
    it(`omq ROUTER (routingId "cli") connects to libzmq ROUTER with connect routingId "srv" over ${proto}`, async () => {
      const srv = track(new zmq.Router({ ...OPTS, routingId: "srv" }))
      await srv.bind(endpoint())
      const cli = track(new omq.Router({ ...OPTS, routingId: "cli", mandatory: true }))
      cli.connect(srv.lastEndpoint!, { routingId: "srv" })
      await sendWhenRoutable(cli, ["srv", "hello", "", "there"])
      expect(strs(await srv.receive())).toEqual(["cli", "hello", "", "there"])
      for (let i = 0; i < 3; i++) {
        await srv.send(["cli", "ping", String(i)])
        expect(strs(await cli.receive())).toEqual(["srv", "ping", String(i)])
        await cli.send(["srv", "pong", String(i)])
        expect(strs(await srv.receive())).toEqual(["cli", "pong", String(i)])
      }
    })

    it(`libzmq ROUTER (routingId "cli") connects to omq ROUTER with connect routingId "srv" over ${proto}`, async () => {
      const srv = track(new omq.Router({ ...OPTS, routingId: "srv" }))
      await srv.bind(endpoint())
      const cli = track(new zmq.Router({ ...OPTS, routingId: "cli", mandatory: true }))
      cli.connect(srv.lastEndpoint!, { routingId: "srv" })
      await sendWhenRoutable(cli, ["srv", "hello", "", "there"])
      expect(strs(await srv.receive())).toEqual(["cli", "hello", "", "there"])
      for (let i = 0; i < 3; i++) {
        await srv.send(["cli", "ping", String(i)])
        expect(strs(await cli.receive())).toEqual(["srv", "ping", String(i)])
        await cli.send(["srv", "pong", String(i)])
        expect(strs(await srv.receive())).toEqual(["cli", "pong", String(i)])
      }
    })

    it(`omq ROUTER connects to two libzmq ROUTERs with different connect routingIds over ${proto}: sends go to the named one`, async () => {
      const servers = ["s1", "s2"].map((name) => track(new zmq.Router({ ...OPTS, routingId: name })))
      for (const s of servers) await s.bind(endpoint())
      const cli = track(new omq.Router({ ...OPTS, routingId: "cli", mandatory: true }))
      cli.connect(servers[0]!.lastEndpoint!, { routingId: "s1" })
      cli.connect(servers[1]!.lastEndpoint!, { routingId: "s2" })
      await sendWhenRoutable(cli, ["s2", "to s2"])
      await sendWhenRoutable(cli, ["s1", "to s1"])
      expect(strs(await servers[0]!.receive())).toEqual(["cli", "to s1"])
      expect(strs(await servers[1]!.receive())).toEqual(["cli", "to s2"])
      await servers[1]!.send(["cli", "from s2"])
      await servers[0]!.send(["cli", "from s1"])
      const got = [strs(await cli.receive()), strs(await cli.receive())].sort((a, b) => a[0]!.localeCompare(b[0]!))
      expect(got).toEqual([
        ["s1", "from s1"],
        ["s2", "from s2"],
      ])
    })
  })

  describe(`ROUTER probeRouter and handover interop over ${proto}`, () => {
    it(`libzmq DEALER (probeRouter) -> omq ROUTER over ${proto}: ROUTER gets [id, ""] unasked`, async () => {
      const router = track(new omq.Router(OPTS))
      await router.bind(endpoint())
      const dealer = track(new zmq.Dealer({ ...OPTS, routingId: "prober", probeRouter: true }))
      dealer.connect(router.lastEndpoint!)
      expect(strs(await router.receive())).toEqual(["prober", ""])
      await router.send(["prober", "seen you"])
      expect(strs(await dealer.receive())).toEqual(["seen you"])
    })

    it(`omq DEALER (probeRouter) -> libzmq ROUTER over ${proto}: ROUTER gets [id, ""] unasked`, async () => {
      const router = track(new zmq.Router(OPTS))
      await router.bind(endpoint())
      const dealer = track(new omq.Dealer({ ...OPTS, routingId: "prober", probeRouter: true }))
      dealer.connect(router.lastEndpoint!)
      expect(strs(await router.receive())).toEqual(["prober", ""])
      await router.send(["prober", "seen you"])
      expect(strs(await dealer.receive())).toEqual(["seen you"])
    })

    it(`omq ROUTER (probeRouter, routingId "cli") connects to libzmq ROUTER over ${proto}: server learns "cli" first`, async () => {
      const srv = track(new zmq.Router(OPTS))
      await srv.bind(endpoint())
      const cli = track(new omq.Router({ ...OPTS, routingId: "cli", probeRouter: true }))
      cli.connect(srv.lastEndpoint!, { routingId: "srv" })
      expect(strs(await srv.receive())).toEqual(["cli", ""])
      await srv.send(["cli", "welcome"])
      expect(strs(await cli.receive())).toEqual(["srv", "welcome"])
    })

    it(`libzmq ROUTER (probeRouter, routingId "cli") connects to omq ROUTER over ${proto}: server learns "cli" first`, async () => {
      const srv = track(new omq.Router(OPTS))
      await srv.bind(endpoint())
      const cli = track(new zmq.Router({ ...OPTS, routingId: "cli", probeRouter: true }))
      cli.connect(srv.lastEndpoint!, { routingId: "srv" })
      expect(strs(await srv.receive())).toEqual(["cli", ""])
      await srv.send(["cli", "welcome"])
      expect(strs(await cli.receive())).toEqual(["srv", "welcome"])
    })

    it(`omq ROUTER (handover) with two libzmq DEALERs sharing an id over ${proto}: the newcomer takes the id over`, async () => {
      const router = track(new omq.Router({ ...OPTS, handover: true }))
      await router.bind(endpoint())
      // the old dealer must not reconnect and take the id back
      const old = track(new zmq.Dealer({ ...OPTS, routingId: "dup", reconnectInterval: -1 }))
      old.connect(router.lastEndpoint!)
      await old.send("from old")
      expect(strs(await router.receive())).toEqual(["dup", "from old"])
      const fresh = track(new zmq.Dealer({ ...OPTS, routingId: "dup" }))
      fresh.connect(router.lastEndpoint!)
      await fresh.send("from new")
      expect(strs(await router.receive())).toEqual(["dup", "from new"])
      await router.send(["dup", "to the owner"])
      expect(strs(await fresh.receive())).toEqual(["to the owner"])
    })

    it(`libzmq ROUTER (handover) with two omq DEALERs sharing an id over ${proto}: the newcomer takes the id over`, async () => {
      const router = track(new zmq.Router({ ...OPTS, handover: true }))
      await router.bind(endpoint())
      const old = track(new omq.Dealer({ ...OPTS, routingId: "dup", reconnectInterval: -1 }))
      old.connect(router.lastEndpoint!)
      await old.send("from old")
      expect(strs(await router.receive())).toEqual(["dup", "from old"])
      const fresh = track(new omq.Dealer({ ...OPTS, routingId: "dup" }))
      fresh.connect(router.lastEndpoint!)
      await fresh.send("from new")
      expect(strs(await router.receive())).toEqual(["dup", "from new"])
      await router.send(["dup", "to the owner"])
      expect(strs(await fresh.receive())).toEqual(["to the owner"])
    })
  })

  describe(`ROUTER mandatory over ${proto}`, () => {
    it(`omq ROUTER (mandatory) with a libzmq DEALER over ${proto}: unknown id rejects EHOSTUNREACH, known id delivers`, async () => {
      const router = track(new omq.Router({ ...OPTS, mandatory: true }))
      await router.bind(endpoint())
      await expect(router.send(["nobody", "x"])).rejects.toMatchObject({ code: "EHOSTUNREACH" })
      const dealer = track(new zmq.Dealer({ ...OPTS, routingId: "known" }))
      dealer.connect(router.lastEndpoint!)
      await dealer.send("hi")
      expect(strs(await router.receive())).toEqual(["known", "hi"])
      await router.send(["known", "reply"])
      expect(strs(await dealer.receive())).toEqual(["reply"])
      await expect(router.send(["unknown", "x"])).rejects.toMatchObject({ code: "EHOSTUNREACH" })
      // the failed send did not disturb the known peer
      await router.send(["known", "again"])
      expect(strs(await dealer.receive())).toEqual(["again"])
    })

    it(`omq ROUTER (mandatory) over ${proto}: a libzmq DEALER that went away becomes EHOSTUNREACH`, async () => {
      const router = track(new omq.Router({ ...OPTS, mandatory: true }))
      await router.bind(endpoint())
      const dealer = track(new zmq.Dealer({ ...OPTS, routingId: "leaver" }))
      dealer.connect(router.lastEndpoint!)
      await dealer.send("hi")
      expect(strs(await router.receive())).toEqual(["leaver", "hi"])
      dealer.close()
      // poll: sends succeed until omq notices the disconnect, then must fail with EHOSTUNREACH
      const end = Date.now() + RCV
      let failure: unknown
      while (failure === undefined) {
        try {
          await router.send(["leaver", "still there?"])
        } catch (err) {
          failure = err
          break
        }
        if (Date.now() > end) throw new Error("omq ROUTER never reported the departed peer as EHOSTUNREACH")
        await new Promise((r) => setTimeout(r, 5))
      }
      expect(code(failure)).toBe("EHOSTUNREACH")
    })

    it(`omq ROUTER (not mandatory) over ${proto}: unknown id is silently dropped`, async () => {
      const router = track(new omq.Router(OPTS))
      await router.bind(endpoint())
      const dealer = track(new zmq.Dealer({ ...OPTS, routingId: "d" }))
      dealer.connect(router.lastEndpoint!)
      await router.send(["nobody", "dropped"])
      await dealer.send("hi")
      expect(strs(await router.receive())).toEqual(["d", "hi"])
      await router.send(["nobody", "dropped too"])
      await router.send(["d", "delivered"])
      // the first (and only) thing the dealer gets is the routable message
      expect(strs(await dealer.receive())).toEqual(["delivered"])
    })
  })
}
