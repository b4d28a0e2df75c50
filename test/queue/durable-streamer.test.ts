/**
 * The durable streamer between unmodified ZeroMQ peers (libzmq through the zeromq package):
 * with no consumer, a producer is not blocked and the backlog goes to disk; across a restart of
 * the device nothing is lost, and the consumer gets every message in order.
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { spawn, type ChildProcess } from "node:child_process"
import { createInterface } from "node:readline"
import { fileURLToPath } from "node:url"
import { afterEach, describe, expect, it } from "vitest"
import * as zmq from "zeromq"
import { DurableStreamer } from "../../lib/devices/queue/durable-streamer.js"
import { freePort, waitFor } from "../helpers.js"

const dirs: string[] = []
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true })
})

describe("durable streamer (PULL in, PUSH out, the store between)", () => {
  it("libzmq PUSH → device → libzmq PULL: 2,000 messages with no consumer are kept on disk across a restart, then delivered in order", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "omq-streamer-"))
    dirs.push(dir)
    const inPort = await freePort()
    const outPort = await freePort()
    const opts = {
      dir,
      fsync: { intervalMs: 50 } as const,
      frontEnd: { bind: [`tcp://127.0.0.1:${inPort}`] },
      backEnd: { bind: [`tcp://127.0.0.1:${outPort}`] },
    }
    let device = await DurableStreamer.start(opts)
    const producer = new zmq.Push({ linger: 2000, sendTimeout: 5000 })
    producer.connect(`tcp://127.0.0.1:${inPort}`)
    const N = 2000
    try {
      // No consumer yet: the producer is not held back by an HWM (a plain streamer's PUSH would be, at 1,000).
      for (let i = 0; i < N; i++) await producer.send([`job`, String(i)])
      await waitFor(async () => (await device.backlog()) === N, 10_000, "all messages stored")
      await device.close()

      device = await DurableStreamer.start(opts)
      expect(await device.backlog()).toBe(N)
      const consumer = new zmq.Pull({ receiveTimeout: 5000 })
      consumer.connect(`tcp://127.0.0.1:${outPort}`)
      try {
        for (let i = 0; i < N; i++) {
          const [kind, n] = await consumer.receive()
          expect([kind!.toString(), n!.toString()]).toEqual(["job", String(i)])
        }
        await waitFor(async () => (await device.backlog()) === 0, 10_000, "the backlog acked")
      } finally {
        consumer.close()
      }
    } finally {
      producer.close()
      await device.close()
    }
  }, 60_000)

  it("kill -9 of the device with a backlog on disk: after a restart the consumer gets every stored message, in order", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "omq-streamer-kill-"))
    dirs.push(dir)
    const inPort = await freePort()
    const outPort = await freePort()
    const CHILD = fileURLToPath(new URL("./fixtures/streamer-device.ts", import.meta.url))
    /** Starts the device process; resolves on its first backlog line, and `backlog` follows the latest. */
    const start = async (): Promise<{ child: ChildProcess; backlog: () => number }> => {
      const child = spawn(process.execPath, ["--import", "tsx", CHILD, dir, String(inPort), String(outPort)], {
        stdio: ["ignore", "pipe", "pipe"],
      })
      let latest = -1
      let stderr = ""
      child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()))
      createInterface({ input: child.stdout! }).on("line", (line) => (latest = (JSON.parse(line) as { backlog: number }).backlog))
      await waitFor(() => latest >= 0, 20_000, `the device process to start (${stderr})`)
      return { child, backlog: () => latest }
    }
    const N = 1000
    let device = await start()
    const producer = new zmq.Push({ linger: 0, sendTimeout: 5000 })
    producer.connect(`tcp://127.0.0.1:${inPort}`)
    try {
      for (let i = 0; i < N; i++) await producer.send(String(i))
      await waitFor(() => device.backlog() === N, 10_000, "all messages stored (fsync always)")
      device.child.kill("SIGKILL")
      await new Promise((resolve) => device.child.once("exit", resolve))

      device = await start()
      expect(device.backlog()).toBe(N)
      const consumer = new zmq.Pull({ receiveTimeout: 5000 })
      consumer.connect(`tcp://127.0.0.1:${outPort}`)
      try {
        for (let i = 0; i < N; i++) expect((await consumer.receive())[0]!.toString()).toBe(String(i))
      } finally {
        consumer.close()
      }
    } finally {
      producer.close()
      device.child.kill("SIGKILL")
    }
  }, 90_000)
})
