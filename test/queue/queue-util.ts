/** Shared set-up for queue tests: temp dirs, devices and clients closed after each test. */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, beforeEach } from "vitest"
import { MemoryBackend } from "../../lib/devices/queue/memory-backend.js"
import { QueueClient, type QueueClientOptions, QueueDevice, type QueueDeviceOptions } from "../../lib/entry/queue.js"
import { postgresAvailable, sharedPostgres } from "../helpers/postgres.js"

/** A fresh, empty database on the run's PostgreSQL server (its connection string). */
export async function freshDatabase(): Promise<string> {
  const server = await sharedPostgres()
  return server.createDatabase(`omq_${process.pid}_${++databases}_${Date.now() % 100000}`)
}

/**
 * The backends the backend-independent suites run against: the embedded file store, the
 * in-memory one, and PostgreSQL (a real server the run starts, test/helpers/postgres.ts; where
 * it is missing those runs skip with a printed reason, under CI they fail).
 */
export type BackendKind = "file" | "memory" | "postgres"
export const BACKENDS: readonly BackendKind[] = postgresAvailable() ? ["file", "memory", "postgres"] : ["file", "memory"]
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
  const store = backendKind === "postgres" && !own ? await freshDatabase() : undefined
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
