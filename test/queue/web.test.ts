/**
 * The device's HTTP side without a browser (the browser test is test/browser/queue-web.test.ts):
 * Prometheus metrics after known work (scraped, parsed, values checked), the JSON API's
 * actions and errors, tenancy, hostile HTTP (bad methods, oversized and malformed bodies,
 * cross-origin POSTs, garbage on the socket) harming nobody, and a follower's answer.
 */
import { connect } from "node:net"
import { describe, expect, it } from "vitest"
import { QueueDevice } from "../../lib/entry/queue.js"
import { postgresAvailable } from "../helpers/postgres.js"
import { waitFor } from "../helpers.js"
import { client, freshDatabase, SHOP_AND_OPS as access, startDevice } from "./queue-util.js"

/** Prometheus text exposition → samples by `name{labels}`, the labels sorted by name (see key()). */
function parseMetrics(text: string): Map<string, number> {
  const out = new Map<string, number>()
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{([^}]*)\})? (\S+)$/.exec(line)
    if (m === null) throw new Error(`not a sample line: ${line}`)
    const labels = m[2] === undefined ? [] : m[2].split(/,(?=[a-zA-Z_]+=)/)
    out.set(labels.length === 0 ? m[1]! : `${m[1]}{${labels.sort().join(",")}}`, Number(m[3]))
  }
  return out
}

/** The key parseMetrics() gives a sample: `name{a="x",b="y"}`, labels sorted by name. */
function key(name: string, labels: Record<string, string> = {}): string {
  const ls = Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .sort()
  return ls.length === 0 ? name : `${name}{${ls.join(",")}}`
}

async function post(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: Record<string, unknown> }> {
  const r = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  })
  return { status: r.status, json: (await r.json()) as Record<string, unknown> }
}

