/** PUSH->PULL throughput over tcp://127.0.0.1, sender and receiver in separate processes. */
import { fileURLToPath } from "node:url"
import { spawnPeer } from "./proc.js"
import type { Scenario, TrialContext } from "./scenario.js"

const PEER = fileURLToPath(new URL("./pushpull-peer.ts", import.meta.url))

export const THROUGHPUT_METRICS = [
  { key: "msgsPerSec", label: "msgs/s", digits: 0, better: "higher" },
  { key: "mbPerSec", label: "MB/s", digits: 1, better: "higher" },
] as const

export interface PushPullSize {
  name: string
  size: number
  /** Messages per trial; sized so a trial takes ~1-3 s for zeromq. */
  count: number
  quickCount: number
}

export function pushPull({ name, size, count, quickCount }: PushPullSize): Scenario {
  return {
    name,
    sockets: ["Push", "Pull"],
    metrics: THROUGHPUT_METRICS,
    async trial(ctx: TrialContext) {
      const common = ["--lib", ctx.lib, "--deadline", String(ctx.timeoutMs)]
      const opts = { timeoutMs: ctx.timeoutMs }
      const recv = spawnPeer(`${ctx.lib} PULL (${name})`, PEER, ["--role", "recv", ...common], { ...opts, nodeArgs: ctx.profArgs("recv") })
      let send: ReturnType<typeof spawnPeer> | undefined
      try {
        const { endpoint } = await recv.next("ready")
        // The send phase is capped at 3 s (0.5 s quick) whatever N is, so a slow library still finishes in time.
        const sendArgs = ["--role", "send", "--endpoint", String(endpoint), "--size", String(size),
          "--count", String(ctx.quick ? quickCount : count), "--seconds", ctx.quick ? "0.5" : "3", ...common]
        send = spawnPeer(`${ctx.lib} PUSH (${name})`, PEER, sendArgs, { ...opts, nodeArgs: ctx.profArgs("send") })
        const sent = await send.next("sent")
        const res = await recv.next("result")
        if (res.received !== sent.sent) throw new Error(`${ctx.lib} ${name}: sent ${sent.sent} but received ${res.received}`)
        await Promise.all([recv.finish(), send.finish()])
        return { msgsPerSec: Number(res.msgsPerSec), mbPerSec: Number(res.mbPerSec) }
      } finally {
        recv.kill()
        send?.kill()
      }
    },
  }
}
