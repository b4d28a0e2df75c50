import { describe, expect, it } from "vitest"
import * as zmq from "zeromq"
import { Router } from "../../lib/index.js"
import { LazyPirateClient } from "../../patterns/lazy-pirate.js"
import { closeAfterEach } from "../helpers/close-after-each.js"

const track = closeAfterEach()

describe("Lazy Pirate client", () => {
  it("retries a request the server lost and gets the reply", async () => {
    // A ROUTER can lose requests on purpose (a REP must answer each one): it ignores the first
    // copy of every request, so only the client's retry is answered.
    const server = track(new Router({ linger: 0 }))
    await server.bind("tcp://127.0.0.1:*")
    const seen = new Set<string>()
    void (async () => {
      for await (const [peer, ...envelopeAndBody] of server) {
        const body = String(envelopeAndBody[envelopeAndBody.length - 1])
        if (!seen.has(body)) {
          seen.add(body)
          continue
        }
        await server.send([peer!, ...envelopeAndBody.slice(0, -1), `echo ${body}`])
      }
    })().catch(() => undefined)
    const client = track(new LazyPirateClient(server.lastEndpoint!, { timeout: 100, retries: 5 }))
    expect((await client.request("one")).map(String)).toEqual(["echo one"])
    expect((await client.request("two")).map(String)).toEqual(["echo two"])
  })

  it("gives up with EHOSTUNREACH when nobody answers", async () => {
    const client = track(new LazyPirateClient("tcp://127.0.0.1:1", { timeout: 50, retries: 2 }))
    const t0 = Date.now()
    await expect(client.request("anyone?")).rejects.toMatchObject({ code: "EHOSTUNREACH" })
    expect(Date.now() - t0).toBeGreaterThanOrEqual(3 * 50 - 10)
  })

  it("works against a libzmq REP server that restarts", async () => {
    let server = new zmq.Reply({ linger: 0 })
    await server.bind("tcp://127.0.0.1:*")
    const endpoint = server.lastEndpoint!
    const serve = (s: zmq.Reply) =>
      (async () => {
        for await (const [req] of s) await s.send(`libzmq ${req}`)
      })().catch(() => undefined)
    void serve(server)
    const client = track(new LazyPirateClient(endpoint, { timeout: 200, retries: 20 }))
    expect((await client.request("a")).map(String)).toEqual(["libzmq a"])
    server.close()
    server = new zmq.Reply({ linger: 0 })
    // Rebinding a just-closed port can race with its release: retry until it binds.
    for (let i = 0; ; i++) {
      try {
        await server.bind(endpoint)
        break
      } catch (err) {
        if (i > 50) throw err
        await new Promise((r) => setTimeout(r, 20))
      }
    }
    track(server)
    void serve(server)
    expect((await client.request("b")).map(String)).toEqual(["libzmq b"])
  })
})
