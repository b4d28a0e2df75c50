/**
 * omq-queue's commands against a running device (cli-tools.ts), run as a user runs them: each
 * subcommand's human and --json output, export then import (the messages and their headers come
 * back), tail following lifecycle events, PLAIN credentials, bad arguments (exit 2, one line on
 * stderr) and a device that is not there (exit 1 after --timeout).
 */
import { spawn } from "node:child_process"
import { readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { createInterface } from "node:readline"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"
import { freePort, runProcess } from "../helpers.js"
import { client, onCleanup, startDevice, tempDir } from "./queue-util.js"

const CLI = fileURLToPath(new URL("../../lib/devices/queue/cli.ts", import.meta.url))

async function tool(args: string[], input?: string): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return runProcess(process.execPath, ["--import", "tsx", CLI, ...args], { timeout: 30_000, ...(input === undefined ? {} : { input }) })
}

describe("omq-queue commands against a running device", () => {
  it("put (arguments and stdin lines, headers, id), stats, peek, kick, purge: human output and --json", async () => {
    const dev = await startDevice()
    const addr = dev.lastEndpoint!
    const p = await tool(["put", addr, "jobs", "one", "two", "--header", "kind=resize", "--priority", "5"])
    expect(p).toMatchObject({ status: 0, stderr: "" })
    expect(p.stdout).toMatch(/^put jobs seq 1\nput jobs seq 2\n$/)
    const s = await tool(["put", addr, "jobs", "--json"], "three\nfour\n")
    expect(JSON.parse(s.stdout)).toEqual([
      { seq: 3, duplicate: false },
      { seq: 4, duplicate: false },
    ])
    expect((await tool(["put", addr, "jobs", "again", "--id", "x1"])).status).toBe(0)
    expect((await tool(["put", addr, "jobs", "again", "--id", "x1"])).stdout).toMatch(/duplicate id/)
    const c = client(dev)
    const d = (await c.reserve("jobs", { timeout: 1000 }))!
    expect(d.headers).toEqual({ kind: "resize" })
    expect(d.priority).toBe(5)
    await d.bury("broken")

    const st = await tool(["stats", addr])
    expect(st.status).toBe(0)
    expect(st.stdout).toMatch(/^device: leader/)
    expect(st.stdout).toMatch(/jobs\s+4\s+0\s+0\s+1\s+5\s/) // ready delayed reserved dead total
    const sj = JSON.parse((await tool(["stats", addr, "jobs", "--json"])).stdout) as { queues: { jobs: { buried: number } } }
    expect(sj.queues.jobs.buried).toBe(1)

    const pk = await tool(["peek", addr, "jobs", "--state", "buried"])
    expect(pk.stdout).toMatch(/seq 1 {2}jobs {2}buried/)
    expect(pk.stdout).toMatch(/dead: broken/)
    expect(pk.stdout).toMatch(/headers \{"kind":"resize"\}/)
    const pj = JSON.parse((await tool(["peek", addr, "jobs", "--count", "2", "--skip", "1", "--json"])).stdout) as {
      seq: number
      body: string
    }[]
    expect(pj.map((m) => Buffer.from(m.body, "base64").toString())).toEqual(["three", "four"])
    expect((await tool(["peek", addr, "--seq", "999"])).stdout).toBe("(none)\n")

    expect((await tool(["kick", addr, "jobs", "--all"])).stdout).toBe("kicked 1 dead letter of jobs back to ready\n")
    expect(JSON.parse((await tool(["purge", addr, "jobs", "--json"])).stdout)).toEqual({ purged: 5 })
    expect((await c.stats("jobs")).queues.jobs!.total).toBe(0)
  }, 60_000)

  it("export then import: every message comes back with its headers, priority and id (NDJSON); progress on request", async () => {
    const dev = await startDevice()
    const addr = dev.lastEndpoint!
    const c = client(dev)
    for (let i = 0; i < 2500; i++)
      void c.put("src", `m${i}`, { headers: { i, bin: Buffer.from([i % 256, 0]) }, priority: i % 3, ...(i === 7 ? { id: "seven" } : {}) })
    await c.put("src", "late", { delay: 60_000 })
    const file = join(tempDir(), "src.ndjson")
    const ex = await tool(["export", addr, "src", "--out", file, "--progress"])
    expect(ex.status).toBe(0)
    expect(ex.stderr).toMatch(/export src: \[#+\] 100% 2,501 of 2,501/)
    const lines = readFileSync(file, "utf8").trim().split("\n")
    expect(lines).toHaveLength(2501)
    const im = await tool(["import", addr, "dst", "--in", file])
    expect(im).toMatchObject({ status: 0, stdout: "imported 2501 messages into dst\n" })
    const s = (await c.stats("dst")).queues.dst!
    expect(s).toMatchObject({ ready: 2500, delayed: 1, total: 2501 })
    const first = (await c.peek("dst", { count: 1 }))[0]!
    expect(first.priority).toBe(0)
    expect(first.headers).toEqual({ i: 0, bin: Buffer.from([0, 0]) })
    expect((await c.peekMessage({ queue: "dst", id: "seven" }))!.body.toString()).toBe("m7")
    // From stdin to stdout too.
    const out = await tool(["export", addr, "dst"])
    expect(out.stdout.trim().split("\n")).toHaveLength(2501)
    expect((await tool(["import", addr, "third"], out.stdout)).stdout).toBe("imported 2501 messages into third\n")
    // A line that is not JSON: exit 2, naming it.
    writeFileSync(file, '{"body":"eA=="}\nnot json\n')
    const bad = await tool(["import", addr, "fourth", "--in", file])
    expect(bad.status).toBe(2)
    expect(bad.stderr).toMatch(/line 2 is not JSON/)
  }, 90_000)

  it("tail follows lifecycle events (human and --json), of one queue or all", async () => {
    const dev = await startDevice({ events: ["tcp://127.0.0.1:*"] })
    const addr = dev.lastEndpoint!
    const child = spawn(process.execPath, ["--import", "tsx", CLI, "tail", addr, "jobs", "--json"], { stdio: ["ignore", "pipe", "pipe"] })
    onCleanup(() => void child.kill("SIGKILL"))
    const events: Record<string, unknown>[] = []
    createInterface({ input: child.stdout! }).on("line", (l) => events.push(JSON.parse(l) as Record<string, unknown>))
    const c = client(dev)
    // The subscription joins asynchronously: put until the first event shows (bounded), then the real work.
    const deadline = Date.now() + 20_000
    while (events.length === 0 && Date.now() < deadline) {
      await c.put("jobs", "probe")
      await new Promise((r) => setTimeout(r, 100))
    }
    expect(events.length).toBeGreaterThan(0)
    await c.put("other", "not shown")
    const { seq } = await c.put("jobs", "watched")
    const d = (await c.reserve("jobs", { timeout: 1000 }))!
    await d.ack()
    const until = Date.now() + 10_000
    while (!events.some((e) => e.type === "ack") && Date.now() < until) await new Promise((r) => setTimeout(r, 50))
    expect(events.some((e) => e.type === "put" && e.seq === seq)).toBe(true)
    expect(events.some((e) => e.type === "deliver" && e.queue === "jobs")).toBe(true)
    expect(events.some((e) => e.type === "ack")).toBe(true)
    expect(events.every((e) => e.queue === "jobs")).toBe(true)
    child.kill("SIGINT")
    const code = await new Promise<number | null>((r) => child.once("exit", (c) => r(c)))
    expect(code).toBe(0)
    // Without events on the device: a clear error.
    const plain = await startDevice()
    const t = await tool(["tail", plain.lastEndpoint!])
    expect(t.status).toBe(1)
    expect(t.stderr).toMatch(/publishes no events/)
  }, 60_000)

  it("PLAIN credentials; bad arguments exit 2 with one line; a device that is not there exits 1 after --timeout", async () => {
    const access = {
      users: [
        { name: "ops", password: "0ps", allow: [{ queues: "*", rights: ["put", "consume", "admin"] as ("put" | "consume" | "admin")[] }] },
      ],
    }
    const dev = await startDevice({ access, socket: { plainServer: true } })
    const addr = dev.lastEndpoint!
    expect((await tool(["put", addr, "q", "x", "--user", "ops", "--password", "0ps"])).status).toBe(0)
    const wrong = await tool(["stats", addr, "--user", "ops", "--password", "nope", "--timeout", "1000"])
    expect(wrong.status).toBe(1)
    expect(wrong.stderr).toMatch(/TIMEOUT: no answer from/)
    const port = await freePort()
    const gone = await tool(["stats", `tcp://127.0.0.1:${port}`, "--timeout", "500"])
    expect(gone).toMatchObject({ status: 1, stdout: "" })
    expect(gone.stderr).toBe(`omq-queue stats: TIMEOUT: no answer from tcp://127.0.0.1:${port} within 500 ms\n`)
    for (const [args, message] of [
      [["stats"], /address comes first/],
      [["peek", "tcp://127.0.0.1:1", "q", "--state", "nope"], /--state must be/],
      [["kick", "tcp://127.0.0.1:1", "q", "--all", "--seq", "3"], /exclude each other/],
      [["put", "tcp://127.0.0.1:1", "q", "a", "b", "--id", "x"], /exactly one BODY/],
      [["stats", "tcp://127.0.0.1:1", "--bogus"], /Unknown option/],
      [["stats", "tcp://127.0.0.1:1", "--timeout=-5"], /--timeout must be/],
      [["frobnicate"], /unknown command "frobnicate"/],
    ] as const) {
      const r = await tool([...args])
      expect(r.status).toBe(2)
      expect(r.stderr).toMatch(message)
      expect(r.stderr.trim().split("\n").length).toBeLessThanOrEqual(r.stderr.includes("usage:") ? 100 : 1)
    }
  }, 90_000)
})
