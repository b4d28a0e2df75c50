/** Shared set-up for queue tests: temp dirs, devices and clients closed after each test. */
import { spawn, type ChildProcess } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { createInterface } from "node:readline"
import { fileURLToPath } from "node:url"
import { afterEach, beforeEach } from "vitest"
import { MemoryBackend } from "../../lib/devices/queue/memory-backend.js"
import { QueueClient, type QueueClientOptions, QueueDevice, type QueueDeviceOptions } from "../../lib/entry/queue.js"
import type { AccessList } from "../../lib/devices/queue/server/access.js"
import { postgresAvailable, sharedPostgres } from "../helpers/postgres.js"
import { waitFor } from "../helpers.js"

/** A fresh, empty database on the run's PostgreSQL server (its connection string). */
export async function freshDatabase(): Promise<string> {
  const server = await sharedPostgres()
  return server.createDatabase(`omq_${process.pid}_${++databases}_${Date.now() % 100000}`)
}

/**
 * The backends the backend-independent suites run against: the embedded file store, the
 * in-memory one, PostgreSQL (a real server the run starts, test/helpers/postgres.ts; where
 * it is missing those runs skip with a printed reason, under CI they fail), and "shared": two
 * shared devices on one PostgreSQL database, the tests' clients talking to the follower (every
 * request forwarded to the leader).
 */
export type BackendKind = "file" | "memory" | "postgres" | "shared"
export const BACKENDS: readonly BackendKind[] = postgresAvailable() ? ["file", "memory", "postgres", "shared"] : ["file", "memory"]
let databases = 0
let backendKind: BackendKind = "file"

/** In a describe: its tests' startDevice() serves `kind` (unless the test gives a dir of its own). */
export function useBackend(kind: BackendKind): void {
  beforeEach(() => {
    backendKind = kind
  })
  afterEach(() => {
    backendKind = "file"
  })
}

function memoryBackend(o: Partial<QueueDeviceOptions>): MemoryBackend {
  return new MemoryBackend({
    ...(o.dedupWindowMs === undefined ? {} : { dedupWindowMs: o.dedupWindowMs }),
    ...(o.defaultTtr === undefined ? {} : { defaultTtr: o.defaultTtr }),
  })
}

const cleanup: (() => Promise<void> | void)[] = []

afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) {
    try {
      await f()
    } catch {
      // best effort
    }
  }
})

/** A fresh directory under os.tmpdir(), removed after the test. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "omq-queue-test-"))
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

/**
 * A device on a temp dir (or `dir`), bound to tcp://127.0.0.1:*, closed after the test. Inside
 * useBackend("memory"), and without a `dir`, it serves a MemoryBackend instead.
 */
export async function startDevice(options: Partial<QueueDeviceOptions> = {}): Promise<QueueDevice> {
  const own = options.dir !== undefined || options.backend !== undefined || options.store !== undefined
  const memory = backendKind === "memory" && !own
  const store = (backendKind === "postgres" || backendKind === "shared") && !own ? await freshDatabase() : undefined
  if (backendKind === "shared" && store !== undefined) {
    // The leader first (it takes the database), then the follower the test talks to.
    const leader = new QueueDevice({ dir: "", ...options, store, shared: true })
    cleanup.push(() => leader.close())
    await leader.bind("tcp://127.0.0.1:*")
    const follower = new QueueDevice({ dir: "", ...options, store, shared: true })
    cleanup.push(() => follower.close())
    await follower.bind("tcp://127.0.0.1:*")
    if (follower.role !== "follower") throw new Error(`the second shared device is ${follower.role}, not a follower`)
    return follower
  }
  const device = new QueueDevice({
    dir: options.dir ?? tempDir(),
    ...options,
    ...(memory ? { backend: memoryBackend(options) } : {}),
    ...(store === undefined ? {} : { store }),
  })
  cleanup.push(() => device.close())
  await device.bind("tcp://127.0.0.1:*")
  return device
}

/** A client of `device` (or of endpoints: several are devices taking over from each other), closed after the test. */
export function client(device: QueueDevice | string | string[], options: QueueClientOptions = {}): QueueClient {
  const c = new QueueClient(device instanceof QueueDevice ? device.lastEndpoint! : device, options)
  cleanup.push(() => c.close(200))
  return c
}

