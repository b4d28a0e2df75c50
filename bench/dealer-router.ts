/**
 * DEALER->ROUTER echo throughput over tcp://127.0.0.1 with a window of requests in flight per
 * DEALER; the ROUTER server and the client are separate processes. With `dealers` > 1 the
 * client process runs that many DEALER sockets (one connection each) concurrently on its one
 * event loop, and the figure is their completed round trips per second together.
 */
import { fileURLToPath } from "node:url"
import { spawnPeer, type Peer } from "./proc.js"
import type { Scenario, TrialContext } from "./scenario.js"

const PEER = fileURLToPath(new URL("./dealer-router-peer.ts", import.meta.url))

export interface DealerRouterOptions {
  name: string
  size: number
  /** Requests in flight per DEALER. */
  window: number
  /** DEALER sockets in the client process (default 1). */
  dealers?: number
  /** Replies (all dealers together) discarded as warm-up (default 20 x window). */
  warmup?: number
  /** Requests per trial (stops earlier after `seconds`). */
  count: number
  seconds: number
}

export function dealerRouterEcho({ name, size, window, dealers = 1, warmup = window * 20, count, seconds }: DealerRouterOptions): Scenario {
  return {
    name,
    sockets: ["Dealer", "Router"],
    metrics: [{ key: "rtPerSec", label: "round trips/s", digits: 0, better: "higher" }],
    profRoles: ["client", "server"],
    async trial(ctx: TrialContext) {
      const common = ["--lib", ctx.lib, "--deadline", String(ctx.timeoutMs), "--hwm", String(window * 10)]
      const opts = { timeoutMs: ctx.timeoutMs }
      const server = spawnPeer(`${ctx.lib} ROUTER (${name})`, PEER, ["--role", "server", "--clients", String(dealers), ...common], {
        ...opts,
        nodeArgs: ctx.profArgs("server"),
      })
      let client: Peer | undefined
      try {
        const { endpoint } = await server.next("ready")
        const load = [
          "--size",
          String(size),
          "--window",
          String(window),
          "--dealers",
          String(dealers),
          "--warmup",
          String(ctx.quick ? window * dealers : warmup),
        ]
        load.push("--count", String(ctx.quick ? 20_000 : count), "--seconds", ctx.quick ? "0.5" : String(seconds))
        client = spawnPeer(
          `${ctx.lib} ${dealers > 1 ? `${dealers} DEALERs` : "DEALER"} (${name})`,
          PEER,
          ["--role", "client", "--endpoint", String(endpoint), ...load, ...common],
          {
            ...opts,
            nodeArgs: ctx.profArgs("client"),
          },
        )
        const res = await client.next("result")
        const served = await server.next("served")
        if (served.requests !== Number(res.received) + dealers) {
          throw new Error(
            `${ctx.lib} ${name}: server saw ${served.requests} requests, client got ${res.received} replies (+${dealers} end marker(s))`,
          )
        }
        await Promise.all([server.finish(), client.finish()])
        return { rtPerSec: Number(res.rtPerSec) }
      } finally {
        server.kill()
        client?.kill()
      }
    },
  }
}
