/** Shared set-up for queue tests: temp dirs, devices and clients closed after each test. */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach } from "vitest"
import { QueueClient, type QueueClientOptions, QueueDevice, type QueueDeviceOptions } from "../../lib/entry/queue.js"

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

/** A device on a temp dir (or `dir`), bound to tcp://127.0.0.1:*, closed after the test. */
export async function startDevice(options: Partial<QueueDeviceOptions> = {}): Promise<QueueDevice> {
  const device = new QueueDevice({ dir: options.dir ?? tempDir(), ...options })
  cleanup.push(() => device.close())
  await device.bind("tcp://127.0.0.1:*")
  return device
}

export function client(device: QueueDevice | string, options: QueueClientOptions = {}): QueueClient {
  const c = new QueueClient(typeof device === "string" ? device : device.lastEndpoint!, options)
  cleanup.push(() => c.close(200))
  return c
}

/** Runs `f` after the current test's other cleanups (registered earlier run later). */
export function onCleanup(f: () => Promise<void> | void): void {
  cleanup.push(f)
}
