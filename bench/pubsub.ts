/**
 * PUB -> N SUB fan-out over tcp://127.0.0.1: one publisher process and one process per
 * subscriber (all N+1 share this machine's CPUs). With `filter`, the subscribers take
 * only the messages starting with "A", half of what is published.
 *
 * With `hwm` (a flood): both HWMs are that (libzmq's default is 1000) and the publisher sends as
 * fast as it can for `seconds` in a tight `await send()` loop, while each subscriber awaits one
 * message at a time: a PUB whose peers are all at their HWM drops, and the figure that counts is
 * what each subscriber gets per second, on the same 2 CPUs as the publisher (issue 19).
 */
import { fileURLToPath } from "node:url"
import { spawnPeer, type Peer } from "./proc.js"
import type { Scenario, TrialContext } from "./scenario.js"

const PEER = fileURLToPath(new URL("./pubsub-peer.ts", import.meta.url))

export interface PubSubOptions {
  name: string
  size: number
  subscribers: number
  filter: boolean
  /** Messages published per trial (stops earlier after `seconds`). */
  count: number
  quickCount: number
  seconds: number
  /** A flood: this send/receive HWM (drops expected) instead of one above the count. */
  hwm?: number
}

export function pubSubFanOut({ name, size, subscribers, filter, count, quickCount, seconds, hwm }: PubSubOptions): Scenario {
  return {
    name,
    sockets: ["Publisher", "Subscriber"],
    metrics: [
      { key: "perSub", label: "msgs/s per SUB", digits: 0, better: "higher" },
      { key: "total", label: "msgs/s all SUBs", digits: 0, better: "higher" },
      { key: "drops", label: "dropped", digits: 0, better: "lower" },
    ],
    profRoles: ["pub", "sub0"],
    async trial(ctx: TrialContext) {
      const n = ctx.quick ? quickCount : count
      const common = ["--lib", ctx.lib, "--deadline", String(ctx.timeoutMs), "--size", String(size), "--hwm", String(hwm ?? n + 10_000)]
      const opts = { timeoutMs: ctx.timeoutMs }
      const pub = spawnPeer(
        `${ctx.lib} PUB (${name})`,
        PEER,
        ["--role", "pub", "--count", String(n), "--seconds", ctx.quick ? "0.5" : String(seconds), ...common],
        {
          ...opts,
          nodeArgs: ctx.profArgs("pub"),
        },
      )
      const subs: Peer[] = []
      try {
        const { endpoint } = await pub.next("ready")
        for (let i = 0; i < subscribers; i++) {
          const args = ["--role", "sub", "--endpoint", String(endpoint), "--topic", filter ? "A" : "", ...common]
          subs.push(spawnPeer(`${ctx.lib} SUB ${i} (${name})`, PEER, args, { ...opts, nodeArgs: i === 0 ? ctx.profArgs("sub0") : [] }))
        }
        for (const s of subs) await s.next("ready")
        for (const s of subs) await s.next("synced")
        pub.send("go")
        const sent = await pub.next("sent")
        const expected = Number(filter ? sent.sentA : sent.sent)
        const results = []
        for (const s of subs) results.push(await s.next("result"))
        const wrong = results.reduce((acc, r) => acc + Number(r.wrong), 0)
        if (wrong > 0) throw new Error(`${ctx.lib} ${name}: subscribers received ${wrong} messages outside their subscription`)
        const received = results.reduce((acc, r) => acc + Number(r.received), 0)
        const drops = subscribers * expected - received
        if (drops < 0)
          throw new Error(`${ctx.lib} ${name}: subscribers received ${received} messages, more than the ${subscribers} x ${expected} published`)
        // Per SUB: each one's own rate, averaged. All SUBs: every delivery, over the span from the first SUB's first message to the last SUB's end.
        const perSub = results.reduce((acc, r) => acc + Number(r.msgsPerSec), 0) / subscribers
        const span = (Math.max(...results.map((r) => Number(r.endWallMs))) - Math.min(...results.map((r) => Number(r.firstWallMs)))) / 1000
        await Promise.all([pub.finish(), ...subs.map((s) => s.finish())])
        return { perSub, total: received / span, drops }
      } finally {
        pub.kill()
        for (const s of subs) s.kill()
      }
    },
  }
}
