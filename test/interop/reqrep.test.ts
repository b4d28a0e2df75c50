/**
 * Interop: omq REQ/REP against libzmq 4.3.5 (through zeromq.js 6) and back,
 * over tcp and ipc, with either side binding.
 */
import { describe, expect, it } from "vitest"
import * as zmq from "zeromq"
import * as omq from "../../lib/index.js"
import { uniqueIpc } from "../helpers.js"
import { closeAfterEach } from "../helpers/close-after-each.js"

/** Generous bounds: a failure shows up as EAGAIN, never as a hang. */
const RCV = 5000
const SND = 5000
const OPTS = { linger: 0, receiveTimeout: RCV, sendTimeout: SND }

const track = closeAfterEach({ ignoreErrors: true })

const strs = (msg: Buffer[]): string[] => msg.map((b) => b.toString())

/** Request bodies: single frame, multipart, empty frames first/middle/last, a lone empty frame, binary. */
const BODIES: (string | Buffer)[][] = [
  ["hello"],
  ["a", "b", "c"],
  ["", "after-empty"],
  ["before-empty", ""],
  ["x", "", "y", "", "z"],
  [""],
  ["", "", ""],
  [Buffer.from([0, 1, 2, 255]), Buffer.alloc(0), Buffer.alloc(3000, 7)],
]

const norm = (body: (string | Buffer)[]): Buffer[] => body.map((f) => (typeof f === "string" ? Buffer.from(f) : f))
/** What the echo servers below answer. */
const replyFor = (body: (string | Buffer)[], tag: string): Buffer[] => [Buffer.from(tag), ...norm(body), Buffer.alloc(0)]

interface ReqLike {
  send(m: (string | Buffer)[] | string): Promise<void>
  receive(): Promise<Buffer[]>
}
interface RepLike extends ReqLike {}

/** Client side: several round trips, each reply must be the echo of its own request. */
async function roundTrips(req: ReqLike, tag: string): Promise<void> {
  for (let round = 0; round < 2; round++) {
    for (const body of BODIES) {
      await req.send(body)
      const reply = await req.receive()
      expect(reply).toEqual(replyFor(body, tag))
    }
  }
}

/** Server side: answers `count` requests with [tag, ...request, ""]. */
async function serve(rep: RepLike, tag: string, count: number): Promise<Buffer[][]> {
  const seen: Buffer[][] = []
  for (let i = 0; i < count; i++) {
    const req = await rep.receive()
    seen.push(req)
    await rep.send([tag, ...req, ""])
  }
  return seen
}

const TOTAL = BODIES.length * 2

/**
 * zeromq.js quirk (reproducible with libzmq on both ends): when libzmq's
 * correlating REQ reports POLLIN for a stale reply that it then discards,
 * zeromq.js rejects receive() at once with EAGAIN instead of waiting. Retry
 * until the deadline; a real timeout still ends as EAGAIN.
 */
async function receivePastStale(sock: zmq.Request, ms = RCV): Promise<Buffer[]> {
  const end = Date.now() + ms
  for (;;) {
    try {
      return await sock.receive()
    } catch (err) {
      if ((err as { code?: string }).code !== "EAGAIN" || Date.now() > end) throw err
    }
  }
}

