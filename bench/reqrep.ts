/** REQ/REP round-trip latency over tcp://127.0.0.1 (or ws://), client and server in separate processes. */
import { fileURLToPath } from "node:url"
import { availableParallelism } from "node:os"
import { keepCpusAwake, spawnPeer, type Peer } from "./proc.js"
import type { Scenario, TrialContext } from "./scenario.js"

const PEER = fileURLToPath(new URL("./reqrep-peer.ts", import.meta.url))

export interface ReqRepOptions {
  name: string
  size: number
  /** Timed round trips per trial (stops earlier after `seconds`). */
  count: number
  warmup: number
  seconds: number
  /** Where the server binds (default tcp://127.0.0.1:*). */
  bind?: string
}

export function reqRepLatency({ name, size, count, warmup, seconds, bind }: ReqRepOptions): Scenario {
  return {
    name,
    sockets: ["Request", "Reply"],
    metrics: [
      { key: "p50", label: "p50 µs", digits: 1, better: "lower" },
      { key: "p99", label: "p99 µs", digits: 1, better: "lower", ratio: true },
      { key: "rtPerSec", label: "round trips/s", digits: 0, better: "higher" },
    ],
    profRoles: ["client", "server"],
    async trial(ctx: TrialContext) {
      const common = ["--lib", ctx.lib, "--deadline", String(ctx.timeoutMs)]
      const opts = { timeoutMs: ctx.timeoutMs }
      const wake = keepCpusAwake(availableParallelism(), ctx.timeoutMs)
      const server = spawnPeer(`${ctx.lib} REP (${name})`, PEER, ["--role", "server", ...(bind ? ["--bind", bind] : []), ...common], {
        ...opts,
        nodeArgs: ctx.profArgs("server"),
      })
      let client: Peer | undefined
      try {
        const { endpoint } = await server.next("ready")
        const load = ctx.quick
          ? ["--count", "2000", "--warmup", "200", "--seconds", "0.5"]
          : ["--count", String(count), "--warmup", String(warmup), "--seconds", String(seconds)]
        client = spawnPeer(
          `${ctx.lib} REQ (${name})`,
          PEER,
          ["--role", "client", "--endpoint", String(endpoint), "--size", String(size), ...load, ...common],
          {
            ...opts,
            nodeArgs: ctx.profArgs("client"),
          },
        )
        const res = await client.next("result")
        await server.next("served")
        await Promise.all([server.finish(), client.finish()])
        return { p50: Number(res.p50), p99: Number(res.p99), rtPerSec: Number(res.rtPerSec) }
      } finally {
        server.kill()
        client?.kill()
        wake()
      }
    },
  }
}
