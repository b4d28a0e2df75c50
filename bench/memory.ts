/**
 * Memory scenarios (peers in memory-peer.ts). Lower is better, so the ratios are
 * zeromq/omq: >1 means omq uses less memory. MB = 10^6 bytes, KiB = 1024 bytes.
 *
 *   idleConnections: RSS of a ROUTER process holding `connections` idle tcp connections
 *                    (one DEALER socket each, in a second process), minus its RSS after bind.
 *   pushPullPeak:    peak RSS of the PUSH and the PULL process while `count` messages
 *                    of `size` bytes go through with the default HWM (1000).
 */
import { fileURLToPath } from "node:url"
import { spawnPeer, type Peer } from "./proc.js"
import type { Scenario, TrialContext } from "./scenario.js"

const PEER = fileURLToPath(new URL("./memory-peer.ts", import.meta.url))
const MB = 1e6

export interface IdleOptions {
  name: string
  connections: number
  quickConnections: number
  /** Connections opened at a time (each batch is confirmed by the server before the next). */
  batch: number
  /** How long the server stays idle, after the last connection, before measuring (ms). */
  idleMs: number
}

export function idleConnections({ name, connections, quickConnections, batch, idleMs }: IdleOptions): Scenario {
  return {
    name,
    sockets: ["Router", "Dealer"],
    metrics: [
      { key: "deltaMB", label: "ΔRSS MB", digits: 1, better: "lower" },
      { key: "rssMB", label: "RSS MB", digits: 1, better: "lower", ratio: true },
      { key: "baseMB", label: "base MB", digits: 1, better: "lower" },
      { key: "kibPerConn", label: "KiB/conn", digits: 1, better: "lower" },
      { key: "clientDeltaMB", label: "clients ΔRSS MB", digits: 1, better: "lower", ratio: true },
    ],
    profRoles: ["server", "clients"],
    async trial(ctx: TrialContext) {
      const n = ctx.quick ? quickConnections : connections
      const common = ["--lib", ctx.lib, "--deadline", String(ctx.timeoutMs), "--count", String(n)]
      const opts = { timeoutMs: ctx.timeoutMs }
      const server = spawnPeer(`${ctx.lib} ROUTER (${name})`, PEER, ["--role", "server", "--idle", String(idleMs), ...common], {
        ...opts,
        nodeArgs: ["--expose-gc", ...ctx.profArgs("server")],
      })
      let clients: Peer | undefined
      try {
        const { endpoint } = await server.next("ready")
        clients = spawnPeer(
          `${ctx.lib} ${n} DEALERs (${name})`,
          PEER,
          ["--role", "clients", "--endpoint", String(endpoint), "--batch", String(batch), ...common],
          {
            ...opts,
            nodeArgs: ["--expose-gc", ...ctx.profArgs("clients")],
          },
        )
        const conn = await clients.next("connected")
        await server.next("seen")
        server.send("measure")
        const res = await server.next("result")
        if (res.distinct !== n) throw new Error(`${ctx.lib} ${name}: server saw ${res.distinct} routing ids, expected ${n}`)
        await Promise.all([server.finish(), clients.finish()])
        if (process.env.BENCH_DEBUG)
          process.stderr.write(`  ${ctx.lib} ${name}: server ${JSON.stringify(res)}\n  clients ${JSON.stringify(conn)}\n`)
        const delta = Number(res.rss) - Number(res.baseline)
        return {
          deltaMB: delta / MB,
          rssMB: Number(res.rss) / MB,
          baseMB: Number(res.baseline) / MB,
          kibPerConn: delta / 1024 / n,
          clientDeltaMB: (Number(conn.rss) - Number(conn.baseline)) / MB,
        }
      } finally {
        server.kill()
        clients?.kill()
      }
    },
  }
}

export interface PeakOptions {
  name: string
  size: number
  count: number
  quickCount: number
  /** Safety cap on the send phase; the trial is meant to send all `count` messages. */
  seconds: number
}

export function pushPullPeak({ name, size, count, quickCount, seconds }: PeakOptions): Scenario {
  return {
    name,
    sockets: ["Push", "Pull"],
    metrics: [
      { key: "pushPeakMB", label: "PUSH peak MB", digits: 1, better: "lower" },
      { key: "pullPeakMB", label: "PULL peak MB", digits: 1, better: "lower", ratio: true },
      { key: "pushBaseMB", label: "PUSH base MB", digits: 1, better: "lower" },
      { key: "pullBaseMB", label: "PULL base MB", digits: 1, better: "lower" },
      { key: "msgsPerSec", label: "send msgs/s", digits: 0, better: "higher" },
    ],
    profRoles: ["push", "pull"],
    async trial(ctx: TrialContext) {
      const n = ctx.quick ? quickCount : count
      const common = ["--lib", ctx.lib, "--deadline", String(ctx.timeoutMs)]
      const opts = { timeoutMs: ctx.timeoutMs }
      const recv = spawnPeer(`${ctx.lib} PULL (${name})`, PEER, ["--role", "pull", ...common], {
        ...opts,
        nodeArgs: ["--expose-gc", ...ctx.profArgs("pull")],
      })
      let send: Peer | undefined
      try {
        const { endpoint } = await recv.next("ready")
        const load = ["--size", String(size), "--count", String(n), "--seconds", String(seconds)]
        send = spawnPeer(`${ctx.lib} PUSH (${name})`, PEER, ["--role", "push", "--endpoint", String(endpoint), ...load, ...common], {
          ...opts,
          nodeArgs: ["--expose-gc", ...ctx.profArgs("push")],
        })
        const sent = await send.next("sent")
        const res = await recv.next("result")
        if (res.received !== sent.sent) throw new Error(`${ctx.lib} ${name}: sent ${sent.sent} but received ${res.received}`)
        if (Number(sent.sent) < n)
          process.stderr.write(`  note: ${ctx.lib} ${name} hit the ${seconds} s cap after ${sent.sent} of ${n} messages\n`)
        send.send("report")
        const mem = await send.next("memory")
        await Promise.all([recv.finish(), send.finish()])
        if (process.env.BENCH_DEBUG) process.stderr.write(`  ${ctx.lib} ${name}: push ${JSON.stringify(mem)}\n  pull ${JSON.stringify(res)}\n`)
        return {
          pushPeakMB: Number(mem.peak) / MB,
          pullPeakMB: Number(res.peak) / MB,
          pushBaseMB: Number(mem.baseline) / MB,
          pullBaseMB: Number(res.baseline) / MB,
          msgsPerSec: Number(sent.sent) / Number(sent.seconds),
        }
      } finally {
        recv.kill()
        send?.kill()
      }
    },
  }
}