for (const proto of ["tcp", "ipc"] as const) {
  const endpoint = (): string => (proto === "tcp" ? "tcp://127.0.0.1:*" : uniqueIpc())

  describe(`REQ/REP interop over ${proto}`, () => {
    for (const reqBinds of [false, true]) {
      const how = reqBinds ? "REQ binds, REP connects" : "REP binds, REQ connects"

      it(`omq REQ -> libzmq REP (${how}) over ${proto}: round trips with multipart and empty frames`, async () => {
        const req = track(new omq.Request(OPTS))
        const rep = track(new zmq.Reply(OPTS))
        if (reqBinds) {
          await req.bind(endpoint())
          rep.connect(req.lastEndpoint!)
        } else {
          await rep.bind(endpoint())
          req.connect(rep.lastEndpoint!)
        }
        const server = serve(rep, "zmq-rep", TOTAL)
        server.catch(() => {})
        await roundTrips(req, "zmq-rep")
        const seen = await server
        // libzmq REP saw exactly the bodies omq REQ sent (delimiter stripped, empty frames intact).
        expect(seen).toEqual([...BODIES, ...BODIES].map(norm))
      })

      it(`libzmq REQ -> omq REP (${how}) over ${proto}: round trips with multipart and empty frames`, async () => {
        const req = track(new zmq.Request(OPTS))
        const rep = track(new omq.Reply(OPTS))
        if (reqBinds) {
          await req.bind(endpoint())
          rep.connect(req.lastEndpoint!)
        } else {
          await rep.bind(endpoint())
          req.connect(rep.lastEndpoint!)
        }
        const server = serve(rep, "omq-rep", TOTAL)
        server.catch(() => {})
        await roundTrips(req, "omq-rep")
        const seen = await server
        expect(seen).toEqual([...BODIES, ...BODIES].map(norm))
      })
    }

    it(`two libzmq REQ -> one omq REP (REP binds) over ${proto}: each client gets its own replies`, async () => {
      const rep = track(new omq.Reply(OPTS))
      await rep.bind(endpoint())
      const clients = ["c1", "c2"].map((name) => {
        const req = track(new zmq.Request({ ...OPTS, routingId: name }))
        req.connect(rep.lastEndpoint!)
        return { name, req }
      })
      const rounds = 15
      const server = serve(rep, "omq-rep", rounds * clients.length)
      server.catch(() => {})
      await Promise.all(
        clients.map(async ({ name, req }) => {
          for (let i = 0; i < rounds; i++) {
            await req.send([name, String(i), ""])
            expect(strs(await req.receive())).toEqual(["omq-rep", name, String(i), "", ""])
          }
        }),
      )
      await server
    })

    it(`two omq REQ -> one libzmq REP (REP binds) over ${proto}: each client gets its own replies`, async () => {
      const rep = track(new zmq.Reply(OPTS))
      await rep.bind(endpoint())
      const clients = ["c1", "c2"].map((name) => {
        // one with an explicit routing id, one anonymous
        const req = track(new omq.Request(name === "c1" ? { ...OPTS, routingId: name } : OPTS))
        req.connect(rep.lastEndpoint!)
        return { name, req }
      })
      const rounds = 15
      const server = serve(rep, "zmq-rep", rounds * clients.length)
      server.catch(() => {})
      await Promise.all(
        clients.map(async ({ name, req }) => {
          for (let i = 0; i < rounds; i++) {
            await req.send([name, String(i), ""])
            expect(strs(await req.receive())).toEqual(["zmq-rep", name, String(i), "", ""])
          }
        }),
      )
      await server
    })

    it(`omq REQ (relaxed, correlate) -> libzmq REP over ${proto}: a superseded request's reply is ignored`, async () => {
      const rep = track(new zmq.Reply(OPTS))
      await rep.bind(endpoint())
      const req = track(new omq.Request({ ...OPTS, relaxed: true, correlate: true }))
      req.connect(rep.lastEndpoint!)
      // first a normal round trip, so the peer is surely connected
      await req.send("warm-up")
      const warm = await rep.receive()
      expect(strs(warm)).toEqual(["warm-up"])
      await rep.send(["ok"])
      expect(strs(await req.receive())).toEqual(["ok"])

      await req.send("first")
      expect(strs(await rep.receive())).toEqual(["first"])
      await req.send("second") // relaxed: allowed while "first" is outstanding
      await rep.send(["reply-to-first"])
      expect(strs(await rep.receive())).toEqual(["second"])
      await rep.send(["reply-to-second"])
      // correlate: the reply to "first" (older request id) is dropped
      expect(strs(await req.receive())).toEqual(["reply-to-second"])
    })

    it(`libzmq REQ (relaxed, correlate) -> omq REP over ${proto}: omq REP echoes the request-id envelope`, async () => {
      const rep = track(new omq.Reply(OPTS))
      await rep.bind(endpoint())
      const req = track(new zmq.Request({ ...OPTS, relaxed: true, correlate: true }))
      req.connect(rep.lastEndpoint!)
      await req.send("warm-up")
      expect(strs(await rep.receive())).toEqual(["warm-up"])
      await rep.send(["ok"])
      expect(strs(await req.receive())).toEqual(["ok"])

      await req.send("first")
      expect(strs(await rep.receive())).toEqual(["first"])
      await req.send("second")
      await rep.send(["reply-to-first"])
      expect(strs(await rep.receive())).toEqual(["second"])
      await rep.send(["reply-to-second"])
      expect(strs(await receivePastStale(req))).toEqual(["reply-to-second"])
    })
  })
}
