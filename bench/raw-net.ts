/**
 * The ceiling for bulk bytes: raw node:net between two processes, no
 * ZeroMQ at all. `npx tsx bench/raw-net.ts` prints MB/s for three write
 * patterns (64 KiB writes, 1 MiB writes, writev of 16 × [9-byte header,
 * 64 KiB body] as omq's engine does). Compare with pushpull-64KiB.
 */
import { fork } from "node:child_process"
import * as net from "node:net"

const TOTAL = 2e9

function receiver(): void {
  const srv = net.createServer((s) => {
    let n = 0
    let t0 = 0
    s.on("data", (d: Buffer) => {
      if (t0 === 0) t0 = Date.now()
      n += d.length
      if (n >= TOTAL) {
        process.send!({ mbps: n / ((Date.now() - t0) / 1000) / 1e6 })
        s.destroy()
        srv.close()
      }
    })
  })
  srv.listen(0, "127.0.0.1", () => process.send!({ port: (srv.address() as net.AddressInfo).port }))
}

function send(port: number, mode: string): void {
  const s = net.connect(port, "127.0.0.1")
  const body = Buffer.alloc(65536, 1)
  const head = Buffer.alloc(9)
  const big = Buffer.alloc(1 << 20, 1)
  let sent = 0
  const pump = (): void => {
    while (sent < TOTAL) {
      let ok: boolean
      if (mode === "1MiB") {
        ok = s.write(big)
        sent += big.length
      } else if (mode === "writev") {
        s.cork()
        for (let i = 0; i < 16; i++) {
          s.write(head)
          s.write(body)
        }
        s.uncork()
        sent += 16 * (head.length + body.length)
        ok = s.writableLength < s.writableHighWaterMark
      } else {
        ok = s.write(body)
        sent += body.length
      }
      if (!ok) {
        s.once("drain", pump)
        return
      }
    }
    s.end()
  }
  s.on("connect", pump)
  s.on("error", () => {})
}

async function main(): Promise<void> {
  for (const mode of ["64KiB", "1MiB", "writev"]) {
    const child = fork(new URL(import.meta.url).pathname, ["recv"], { execArgv: ["--import", "tsx"] })
    const port = await new Promise<number>((r) => child.once("message", (m: { port: number }) => r(m.port)))
    const result = new Promise<number>((r) => child.once("message", (m: { mbps: number }) => r(m.mbps)))
    send(port, mode)
    console.log(`raw net, ${mode} writes: ${(await result).toFixed(0)} MB/s`)
    child.kill()
  }
}

if (process.argv[2] === "recv") receiver()
else void main()
