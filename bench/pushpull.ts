/**
 * PUSH->PULL throughput.
 *   tcp (default): over tcp://127.0.0.1, sender and receiver in separate processes;
 *                  with `curve`, the connection uses CURVE security.
 *   ipc:           like tcp, over ipc://<fresh dir in os.tmpdir()>/pull.sock; the runner
 *                  makes the directory per trial and removes it afterwards.
 *   inproc:        both sockets in one process (inproc cannot cross processes).
 *   with `c` (tcp, ipc): a third row, libzmq driven from C (c-peer.ts, bench/c/pushpull.c), the
 *                  same two roles and measurement; the rows are then the systems omq, zeromq and
 *                  libzmq-c, and the ratio column reads omq / each of the other two.
 *   with `raw` (tcp, ipc): a third row, node-net: plain node:net moving the same frames with no
 *                  ZeroMQ library (raw-net-peer.ts), the ceiling for bulk bytes in the same run.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { cPeerBinary, cPeerUnavailable, LIBZMQ_C } from "./c-peer.js"
import { spawnPeer, type Peer } from "./proc.js"
import type { Scenario, TrialContext } from "./scenario.js"

const PEER = fileURLToPath(new URL("./pushpull-peer.ts", import.meta.url))
const RAW_PEER = fileURLToPath(new URL("./raw-net-peer.ts", import.meta.url))
/** The raw node:net row's system name. */
export const NODE_NET = "node-net"

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
  /** Also measure libzmq from C (issue 19): tcp or ipc, no CURVE. */
  c?: boolean
  /** Also measure plain node:net moving the same frames (issue 19's bulk ceiling): tcp or ipc, no CURVE. */
  raw?: boolean
}

export function pushPull({
  name,
  size,
  count,
  quickCount,
  seconds = 2,
  transport = "tcp",
  curve = false,
  c = false,
  raw = false,
}: PushPullSize): Scenario {
  if ((c || raw) && (curve || (transport !== "tcp" && transport !== "ipc")))
    throw new Error(`${name}: the C and node:net peers do tcp and ipc without CURVE only`)
  return {
    name,
    sockets: ["Push", "Pull"],
    metrics: THROUGHPUT_METRICS,
    profRoles: transport === "inproc" ? ["both"] : ["send", "recv"],
    ...(c && {
      systems: ["omq", "zeromq", LIBZMQ_C],
      async unavailable(system: string) {
        return system === LIBZMQ_C ? cPeerUnavailable() : undefined
      },
    }),
    ...(raw && { systems: ["omq", "zeromq", NODE_NET] }),
    async trial(ctx: TrialContext) {
      const native = ctx.system === LIBZMQ_C
      const bare = ctx.system === NODE_NET
      const who = native || bare ? ctx.system : ctx.lib
      const common = [...(native || bare ? [] : ["--lib", ctx.lib]), "--deadline", String(ctx.timeoutMs)]
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
      // The C peer takes the same options as pushpull-peer.ts (but no --lib, no CURVE).
      const peer = (role: string, label: string, args: string[]): Peer =>
        native
          ? spawnPeer(label, cPeerBinary(), args, { ...opts, native: true })
          : spawnPeer(label, bare ? RAW_PEER : PEER, args, { ...opts, nodeArgs: ctx.profArgs(role) })
      let recv: Peer | undefined
      let send: Peer | undefined
      try {
        recv = peer("recv", `${who} PULL (${name})`, ["--role", "recv", ...bindArgs, ...curveArgs, ...common])
        const { endpoint, serverKey } = await recv.next("ready")
        const sendArgs = ["--role", "send", "--endpoint", String(endpoint), ...load, ...common]
        if (curve) sendArgs.push(...curveArgs, `--server-key=${String(serverKey)}`) // "=": a z85 key may start with "-", which parseArgs would take for an option
        send = peer("send", `${who} PUSH (${name})`, sendArgs)
        const sent = await send.next("sent")
        const res = await recv.next("result")
        if (res.received !== sent.sent) throw new Error(`${who} ${name}: sent ${sent.sent} but received ${res.received}`)
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
