/**
 * Interop: REQ -> ROUTER -> DEALER -> REP chains with a hand-written broker
 * loop, mixing omq and libzmq 4.3.5 (through zeromq.js 6) hops, over tcp and
 * ipc. Envelopes must survive every hop and replies must reach the client
 * that asked.
 */
import { afterEach, describe, expect, it } from "vitest"
import * as zmq from "zeromq"
import * as omq from "../../lib/index.js"
import { uniqueIpc } from "../helpers.js"

const RCV = 5000
const SND = 5000
const OPTS = { linger: 0, receiveTimeout: RCV, sendTimeout: SND }

type Impl = "omq" | "zmq"
type Kind = "Request" | "Reply" | "Dealer" | "Router"

interface Sock {
  bind(address: string): Promise<void>
  connect(address: string): void
  send(message: (string | Buffer)[] | string): Promise<void>
  receive(): Promise<Buffer[]>
  close(): void
  readonly closed: boolean
  readonly lastEndpoint: string | null
}

const open: Sock[] = []
afterEach(() => {
  for (const s of open.splice(0)) {
    try {
      s.close()
    } catch {
      // already closed
    }
  }
})

function make(impl: Impl, kind: Kind, extra: Record<string, unknown> = {}): Sock {
  const lib = (impl === "omq" ? omq : zmq) as unknown as Record<Kind, new (o: object) => Sock>
  const s = new lib[kind]({ ...OPTS, ...extra })
  open.push(s)
  return s
}

const strs = (msg: Buffer[]): string[] => msg.map((b) => b.toString())
const code = (err: unknown): string | undefined => (err as { code?: string }).code

/**
 * Relays every message from `from` to `to` until either is closed. `check`
 * validates each message; failures are collected, not thrown, so a broken
 * hop shows up as a test failure instead of an unhandled rejection.
 */
function relay(from: Sock, to: Sock, errors: unknown[], check: (msg: Buffer[]) => void): Promise<void> {
  return (async () => {
    for (;;) {
      let msg: Buffer[]
      try {
        msg = await from.receive()
      } catch (err) {
        if (from.closed || to.closed) return
        if (code(err) === "EAGAIN") continue // idle; keep waiting
        errors.push(err)
        return
      }
      try {
        check(msg)
        await to.send(msg)
      } catch (err) {
        if (from.closed || to.closed) return
        errors.push(err)
        return
      }
    }
  })()
}

/** REP worker: answers ["re", worker, ...request]. */
function worker(rep: Sock, name: string, errors: unknown[]): Promise<void> {
  return (async () => {
    for (;;) {
      let req: Buffer[]
      try {
        req = await rep.receive()
      } catch (err) {
        if (rep.closed) return
        if (code(err) === "EAGAIN") continue
        errors.push(err)
        return
      }
      try {
        await rep.send(["re", name, ...req])
      } catch (err) {
        if (rep.closed) return
        errors.push(err)
        return
      }
    }
  })()
}

/** Frames of a ROUTER-side message: `hops` routing ids, the empty delimiter, then a non-empty body. */
function expectEnvelope(msg: Buffer[], hops: number): void {
  expect(msg.length).toBeGreaterThan(hops + 1)
  for (let i = 0; i < hops; i++) expect(msg[i]!.length).toBeGreaterThan(0)
  expect(msg[hops]!.length).toBe(0)
}

interface Broker {
  router: Sock
  dealer: Sock
}

/** A broker: frontend ROUTER and backend DEALER, both bound. */
async function broker(impl: Impl, endpoint: () => string): Promise<Broker> {
  const router = make(impl, "Router")
  const dealer = make(impl, "Dealer")
  await router.bind(endpoint())
  await dealer.bind(endpoint())
  return { router, dealer }
}

interface Scenario {
  clients: [Impl, Impl]
  brokers: Impl[]
  workers: Impl[]
}

