import { spawn } from "node:child_process"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"
import { Context, Pull, Push } from "../../lib/index.js"
import { closeAfterEach } from "../helpers/close-after-each.js"

const FIXTURE = fileURLToPath(new URL("./fixtures/send-and-exit.ts", import.meta.url))
const track = closeAfterEach()

function runScript(args: string[]): Promise<{ code: number | null; ms: number }> {
  const t0 = Date.now()
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", FIXTURE, ...args], { stdio: "ignore" })
    const timer = setTimeout(() => {
      child.kill("SIGKILL")
      reject(new Error("the script did not exit"))
    }, 15_000)
    child.on("exit", (code) => {
      clearTimeout(timer)
      resolve({ code, ms: Date.now() - t0 })
    })
  })
}

describe("close() with messages queued before the connection exists (linger)", () => {
  it("a script that sends and exits at once still delivers everything (default linger -1, as zeromq.js)", async () => {
    const pull = track(new Pull({ receiveTimeout: 10_000 }))
    await pull.bind("tcp://127.0.0.1:*")
    const done = runScript([pull.lastEndpoint!, "500"])
    for (let i = 0; i < 500; i++) expect(String((await pull.receive())[0])).toBe(`job ${i}`)
    expect((await done).code).toBe(0)
  })

  it("a closed socket delivers its queue to a peer that binds later", async () => {
    const probe = new Pull()
    await probe.bind("tcp://127.0.0.1:*")
    const endpoint = probe.lastEndpoint!
    probe.close()
    const push = new Push({ reconnectInterval: 20 })
    push.connect(endpoint)
    for (let i = 0; i < 10; i++) await push.send(String(i))
    push.close()
    const pull = track(new Pull({ receiveTimeout: 5000 }))
    await pull.bind(endpoint)
    for (let i = 0; i < 10; i++) expect(String((await pull.receive())[0])).toBe(String(i))
  })

  it("a positive linger bounds the wait: the script exits after about linger ms when nobody listens", async () => {
    const probe = new Pull()
    await probe.bind("tcp://127.0.0.1:*")
    const endpoint = probe.lastEndpoint!
    probe.close()
    const { code, ms } = await runScript([endpoint, "3", "300"])
    expect(code).toBe(0)
    expect(ms).toBeGreaterThanOrEqual(300)
  })

  it("context.blocky = false gives new sockets linger 0 (zeromq.js)", () => {
    const ctx = new Context({ blocky: false })
    expect(new Push({ context: ctx }).linger).toBe(0)
    expect(new Push({ context: ctx, linger: 50 }).linger).toBe(50)
    expect(new Push().linger).toBe(-1)
  })
})
