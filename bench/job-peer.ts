/**
 * What the job-queue benchmarks' peers share (pg-queue-peer.ts, redis-queue-peer.ts): the
 * payloads, and omq's producer and consumer roles. Each peer brings its own put loop (how it
 * stops, what it samples) and its own completion counter.
 */
import { randomBytes } from "node:crypto"
import type * as OmqQueue from "../lib/entry/queue.js"
import { emit, hrUs, markProfileWindow, num, parentCommand, sleep } from "./child.js"
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

const now = () => performance.timeOrigin + performance.now()

/**
 * The consumer's bookkeeping: `completed(n)` for each batch of confirmed completions; `done`
 * resolves with the time (ms since the epoch) the last of the `target` jobs (sent by the runner
 * on stdin once the producer is done) was confirmed. `drained`, when given, is asked once the
 * count is reached (pg-boss and graphile-worker complete jobs after the handler returns: the job
 * table is the judge). `finished()`: done has resolved.
 */
export function completion(drained?: () => Promise<boolean>): {
  completed: (n: number) => void
  done: Promise<number>
  finished: () => boolean
} {
  let target = Infinity
  let count = 0
  let over = false
  let checking = false
  let resolve!: (t: number) => void
  let reject!: (e: unknown) => void
  const done = new Promise<number>((res, rej) => ((resolve = res), (reject = rej)))
  const finish = () => {
    over = true
    resolve(now())
  }
  const check = () => {
    if (count < target || checking || over) return
    if (drained === undefined) return finish()
    checking = true
    const poll = async (): Promise<void> => {
      while (!(await drained())) await sleep(2)
      finish()
    }
    poll().catch(reject)
  }
  parentCommand().then((line) => {
    target = num(line, "target")
    check()
  }, reject)
  return {
    completed: (n) => {
      count += n
      check()
    },
    done,
    finished: () => over,
  }
}

/** windowed()'s options from a producer's --count, --window and --seconds, starting now. */
export function windowOptions(a: { count?: string | undefined; window?: string | undefined; seconds?: string | undefined }): {
  count: number
  window: number
  budgetMs: number
  start: number
} {
  return { count: num(a.count, "count"), window: num(a.window, "window"), budgetMs: num(a.seconds, "seconds") * 1000, start: performance.now() }
}