/** Runs `f` after the current test's other cleanups (registered earlier run later). */
export function onCleanup(f: () => Promise<void> | void): void {
  cleanup.push(f)
}

const PG_DEVICE = fileURLToPath(new URL("./fixtures/pg-device.ts", import.meta.url))

/**
 * A device on PostgreSQL in a child process (fixtures/pg-device.ts), killed after the test:
 * `serving` resolves with its endpoint once it serves (a standby: once it took over; a shared
 * device: at once, leading or following), `leading` once it leads.
 */
export function startPgDevice(
  url: string,
  endpoint: string,
  mode?: "standby" | "shared",
): { child: ChildProcess; serving: Promise<string>; leading: Promise<void> } {
  const child = spawn(process.execPath, ["--import", "tsx", PG_DEVICE, url, endpoint, ...(mode === undefined ? [] : [mode])], {
    stdio: ["ignore", "pipe", "pipe"],
  })
  let stderr = ""
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()))
  const exited = new Promise<never>((_, reject) => child.once("exit", (code) => reject(new Error(`device exited with ${code}: ${stderr}`))))
  const lines = createInterface({ input: child.stdout! })
  const serving = Promise.race([
    new Promise<string>((resolve) => lines.once("line", (line) => resolve((JSON.parse(line) as { endpoint: string }).endpoint))),
    exited,
  ])
  const leading = Promise.race([
    new Promise<void>((resolve) => lines.on("line", (line) => (JSON.parse(line) as { role?: string }).role === "leader" && resolve())),
    exited,
  ])
  serving.catch(() => {})
  leading.catch(() => {})
  onCleanup(() => void child.kill("SIGKILL"))
  return { child, serving, leading }
}

/**
 * Work that runs through a fail-over: 4 producers put ids (each put with that id, so a retry
 * after a retryable failure stores it once), one consumer acks them. What it records: confirmed
 * puts, confirmed acks, what was seen, and violations (a delivery after its ack was confirmed, a
 * put failing with a code not in `retryable`). finish() stops the producers, waits (bounded) for
 * every confirmed put to be delivered, closes the consumer, and returns the violations and the
 * confirmed puts never delivered (both should be empty).
 */
export function failoverWork(
  producer: QueueClient,
  consumer: QueueClient,
  retryable: readonly string[] = ["DISCONNECTED"],
): {
  confirmed: Set<string>
  acked: Set<string>
  finish(): Promise<{ violations: string[]; lost: string[] }>
} {
  const confirmed = new Set<string>()
  const acked = new Set<string>()
  const seen = new Set<string>()
  const violations: string[] = []
  let next = 0
  let stop = false
  const producing = Array.from({ length: 4 }, async () => {
    while (!stop) {
      const id = `p${next++}`
      for (;;) {
        try {
          await producer.put("work", id, { id })
          confirmed.add(id)
          break
        } catch (err) {
          if (stop) return
          if (!retryable.includes((err as { code?: string }).code ?? "")) return void violations.push(`put ${id}: ${(err as Error).message}`)
        }
      }
    }
  })
  const consuming = (async () => {
    for await (const d of consumer.consume("work", { credit: 32 })) {
      const id = d.body.toString()
      if (acked.has(id)) violations.push(`${id} delivered again after its ack was confirmed`)
      seen.add(id)
      d.ack().then(
        () => acked.add(id),
        () => {},
      )
    }
  })().catch(() => {})
  return {
    confirmed,
    acked,
    async finish() {
      stop = true
      await Promise.all(producing)
      await waitFor(() => [...confirmed].every((id) => seen.has(id)), 30_000, "every confirmed put delivered")
      await consumer.close(200)
      await consuming
      return { violations, lost: [...confirmed].filter((id) => !seen.has(id)) }
    },
  }
}

/** An access list of two PLAIN users: shop (namespace shop, put and consume on orders*) and ops (plain namespace, every right on *). */
export const SHOP_AND_OPS: AccessList = {
  users: [
    { name: "shop", password: "s3cret", namespace: "shop", allow: [{ queues: "orders*", rights: ["put", "consume"] }] },
    { name: "ops", password: "0ps", allow: [{ queues: "*", rights: ["put", "consume", "admin"] }] },
  ],
}
