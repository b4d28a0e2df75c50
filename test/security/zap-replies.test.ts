/**
 * How handshake failures are reported (zeromq.js socket-zap): a ZAP handler's refusal, a
 * reply that breaks RFC 27, and a mechanism mismatch each raise the event zeromq.js raises,
 * with its message and code/status, on both sides where both sides know.
 */
import { describe, expect, it } from "vitest"
import * as omq from "../../lib/index.js"
import { tracker } from "../features/feature-util.js"
import type { Event } from "../../lib/index.js"

const t = tracker()
const track = t.track.bind(t)

/** A ZAP handler (a ROUTER on inproc://zeromq.zap.01 of the default context) answering with `reply`. */
async function zapHandler(reply: (request: Buffer[]) => Array<Buffer | string | null>): Promise<void> {
  const router = track(new omq.Router())
  await router.bind("inproc://zeromq.zap.01")
  void (async () => {
    try {
      for await (const msg of router) await router.send(reply(msg))
    } catch {
      /* closed */
    }
  })()
}

function firstEvent(sock: omq.Socket, type: Event["type"]): Promise<Event> {
  return new Promise((resolve) => sock.events.on(type, resolve as (e: Event) => void))
}

for (const transport of ["tcp", "ipc"] as const) {
  const endpoint = () => (transport === "tcp" ? "tcp://127.0.0.1:*" : "ipc://*")

  describe(`handshake failure events over ${transport}`, () => {
    it("a PLAIN refusal: both sides get handshake:error:auth, 'Authentication failure', status 400", async () => {
      // [routing id, "", version, request id, domain, address, identity, mechanism, user, password]
      await zapHandler(([path, delim, version, id, , , , , user, pass]) => [
        path!,
        delim!,
        version!,
        id!,
        ...(String(user) === "user" && String(pass) === "pass" ? ["200", "OK"] : ["400", "Bad credentials"]),
        null,
        null,
      ])
      const server = track(new omq.Pair({ linger: 0, plainServer: true, zapDomain: "test" }))
      const client = track(new omq.Pair({ linger: 0, plainUsername: "user", plainPassword: "BAD PASS" }))
      const serverEvent = firstEvent(server, "handshake:error:auth")
      const clientEvent = firstEvent(client, "handshake:error:auth")
      await server.bind(endpoint())
      client.connect(server.lastEndpoint!)
      const [a, b] = await Promise.all([serverEvent, clientEvent])
      for (const e of [a, b]) {
        expect(e.error).toBeInstanceOf(Error)
        expect(e.error!.message).toBe("Authentication failure")
        expect((e.error as Error & { status: number }).status).toBe(400)
      }
      expect(a.address).toBe(server.lastEndpoint)
      expect(b.address).toBe(server.lastEndpoint)
    })

    const broken: Array<[string, (r: Buffer[]) => Array<Buffer | string | null>, string]> = [
      ["a reply with version 9.9", ([p, d, , id]) => [p!, d!, "9.9", id!, "200", "OK", null, null], "ERR_ZAP_BAD_VERSION"],
      ["a reply of too few frames", ([p, d]) => [p!, d!, null, null], "ERR_ZAP_MALFORMED_REPLY"],
      ["a reply for another request id", ([p, d, v]) => [p!, d!, v!, "no-such-id", "200", "OK", null, null], "ERR_ZAP_BAD_REQUEST_ID"],
      ["a reply with status 201", ([p, d, v, id]) => [p!, d!, v!, id!, "201", "OK", null, null], "ERR_ZAP_INVALID_STATUS_CODE"],
    ]
    for (const [what, reply, code] of broken) {
      it(`${what}: the server gets handshake:error:protocol, 'ZAP protocol error', ${code}`, async () => {
        await zapHandler(reply)
        const server = track(new omq.Pair({ linger: 0, plainServer: true, zapDomain: "test" }))
        const client = track(new omq.Pair({ linger: 0, plainUsername: "user" }))
        const event = firstEvent(server, "handshake:error:protocol")
        await server.bind(endpoint())
        client.connect(server.lastEndpoint!)
        const e = await event
        expect(e.address).toBe(server.lastEndpoint)
        expect(e.error!.message).toBe("ZAP protocol error")
        expect((e.error as Error & { code: string }).code).toBe(code)
      })
    }

    it("PLAIN server meets CURVE server: both get handshake:error:protocol, 'ZMTP protocol error', ERR_ZMTP_MECHANISM_MISMATCH", async () => {
      const a = track(new omq.Pair({ linger: 0, plainServer: true }))
      const b = track(new omq.Pair({ linger: 0, curveServer: true })) // no keys: libzmq's zero keys, as zeromq.js allows
      const ea = firstEvent(a, "handshake:error:protocol")
      const eb = firstEvent(b, "handshake:error:protocol")
      await a.bind(endpoint())
      b.connect(a.lastEndpoint!)
      for (const e of await Promise.all([ea, eb])) {
        expect(e.address).toBe(a.lastEndpoint)
        expect(e.error!.message).toBe("ZMTP protocol error")
        expect((e.error as Error & { code: string }).code).toBe("ERR_ZMTP_MECHANISM_MISMATCH")
      }
    })
  })
}
