/**
 * What the devices built on the queue's store (the durable streamer and forwarder, Titanic)
 * share: opening the embedded store with the queue device's defaults, and where their sockets
 * bind and connect.
 */
import { FileBackend } from "./file-backend.js"
import type { FsyncPolicy } from "./journal/store.js"
import { DEFAULTS } from "./server/device.js"

/**
 * A lease that only ends with the device (about 24.8 days, what a timer can wait): the streamer
 * and forwarder settle a delivery as soon as their socket takes it, never by its lease.
 */
export const LEASE_UNTIL_CLOSED = 2_147_000_000

/**
 * The embedded store in `dir` (locked while the device runs), with the queue device's segment,
 * checkpoint and repair settings; `fsync` defaults to "always". `dedup` and `ttr` are the
 * model's dedup window and default lease (default: the queue device's).
 */
export function openDeviceStore(
  dir: string,
  fsync: FsyncPolicy | undefined,
  model: { dedupWindowMs?: number; defaultTtr?: number } = {},
): FileBackend {
  return FileBackend.open({
    dir,
    fsync: fsync ?? DEFAULTS.fsync,
    segmentBytes: DEFAULTS.segmentBytes,
    checkpointBytes: DEFAULTS.checkpointBytes,
    checkpointIntervalMs: DEFAULTS.checkpointIntervalMs,
    repair: DEFAULTS.repair,
    dedupWindowMs: model.dedupWindowMs ?? DEFAULTS.dedupWindowMs,
    defaultTtr: model.defaultTtr ?? DEFAULTS.defaultTtr,
  })
}

/** Where one of a device's sockets binds and connects. */
export interface DeviceEnds {
  bind?: string[]
  connect?: string[]
}

/** Binds (and waits for each bind) and connects `socket` as `ends` says. */
export async function attachEnds(
  socket: { bind(address: string): Promise<void>; connect(address: string): void },
  ends: DeviceEnds,
): Promise<void> {
  for (const a of ends.bind ?? []) await socket.bind(a)
  for (const a of ends.connect ?? []) socket.connect(a)
}

/** The options every durable device between ZeroMQ peers has. */
export interface DurableDeviceOptions {
  /** The store's directory (locked while the device runs). */
  dir: string
  /** Where the front-end socket binds and connects (producers, publishers). */
  frontEnd: DeviceEnds
  /** Where the back-end socket binds and connects (consumers, subscribers). */
  backEnd: DeviceEnds
  /** Messages read and stored per batch at most (default 1000). */
  batch?: number
}
