/**
 * PUSH->PULL throughput.
 *   tcp (default): over tcp://127.0.0.1, sender and receiver in separate processes;
 *                  with `curve`, the connection uses CURVE security.
 *   ipc:           like tcp, over ipc://<fresh dir in os.tmpdir()>/pull.sock; the runner
 *                  makes the directory per trial and removes it afterwards.
 *   inproc:        both sockets in one process (inproc cannot cross processes).
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { spawnPeer, type Peer } from "./proc.js"
import type { Scenario, TrialContext } from "./scenario.js"

const PEER = fileURLToPath(new URL("./pushpull-peer.ts", import.meta.url))

export const THROUGHPUT_METRICS = [
  { key: "msgsPerSec", label: "msgs/s", digits: 0, better: "higher" },
  { key: "mbPerSec", label: "MB/s", digits: 1, better: "higher" },
] as const

export interface PushPullSize {
  name: string
  size: number
  /** Messages per trial; the send phase also stops after `seconds`, whichever comes first. */
  count: number
  quickCount: number
  /** Cap on the send phase (default 2 s; quick: 0.5 s). */
  seconds?: number
  transport?: "tcp" | "ipc" | "inproc" | "ws"
  curve?: boolean
}

export function pushPull({ name, size, count, quickCount, seconds = 2, transport = "tcp", curve = false }: PushPullSize): Scenario {
  return {
    name,
    sockets: ["Push", "Pull"],
    metrics: THROUGHPUT_METRICS,
    profRoles: transport === "inproc" ? ["both"] : ["send", "recv"],
    async trial(ctx: TrialContext) {
      const common = ["--lib", ctx.lib, "--deadline", String(ctx.timeoutMs)]
      const opts = { timeoutMs: ctx.timeoutMs }
      const load = ["--size", String(size), "--count", String(ctx.quick ? quickCount : count), "--seconds", ctx.quick ? "0.5" : String(seconds)]
      if (transport === "inproc") {
        const both = spawnPeer(`${ctx.lib} PUSH+PULL inproc (${name})`, PEER, ["--role", "both", ...load, ...common], {
          ...opts,
          nodeArgs: ctx.profArgs("both"),
        })
        try {
          const res = await both.next("result")
          if (res.received !== res.sent) throw new Error(`${ctx.lib} ${name}: sent ${res.sent} but received ${res.received}`)
          await both.finish()
          return { msgsPerSec: Number(res.msgsPerSec), mbPerSec: Number(res.mbPerSec) }
        } finally {
          both.kill()
        }
      }
      const curveArgs = curve ? ["--curve", "1"] : []
      // ipc: a fresh directory per trial (unique, short enough for sun_path's 107 bytes), removed in `finally`.
      const ipcDir = transport === "ipc" ? mkdtempSync(join(tmpdir(), "omq-bench-")) : undefined
      const bindArgs = ipcDir
        ? ["--bind", `ipc://${join(ipcDir, "pull.sock")}`]
        : transport === "ws"
          ? ["--bind", "ws://127.0.0.1:*/bench"]
          : []
      let recv: Peer | undefined
      let send: Peer | undefined
      try {
        recv = spawnPeer(`${ctx.lib} PULL (${name})`, PEER, ["--role", "recv", ...bindArgs, ...curveArgs, ...common], {
          ...opts,
          nodeArgs: ctx.profArgs("recv"),
        })
        const { endpoint, serverKey } = await recv.next("ready")
        const sendArgs = ["--role", "send", "--endpoint", String(endpoint), ...load, ...common]
        if (curve) sendArgs.push(...curveArgs, `--server-key=${String(serverKey)}`) // "=": a z85 key may start with "-", which parseArgs would take for an option
        send = spawnPeer(`${ctx.lib} PUSH (${name})`, PEER, sendArgs, { ...opts, nodeArgs: ctx.profArgs("send") })
        const sent = await send.next("sent")
        const res = await recv.next("result")
        if (res.received !== sent.sent) throw new Error(`${ctx.lib} ${name}: sent ${sent.sent} but received ${res.received}`)
        await Promise.all([recv.finish(), send.finish()])
        return { msgsPerSec: Number(res.msgsPerSec), mbPerSec: Number(res.mbPerSec) }
      } finally {
        recv?.kill()
        send?.kill()
        if (ipcDir) rmSync(ipcDir, { recursive: true, force: true })
      }
    },
  }
}