const SCENARIOS: Scenario[] = [
  { clients: ["omq", "omq"], brokers: ["zmq"], workers: ["omq"] },
  { clients: ["zmq", "zmq"], brokers: ["omq"], workers: ["zmq"] },
  { clients: ["omq", "zmq"], brokers: ["omq"], workers: ["zmq", "omq"] },
  { clients: ["zmq", "omq"], brokers: ["zmq"], workers: ["omq", "zmq"] },
  { clients: ["zmq", "omq"], brokers: ["omq", "zmq"], workers: ["omq"] },
  { clients: ["omq", "zmq"], brokers: ["zmq", "omq"], workers: ["zmq"] },
]

const describeScenario = (s: Scenario): string =>
  `${s.clients.map((c) => `${c === "omq" ? "omq" : "libzmq"} REQ`).join(" + ")} -> ` +
  s.brokers.map((b) => `${b === "omq" ? "omq" : "libzmq"} ROUTER/DEALER`).join(" -> ") +
  ` -> ${s.workers.map((w) => `${w === "omq" ? "omq" : "libzmq"} REP`).join(" + ")}`

for (const proto of ["tcp", "ipc"] as const) {
  const endpoint = (): string => (proto === "tcp" ? "tcp://127.0.0.1:*" : uniqueIpc())

  describe(`REQ -> ROUTER -> DEALER -> REP chains over ${proto}`, () => {
    for (const scenario of SCENARIOS) {
      it(`${describeScenario(scenario)} over ${proto}: envelopes survive, replies reach the right client`, async () => {
        const errors: unknown[] = []
        const loops: Promise<void>[] = []
        const seenIds: Buffer[] = []

        // Brokers in series; broker k's frontend sees k+1 routing ids ahead of the delimiter.
        const brokers: Broker[] = []
        for (const impl of scenario.brokers) brokers.push(await broker(impl, endpoint))
        for (let k = 1; k < brokers.length; k++) brokers[k - 1]!.dealer.connect(brokers[k]!.router.lastEndpoint!)
        brokers.forEach((b, k) => {
          const hops = k + 1
          loops.push(
            relay(b.router, b.dealer, errors, (msg) => {
              expectEnvelope(msg, hops)
              if (k === 0) seenIds.push(msg[0]!)
            }),
            relay(b.dealer, b.router, errors, (msg) => expectEnvelope(msg, hops)),
          )
        })

        const last = brokers[brokers.length - 1]!
        scenario.workers.forEach((impl, w) => {
          const rep = make(impl, "Reply")
          rep.connect(last.dealer.lastEndpoint!)
          loops.push(worker(rep, `w${w}`, errors))
        })

        // Client A has an explicit routing id, client B lets the first ROUTER generate one.
        const names = ["client-A", "client-B"]
        const clients = scenario.clients.map((impl, i) => {
          const req = make(impl, "Request", i === 0 ? { routingId: names[0] } : {})
          req.connect(brokers[0]!.router.lastEndpoint!)
          return req
        })

        const rounds = 20
        const workerNames = new Set<string>()
        await Promise.all(
          clients.map(async (req, i) => {
            for (let r = 0; r < rounds; r++) {
              const body = [names[i]!, String(r), "", "payload"]
              await req.send(body)
              const reply = strs(await req.receive())
              expect(reply[0]).toBe("re")
              workerNames.add(reply[1]!)
              expect(reply.slice(2)).toEqual(body)
            }
          }),
        )

        expect(errors).toEqual([])
        // every worker name came from this chain
        for (const w of workerNames) expect(scenario.workers.map((_, i) => `w${i}`)).toContain(w)
        // the first ROUTER saw the explicit id and one generated (5 bytes, leading zero) id
        const distinct = new Map(seenIds.map((id) => [id.toString("hex"), id]))
        expect(distinct.size).toBe(2)
        const ids = [...distinct.values()]
        expect(ids.some((id) => id.equals(Buffer.from("client-A")))).toBe(true)
        const generated = ids.find((id) => !id.equals(Buffer.from("client-A")))!
        expect(generated.length).toBe(5)
        expect(generated[0]).toBe(0)
        expect(seenIds.length).toBe(rounds * 2)

        for (const s of open.splice(0)) s.close()
        await Promise.all(loops)
        expect(errors).toEqual([])
      })
    }
  })
}
