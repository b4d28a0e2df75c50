/**
 * What the job-queue benchmarks' peers share (pg-queue-peer.ts, redis-queue-peer.ts): the
 * payloads, and omq's producer and consumer roles. Each peer brings its own put loop (how it
 * stops, what it samples) and its own completion counter.
 */
import { randomBytes } from "node:crypto"
import type * as OmqQueue from "../lib/entry/queue.js"
import { emit, hrUs, markProfileWindow } from "./child.js"
import { OMQ_QUEUE_ENTRY } from "./libs.js"

/** Random payloads, 4096 distinct ones cycled (256 KiB at 64 B): nothing on the way (TOAST, AOF) can compress them away. */
export const PAYLOADS = 4096

/** `size`-byte random bodies. */
export function bodies(size: number): Buffer[] {
  return Array.from({ length: PAYLOADS }, () => randomBytes(size))
}

/** The queue the benchmarks use. */
export const QUEUE = "bench"

/** omq's producer: puts `size`-byte bodies through `putLoop`, `window` in flight. */
export async function omqProducer(
  endpoint: string,
  window: number,
  size: number,
  putLoop: (put: (i: number) => Promise<unknown>) => Promise<void>,
): Promise<void> {
  const { QueueClient } = (await import(OMQ_QUEUE_ENTRY)) as typeof OmqQueue
  const client = new QueueClient(endpoint, { maxInFlight: window })
  const body = bodies(size)
  await putLoop((i) => client.put(QUEUE, body[i % PAYLOADS]!))
  await client.close()
}

/** omq's consumer: consumes with `credit`, acks each job, counts the confirmed acks into `c`; emits ready, then the result. */
export async function omqConsumer(endpoint: string, credit: number, c: { completed(n: number): void; done: Promise<number> }): Promise<void> {
  const { QueueClient } = (await import(OMQ_QUEUE_ENTRY)) as typeof OmqQueue
  const client = new QueueClient(endpoint)
  const sub = client.consume(QUEUE, { credit })
  const acked = () => c.completed(1)
  let startUs = 0
  void (async () => {
    for await (const m of sub) {
      startUs ||= hrUs()
      m.ack().then(acked, () => {})
    }
  })()
  emit({ type: "ready" })
  const doneAt = await c.done
  markProfileWindow(startUs, hrUs())
  await sub.close()
  emit({ type: "result", doneAt })
  await client.close()
}
