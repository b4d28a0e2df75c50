/** The omq-queue CLI (run from source with tsx; `npm run build` makes dist/queue-cli.js, the package's bin). */
import { spawn, type ChildProcess } from "node:child_process"
import { createInterface } from "node:readline"
import { fileURLToPath } from "node:url"
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"

import { tempDir } from "./queue-util.js"
import { QueueClient } from "../../lib/entry/queue.js"

const CLI = fileURLToPath(new URL("../../lib/devices/queue/cli.ts", import.meta.url))

function run(args: string[]): { child: ChildProcess; line: Promise<string>; exit: Promise<number | null>; stderr: () => string } {
  const child = spawn(process.execPath, ["--import", "tsx", CLI, ...args], { stdio: ["ignore", "pipe", "pipe"] })
  let err = ""
  child.stderr!.on("data", (d: Buffer) => (err += d.toString()))
  const exit = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)))
  const line = new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once("line", resolve)
    void exit.then((code) => reject(new Error(`exited with ${code} before printing: ${err}`)))
  })
  line.catch(() => {}) // awaited only by tests that expect a banner
  return { child, line, exit, stderr: () => err }
}

describe("omq-queue CLI", () => {
  it("prints where it listens, keeps messages across SIGTERM/SIGINT restarts, refuses a locked dir", async () => {
    const dir = tempDir()
    const first = run(["--dir", dir, "--bind", "tcp://127.0.0.1:*", "--fsync", "20"])
    const banner = await first.line
    expect(banner).toMatch(/^omq-queue listening on tcp:\/\/127\.0\.0\.1:\d+ \(data .*, fsync every 20 ms; 0 messages recovered/)
    const endpoint = /listening on (\S+)/.exec(banner)![1]!
    const c = new QueueClient(endpoint)
    await c.put("cli", "survives")
    await c.close()

    const locked = run(["--dir", dir, "--bind", "tcp://127.0.0.1:*"])
    expect(await locked.exit).toBe(3)
    expect(locked.stderr()).toMatch(/in use by another queue device/)

    first.child.kill("SIGTERM")
    expect(await first.exit).toBe(0)

    const second = run(["--dir", dir, "--bind", "tcp://127.0.0.1:*"])
    const banner2 = await second.line
    expect(banner2).toMatch(/1 messages recovered/)
    const c2 = new QueueClient(/listening on (\S+)/.exec(banner2)![1]!)
    const d = await c2.reserve("cli", { timeout: 2000 })
    expect(d?.body.toString()).toBe("survives")
    await d!.ack()
    await c2.close()
    second.child.kill("SIGINT")
    expect(await second.exit).toBe(0)
  }, 60_000)

  it("rejects bad arguments with a usage message", async () => {
    const r = run(["--dir", tempDir(), "--fsync", "sometimes"])
    expect(await r.exit).toBe(2)
    expect(r.stderr()).toMatch(/--fsync/)
    const r2 = run(["--bind", "tcp://127.0.0.1:*"])
    expect(await r2.exit).toBe(2)
    expect(r2.stderr()).toMatch(/--dir is required/)
    const r3 = run(["--dir", tempDir(), "--plain"])
    expect(await r3.exit).toBe(2)
    expect(r3.stderr()).toMatch(/need --acl/)
    const dir = tempDir()
    writeFileSync(join(dir, "acl.json"), JSON.stringify({ users: [{ name: "x", allow: [] }] }))
    const r4 = run(["--dir", join(dir, "data"), "--acl", join(dir, "acl.json"), "--plain"])
    expect(await r4.exit).toBe(2)
    expect(r4.stderr()).toMatch(/access list: users\[0\] needs a password/)
  }, 30_000)

  it("--acl with --plain: users from the file, in their namespaces; --trace keeps histories", async () => {
    const dir = tempDir()
    const acl = join(dir, "acl.json")
    writeFileSync(
      acl,
      JSON.stringify({
        users: [{ name: "app", password: "pw", namespace: "ns", allow: [{ queues: "*", rights: ["put", "consume", "admin"] }] }],
      }),
    )
    const dev = run(["--dir", join(dir, "data"), "--bind", "tcp://127.0.0.1:*", "--acl", acl, "--plain", "--trace"])
    const endpoint = /listening on (\S+)/.exec(await dev.line)![1]!
    const c = new QueueClient(endpoint, { socket: { plainUsername: "app", plainPassword: "pw" } })
    try {
      const { seq } = await c.put("q", "x")
      expect(Object.keys((await c.stats()).queues)).toEqual(["q"])
      expect((await c.trace({ seq })).events[0]).toMatchObject({ type: "put", queue: "q" })
    } finally {
      await c.close()
      dev.child.kill("SIGTERM")
      expect(await dev.exit).toBe(0)
    }
  }, 30_000)
})
