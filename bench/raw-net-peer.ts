/**
 * The ceiling for bulk bytes, as a third row of the 64 KiB PUSH->PULL scenarios: plain node:net
 * between two processes, no ZeroMQ library. The same roles and messages as pushpull-peer.ts.
 *
 *   --role recv: listens on --bind (tcp://127.0.0.1:* or ipc://PATH), emits {type:"ready",
 *                endpoint}; reads ZMTP long-frame headers (9 bytes: flags, 64-bit size) and skips
 *                the bodies without copying them, until a frame of size 0; emits {type:"result"}
 *                timed from the first frame to that end marker, as pushpull-peer.ts does.
 *   --role send: connects, writes --count frames of --size bytes (or fewer if --seconds runs
 *                out) as omq's engine writes them (writev of 16 header + body pairs, corked), then
 *                the end marker; emits {type:"sent"}.
 *
 * What this leaves out is all a messaging library adds: making a message of each body (a copy,
 * when a body spans reads), queues, promises. It is the most two Node processes can move.
 */
import * as net from "node:net"
import { args, emit, num, parentDone, runPeer } from "./child.js"

const a = args(["role", "size", "count", "seconds", "endpoint", "deadline", "bind"])
const HEADER = 9

function listenTarget(bind: string): { port: number; host: string } | { path: string } {
  if (bind.startsWith("ipc://")) return { path: bind.slice("ipc://".length) }
  const m = /^tcp:\/\/([^:]+):(\d+|\*)$/.exec(bind)
  if (!m) throw new Error(`bad --bind ${bind}`)
  return { host: m[1]!, port: m[2] === "*" ? 0 : Number(m[2]) }
}

async function receiver(): Promise<void> {
  const bind = a.bind ?? "tcp://127.0.0.1:*"
  const server = net.createServer()
  const target = listenTarget(bind)
  await new Promise<void>((resolve) => server.listen(target, resolve))
  const addr = server.address()
  const endpoint = typeof addr === "string" || addr === null ? bind : `tcp://${addr.address}:${addr.port}`
  emit({ type: "ready", endpoint })
  const result = await new Promise<Record<string, number>>((resolve, reject) => {
    server.once("connection", (s) => {
      let n = 0
      let bytes = 0
      let first = 0
      const head = Buffer.alloc(HEADER)
      let headGot = 0
      let bodyLeft = 0
      s.on("error", reject)
      s.on("data", (chunk: Buffer) => {
        let pos = 0
        while (pos < chunk.length) {
          if (bodyLeft > 0) {
            const take = Math.min(bodyLeft, chunk.length - pos)
            bodyLeft -= take
            pos += take
            continue
          }
          const take = Math.min(HEADER - headGot, chunk.length - pos)
          chunk.copy(head, headGot, pos, pos + take)
          headGot += take
          pos += take
          if (headGot < HEADER) break
          headGot = 0
          const size = head.readUInt32BE(5)
          if (size === 0) {
            const secs = (performance.now() - first) / 1000
            s.destroy()
            resolve({ received: n, bytes, seconds: secs, msgsPerSec: (n - 1) / secs, mbPerSec: (bytes * (n - 1)) / n / secs / 1e6 })
            return
          }
          if (n++ === 0) first = performance.now()
          bytes += size
          bodyLeft = size
        }
      })
    })
  })
  emit({ type: "result", ...result })
  server.close()
}

async function sender(): Promise<void> {
  const size = num(a.size, "size")
  const count = num(a.count, "count")
  const budgetMs = num(a.seconds, "seconds") * 1000
  const endpoint = a.endpoint ?? ""
  const s = endpoint.startsWith("ipc://")
    ? net.connect(endpoint.slice("ipc://".length))
    : net.connect(listenTarget(endpoint) as net.TcpNetConnectOpts)
  await new Promise<void>((resolve, reject) => s.once("connect", resolve).once("error", reject))
  const body = Buffer.alloc(size, 0x61)
  const head = Buffer.alloc(HEADER)
  head[0] = 0x02 // LONG
  head.writeUInt32BE(size, 5)
  const start = performance.now()
  let sent = 0
  await new Promise<void>((resolve) => {
    const pump = (): void => {
      while (sent < count && performance.now() - start <= budgetMs) {
        s.cork()
        for (let i = 0; i < 16 && sent < count; i++, sent++) {
          s.write(head)
          s.write(body)
        }
        s.uncork()
        if (s.writableLength >= s.writableHighWaterMark) {
          s.once("drain", pump)
          return
        }
      }
      const end = Buffer.alloc(HEADER)
      end[0] = 0x02
      s.write(end, () => resolve())
    }
    pump()
  })
  emit({ type: "sent", sent, seconds: (performance.now() - start) / 1000 })
  await parentDone()
  s.destroy()
}

const roles: Record<string, () => Promise<void>> = { recv: receiver, send: sender }
runPeer(`node-net ${a.role}`, num(a.deadline, "deadline"), roles[a.role ?? ""] ?? (() => Promise.reject(new Error(`bad --role ${a.role}`))))