describe("queue device over HTTP", () => {
  it("metrics: counters, gauges and histograms after known work, in Prometheus's text format", async () => {
    const dev = await startDevice({ http: "0" })
    const c = client(dev)
    for (let i = 0; i < 10; i++) await c.put("jobs", `j${i}`)
    for (let i = 0; i < 6; i++) await (await c.reserve("jobs", { timeout: 1000 }))!.ack()
    await c.configure("retry", { retry: { maxAttempts: 2, delay: 0 } })
    await c.put("retry", "fails twice")
    await (await c.reserve("retry", { timeout: 1000 }))!.nack({ delay: 0 })
    await (await c.reserve("retry", { timeout: 1000 }))!.nack({ delay: 0 }) // the second attempt: a dead letter (max-attempts)
    const r = await fetch(`${dev.httpUrl}/metrics`)
    expect(r.status).toBe(200)
    expect(r.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/)
    const text = await r.text()
    for (const name of ["omq_queue_puts_total", "omq_queue_messages", "omq_queue_time_in_queue_seconds", "omq_store_sync_seconds"])
      expect(text).toMatch(new RegExp(`# TYPE ${name} (counter|gauge|histogram)`))
    const m = parseMetrics(text)
    const jobs = { namespace: "", queue: "jobs" }
    const retry = { namespace: "", queue: "retry" }
    const get = (name: string, labels: Record<string, string> = {}) => m.get(key(name, labels))
    expect(get("omq_queue_puts_total", jobs)).toBe(10)
    expect(get("omq_queue_acks_total", { ...jobs, group: "" })).toBe(6)
    expect(get("omq_queue_deliveries_total", { ...jobs, group: "" })).toBe(6)
    expect(get("omq_queue_messages", { ...jobs, state: "ready" })).toBe(4)
    expect(get("omq_queue_messages", { ...jobs, state: "reserved" })).toBe(0)
    expect(get("omq_queue_deliveries_total", { ...retry, group: "" })).toBe(2)
    expect(get("omq_queue_redeliveries_total", { ...retry, group: "" })).toBe(1)
    expect(get("omq_queue_retries_total", { ...retry, group: "", cause: "nack" })).toBe(1)
    expect(get("omq_queue_dead_letters_total", { ...retry, group: "", reason: "max-attempts" })).toBe(1)
    expect(get("omq_queue_messages", { ...retry, state: "buried" })).toBe(1)
    expect(get("omq_queue_time_in_queue_seconds_count", jobs)).toBe(6) // first deliveries
    expect(get("omq_queue_time_in_queue_seconds_count", retry)).toBe(1)
    expect(get("omq_queue_processing_seconds_count", jobs)).toBe(6) // delivery to ack
    expect(get("omq_queue_processing_seconds_bucket", { ...jobs, le: "+Inf" })).toBe(6)
    expect(get("omq_queue_processing_seconds_count", retry)).toBeUndefined() // never acked
    // fsync "always": one sync per group commit, each one timed.
    expect(get("omq_store_syncs_total")).toBeGreaterThan(0)
    expect(get("omq_store_sync_seconds_count")).toBe(get("omq_store_syncs_total"))
    expect(m.get("omq_device_leader")).toBe(1)
    expect(m.get("omq_store_disk_bytes")).toBeGreaterThan(0)
  })

  it("the JSON API: overview, peek (text, hex-able base64, CBOR), kick, pause/resume, purge; errors are typed", async () => {
    const dev = await startDevice({ http: "0" })
    const c = client(dev)
    const { encodeCbor } = await import("../../lib/devices/queue/cbor.js")
    await c.put("q", encodeCbor({ order: 7, items: ["a"] }), { headers: { kind: "cbor" } })
    await c.put("q", "plain text")
    const d = (await c.reserve("q", { timeout: 1000 }))!
    await d.bury("bad")
    const base = dev.httpUrl!
    const o = (await (await fetch(`${base}/api/overview`)).json()) as { queues: { name: string; buried: number; ready: number }[] }
    expect(o.queues.find((x) => x.name === "q")).toMatchObject({ buried: 1, ready: 1 })
    const dead = (await (await fetch(`${base}/api/queues/q/messages?state=buried`)).json()) as { messages: Record<string, unknown>[] }
    expect(dead.messages).toHaveLength(1)
    expect(dead.messages[0]).toMatchObject({ seq: d.seq, buryReason: "bad", headers: { kind: "cbor" }, cbor: { order: 7, items: ["a"] } })
    expect(Buffer.from(dead.messages[0]!.body as string, "base64")).toEqual(d.body)
    const one = (await (await fetch(`${base}/api/messages/${d.seq + 1}`)).json()) as Record<string, unknown>
    expect(one).toMatchObject({ text: "plain text", state: "ready" })
    expect(await post(`${base}/api/queues/q/kick`, { seq: d.seq })).toEqual({ status: 200, json: { kicked: 1 } })
    expect(await post(`${base}/api/queues/q/pause`, {})).toMatchObject({ status: 200 })
    expect((await c.stats("q")).queues.q!.paused).toBe(true)
    expect(await post(`${base}/api/queues/q/resume`, {})).toMatchObject({ status: 200 })
    expect(await post(`${base}/api/queues/q/purge`, {})).toEqual({ status: 200, json: { purged: 2 } })
    // Errors: typed, with the status a client expects.
    expect(await post(`${base}/api/queues/q/kick`, { seq: 999 })).toMatchObject({ status: 404, json: { error: { code: "NOT_FOUND" } } })
    expect(await post(`${base}/api/queues/q/purge`, { states: ["reserved"] })).toMatchObject({
      status: 400,
      json: { error: { code: "BAD_OPTION" } },
    })
    expect((await fetch(`${base}/api/queues/bad name!/messages`)).status).toBe(400)
    expect((await fetch(`${base}/api/messages/abc`)).status).toBe(400)
    expect((await fetch(`${base}/api/nothing`)).status).toBe(404)
    expect((await fetch(`${base}/api/overview`, { method: "DELETE" })).status).toBe(405)
  })

  it("hostile HTTP harms nobody: bad bodies, cross-origin POSTs, oversized bodies, garbage on the socket; the device and its clients carry on", async () => {
    const dev = await startDevice({ http: "0" })
    const c = client(dev)
    await c.put("q", "x")
    const base = dev.httpUrl!
    expect((await post(`${base}/api/queues/q/kick`, "{not json")).status).toBe(400)
    expect((await post(`${base}/api/queues/q/kick`, "[1,2]")).status).toBe(400)
    const noType = await fetch(`${base}/api/queues/q/pause`, { method: "POST", body: "{}" })
    expect(noType.status).toBe(400) // no Content-Type: application/json (a form post from another site)
    expect((await post(`${base}/api/queues/q/pause`, {}, { Origin: "http://evil.example" })).status).toBe(403)
    expect((await c.stats("q")).queues.q!.paused).toBeUndefined()
    expect((await post(`${base}/api/queues/q/kick`, "x".repeat(200_000))).status).toBe(413)
    // Raw garbage and a half request: the connection is answered 400 or closed, nothing else.
    const port = Number(new URL(base).port)
    for (const junk of ["\x00\x01\x02 garbage\r\n\r\n", "GET / HTTP/1.1\r\nHost: x\r\n" + "X: " + "y".repeat(20_000) + "\r\n\r\n"]) {
      const answer = await new Promise<string>((resolve) => {
        const s = connect(port, "127.0.0.1", () => s.write(junk))
        let got = ""
        s.on("data", (b) => (got += b.toString()))
        s.on("close", () => resolve(got))
        s.on("error", () => resolve(got))
        s.setTimeout(5000, () => s.destroy())
      })
      expect(answer === "" || /^HTTP\/1\.1 4\d\d/.test(answer)).toBe(true)
    }
    expect((await fetch(`${base}/api/overview`)).status).toBe(200)
    expect((await c.reserve("q", { timeout: 1000 }))!.body.toString()).toBe("x")
  })

  it("with an access list: Basic log-in as a PLAIN user, namespaces as for clients, rights enforced; metrics only for an operator", async () => {
    const dev = await startDevice({ http: "0", access, socket: { plainServer: true } })
    const shop = client(dev, { socket: { plainUsername: "shop", plainPassword: "s3cret" } })
    await shop.put("orders", "o1")
    await client(dev, { socket: { plainUsername: "ops", plainPassword: "0ps" } }).put("internal", "i1")
    const as = (u: string, p: string) => ({ Authorization: `Basic ${Buffer.from(`${u}:${p}`).toString("base64")}` })
    const base = dev.httpUrl!
    expect((await fetch(`${base}/api/overview`)).status).toBe(401)
    const view = (await (await fetch(`${base}/api/overview`, { headers: as("shop", "s3cret") })).json()) as { queues: { name: string }[] }
    expect(view.queues.map((q) => q.name)).toEqual(["orders"])
    // shop may not kick (admin) nor read metrics; ops may both.
    expect((await post(`${base}/api/queues/orders/kick`, {}, as("shop", "s3cret"))).status).toBe(403)
    expect((await fetch(`${base}/metrics`, { headers: as("shop", "s3cret") })).status).toBe(403)
    expect((await fetch(`${base}/metrics`, { headers: as("ops", "0ps") })).status).toBe(200)
    const opsView = (await (await fetch(`${base}/api/overview`, { headers: as("ops", "0ps") })).json()) as { queues: { name: string }[] }
    expect(opsView.queues.map((q) => q.name)).toEqual(["internal"]) // the plain namespace: not shop's
  })

  it("bad http options are refused; a device that cannot open leaves no web view listening", async () => {
    expect(() => new QueueDevice({ dir: "/tmp/x", http: "nowhere" })).toThrow(/http must be HOST:PORT/)
    const a = await startDevice({ http: "0" })
    const port = new URL(a.httpUrl!).port
    const b = new QueueDevice({ dir: "/tmp/omq-never", http: `127.0.0.1:${port}` })
    await expect(b.open()).rejects.toMatchObject({ code: "BAD_OPTION", message: expect.stringMatching(/cannot listen/) })
    await b.close()
  })

  // Skipped where Debian's postgresql is missing (the reason is printed); under CI=true postgresAvailable() fails instead.
  describe.skipIf(!postgresAvailable())("on shared devices", () => {
    it("a follower's web view says it follows (503 FOLLOWER); the leader's shows the queues", async () => {
      const url = await freshDatabase()
      const leader = await startDevice({ store: url, shared: true, http: "0" })
      const follower = await startDevice({ store: url, shared: true, http: "0" })
      await client(follower).put("q", "through the follower")
      const r = await fetch(`${follower.httpUrl}/api/overview`)
      expect(r.status).toBe(503)
      expect(((await r.json()) as { error: { code: string } }).error.code).toBe("FOLLOWER")
      await waitFor(
        async () => {
          const o = (await (await fetch(`${leader.httpUrl}/api/overview`)).json()) as { queues: { name: string; total: number }[] }
          return o.queues.some((q) => q.name === "q" && q.total === 1)
        },
        5000,
        "the leader's view",
      )
      const fm = await fetch(`${follower.httpUrl}/metrics`)
      expect(fm.status).toBe(200)
      expect(parseMetrics(await fm.text()).get("omq_device_leader")).toBe(0)
      expect(parseMetrics(await (await fetch(`${leader.httpUrl}/metrics`)).text()).get("omq_device_leader")).toBe(1)
    })
  })
})
