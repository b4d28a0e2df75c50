/**
 * Titanic (ZeroMQ RFC 9) over omq's Majordomo broker and the durable queue's store: requests
 * handed off while their service is down, 300 then 200 from titanic.reply, titanic.close,
 * restarts, the window between storing a reply and removing its request, and kill -9.
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { spawn, type ChildProcess } from "node:child_process"
import { createInterface } from "node:readline"
import { fileURLToPath } from "node:url"
import { afterEach, describe, expect, it } from "vitest"
import { MajordomoBroker, MajordomoClient, MajordomoWorker } from "../../lib/entry/devices.js"
import { Titanic, type TitanicOptions, type TitanicStats } from "../../lib/devices/queue/titanic.js"
import { TitanicStore, type StoredRequest } from "../../lib/devices/queue/titanic-store.js"
import { FileBackend } from "../../lib/devices/queue/file-backend.js"
import { DEFAULTS } from "../../lib/devices/queue/server/device.js"
import { closeAfterEach } from "../helpers/close-after-each.js"
import { waitFor } from "../helpers.js"

const track = closeAfterEach()
const HB = { heartbeatInterval: 100, liveness: 5 }
const strings = (frames: Buffer[]) => frames.map(String)

const dirs: string[] = []
const titanics: Titanic[] = []
afterEach(async () => {
  for (const t of titanics.splice(0)) await t.close()
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true })
})

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "omq-titanic-"))
  dirs.push(dir)
  return dir
}

async function startBroker(): Promise<string> {
  const broker = track(new MajordomoBroker(HB))
  await broker.bind("tcp://127.0.0.1:*")
  return broker.lastEndpoint!
}

async function startTitanic(broker: string, dir: string, options: Partial<TitanicOptions> = {}): Promise<Titanic> {
  const t = await Titanic.start({ broker, dir, ...HB, reconnectInterval: 100, retryInterval: 50, requestTimeout: 5000, ...options })
  titanics.push(t)
  return t
}

/** An echo service that counts what it executed. */
function echoService(broker: string, executed: string[] = []): string[] {
  track(
    new MajordomoWorker(
      broker,
      "echo",
      (body) => {
        executed.push(String(body[0]))
        return body.map((f) => `echo:${f}`)
      },
      HB,
    ),
  )
  return executed
}

/** A TSP client: an MDP client with patience for brokers that are still finding Titanic's workers. */
const tspClient = (broker: string) => track(new MajordomoClient(broker, { timeout: 5000, retries: 2 }))

async function handOff(client: MajordomoClient, service: string, ...body: string[]): Promise<string> {
  const [status, uuid] = strings(await client.request("titanic.request", service, ...body))
  expect(status).toBe("200")
  expect(uuid).toMatch(/^[0-9a-f]{32}$/)
  return uuid!
}

/** Polls titanic.reply until it answers 200 (expecting only 300 before); returns the reply frames. */
async function fetchReply(client: MajordomoClient, uuid: string, ms = 15_000): Promise<string[]> {
  let reply: string[] = []
  await waitFor(
    async () => {
      reply = strings(await client.request("titanic.reply", uuid))
      expect(["200", "300"]).toContain(reply[0])
      return reply[0] === "200"
    },
    ms,
    `the reply to ${uuid}`,
  )
  return reply.slice(1)
}

describe("Titanic (RFC 9)", () => {
  it("hand-off while the service is down: 300 until it comes up, then 200 with the reply; close → 400", async () => {
    const broker = await startBroker()
    const titanic = await startTitanic(broker, tempDir())
    const client = tspClient(broker)
    const uuid = await handOff(client, "echo", "hello", "world")
    expect(strings(await client.request("titanic.reply", uuid))).toEqual(["300"])
    expect(strings(await client.request("titanic.reply", uuid.toUpperCase()))).toEqual(["300"])
    expect(titanic.stats()).toMatchObject({ requests: 1, replies: 0 })

    const executed = echoService(broker)
    expect(await fetchReply(client, uuid)).toEqual(["echo:hello", "echo:world"])
    // Idempotent: the same reply again, and the request was executed once.
    expect(strings(await client.request("titanic.reply", uuid))).toEqual(["200", "echo:hello", "echo:world"])
    expect(executed).toEqual(["hello"])
    expect(titanic.stats()).toMatchObject({ requests: 0, replies: 1 })

    expect(strings(await client.request("titanic.close", uuid))).toEqual(["200"])
    expect(strings(await client.request("titanic.reply", uuid))).toEqual(["400"])
    expect(strings(await client.request("titanic.close", uuid))).toEqual(["200"]) // idempotent
    expect(titanic.stats()).toMatchObject({ requests: 0, replies: 0 })
  })

  it("unknown and malformed UUIDs, requests without a service", async () => {
    const broker = await startBroker()
    await startTitanic(broker, tempDir())
    const client = tspClient(broker)
    expect(strings(await client.request("titanic.reply", "0".repeat(32)))).toEqual(["400"])
    expect(strings(await client.request("titanic.reply", "not a uuid"))).toEqual(["400"])
    expect(strings(await client.request("titanic.close", "0".repeat(32)))).toEqual(["200"])
    expect(strings(await client.request("titanic.close", "not a uuid"))).toEqual(["200"])
    expect(strings(await client.request("titanic.request", ""))[0]).toMatch(/^400/)
    expect(strings(await client.request("titanic.request", "bad\nname", "x"))[0]).toMatch(/^400/)
  })

  it("closing a request that was never answered removes it: it is not dispatched later", async () => {
    const broker = await startBroker()
    const dir = tempDir()
    const titanic = await startTitanic(broker, dir)
    const client = tspClient(broker)
    const closed = await handOff(client, "echo", "closed")
    const kept = await handOff(client, "echo", "kept")
    expect(strings(await client.request("titanic.close", closed))).toEqual(["200"])
    expect(titanic.stats()).toMatchObject({ requests: 1 })
    const executed = echoService(broker)
    expect(await fetchReply(client, kept)).toEqual(["echo:kept"])
    expect(executed).toEqual(["kept"])
    expect(strings(await client.request("titanic.reply", closed))).toEqual(["400"])
  })

  it("many requests, two workers: each is executed once and each reply is the right one", async () => {
    const broker = await startBroker()
    await startTitanic(broker, tempDir(), { concurrency: 3 })
    const client = tspClient(broker)
    const uuids: string[] = []
    for (let i = 0; i < 20; i++) uuids.push(await handOff(client, "echo", `job ${i}`))
    const executed: string[] = []
    echoService(broker, executed)
    echoService(broker, executed)
    for (let i = 0; i < 20; i++) expect(await fetchReply(client, uuids[i]!)).toEqual([`echo:job ${i}`])
    expect(executed.sort()).toEqual(uuids.map((_, i) => `job ${i}`).sort())
  })

  it("requests and replies survive a restart; a close is durable too", async () => {
    const broker = await startBroker()
    const dir = tempDir()
    let titanic = await startTitanic(broker, dir)
    const client = tspClient(broker)
    const early = await handOff(client, "echo", "before the restart")
    await titanic.close()
    titanics.splice(0)
    titanic = await startTitanic(broker, dir)
    expect(titanic.stats()).toMatchObject({ requests: 1, replies: 0 })
    const executed = echoService(broker)
    expect(await fetchReply(client, early)).toEqual(["echo:before the restart"])

    await titanic.close()
    titanics.splice(0)
    titanic = await startTitanic(broker, dir)
    expect(titanic.stats()).toMatchObject({ requests: 0, replies: 1 })
    expect(strings(await client.request("titanic.reply", early))).toEqual(["200", "echo:before the restart"])
    expect(strings(await client.request("titanic.close", early))).toEqual(["200"])

    await titanic.close()
    titanics.splice(0)
    titanic = await startTitanic(broker, dir)
    expect(titanic.stats()).toMatchObject({ requests: 0, replies: 0 })
    expect(strings(await client.request("titanic.reply", early))).toEqual(["400"])
    expect(executed).toEqual(["before the restart"])
  })

  it("stopped after storing a reply and before removing its request: the next start settles it without executing it again", async () => {
    const dir = tempDir()
    // The store as Titanic leaves it between its two writes: the reply on disk, the request too.
    const store = new TitanicStore(
      FileBackend.open({ ...DEFAULTS, dir, fsync: "always", checkpointIntervalMs: 60_000, dedupWindowMs: 0, defaultTtr: 30_000 }),
    )
    let request: StoredRequest | undefined
    store.start((r) => (request = r))
    const uuid = await store.putRequest("echo", [Buffer.from("once")])
    await waitFor(() => request !== undefined, 5000, "the request delivered")
    await store.putReply(request!, [Buffer.from("the stored reply")])
    expect(store.counts).toEqual({ requests: 0, replies: 1 })
    await store.close()

    const broker = await startBroker()
    const executed = echoService(broker)
    const titanic = await startTitanic(broker, dir)
    const client = tspClient(broker)
    expect(strings(await client.request("titanic.reply", uuid))).toEqual(["200", "the stored reply"])
    await waitFor(() => titanic.stats().dispatching === 0, 5000, "the request settled")
    await titanic.close()
    titanics.splice(0)
    const again = await startTitanic(broker, dir)
    expect(again.stats()).toMatchObject({ requests: 0, replies: 1 })
    expect(executed).toEqual([])
  })

  it("one Titanic per directory: a second one fails with LOCKED", async () => {
    const broker = await startBroker()
    const dir = tempDir()
    await startTitanic(broker, dir)
    await expect(startTitanic(broker, dir)).rejects.toMatchObject({ code: "LOCKED" })
  })

  it("kill -9 of Titanic after the UUID was returned: after a restart the request is dispatched and its reply fetched", async () => {
    const broker = await startBroker()
    const dir = tempDir()
    const CHILD = fileURLToPath(new URL("./fixtures/titanic.ts", import.meta.url))
    /** Starts Titanic in a child process; resolves on its first stats line, `stats` follows the latest. */
    const start = async (): Promise<{ child: ChildProcess; stats: () => TitanicStats | undefined }> => {
      const child = spawn(process.execPath, ["--import", "tsx", CHILD, dir, broker], { stdio: ["ignore", "pipe", "pipe"] })
      let latest: TitanicStats | undefined
      let stderr = ""
      child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()))
      createInterface({ input: child.stdout! }).on("line", (line) => (latest = JSON.parse(line) as TitanicStats))
      await waitFor(() => latest !== undefined, 20_000, `the Titanic process to start (${stderr})`)
      return { child, stats: () => latest }
    }
    let titanic = await start()
    try {
      const client = tspClient(broker)
      const uuid = await handOff(client, "echo", "survive")
      // At once: the UUID is the promise that the request is on disk.
      titanic.child.kill("SIGKILL")
      await new Promise((resolve) => titanic.child.once("exit", resolve))

      const executed = echoService(broker)
      titanic = await start()
      expect(await fetchReply(client, uuid, 30_000)).toEqual(["echo:survive"])
      expect(executed).toEqual(["survive"])
      expect(strings(await client.request("titanic.close", uuid))).toEqual(["200"])
      await waitFor(() => titanic.stats()?.replies === 0, 5000, "the reply removed")
    } finally {
      titanic.child.kill("SIGKILL")
    }
  }, 90_000)
})
