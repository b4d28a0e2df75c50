/**
 * All scenarios, in run order. To add one: write NAME-peer.ts (a child process,
 * using child.ts helpers) and NAME.ts exporting a Scenario whose trial() spawns
 * the peers with proc.ts, then list it here. Socket types use the zeromq.js
 * export names ("Request", "Reply", "Dealer", "Router", "Publisher", "Subscriber");
 * a library lacking one is reported as skipped, not failed.
 *
 * Sizes are chosen so the default run (3 runs x 2 libraries x 17 scenarios: 3 min 53 s) stays
 * under ~4 minutes on a 2-CPU machine: every send phase is capped at 1.5-3 s, so a
 * trial, with the ~0.5 s it takes to start each `node --import tsx` peer, takes 2-4 s.
 * pg-queue-64B (3 systems x 3 runs, plus starting PostgreSQL once) adds about 35 s;
 * redis-queue-64B (2 systems x 3 runs of 2.5-3.5 s, plus starting redis-server once) about 18 s.
 * The libzmq-from-C rows of pushpull-64B and pushpull-ipc-64B (`c: true`, issue 19) add about
 * 5 s: compiling bench/c/pushpull.c once (~0.3 s), then 0.4-1 s per trial (C is done sooner).
 * The node-net rows of the 64 KiB scenarios (`raw: true`, plain node:net, the bulk ceiling) and
 * pushpull-ipc-64KiB add about 25 s.
 */
import { dealerRouterEcho } from "./dealer-router.js"
import { DURABLE_SCENARIOS } from "./durable.js"
import { idleConnections, pushPullPeak } from "./memory.js"
import { PG_QUEUE_SCENARIOS } from "./pg-queue.js"
import { pubSubFanOut } from "./pubsub.js"
import { pushPull } from "./pushpull.js"
import { QUEUE_SCENARIOS } from "./queue.js"
import { REDIS_QUEUE_SCENARIOS } from "./redis-queue.js"
import { reqRepLatency } from "./reqrep.js"
import { STREAM_SCENARIOS } from "./stream.js"
import type { Scenario } from "./scenario.js"

const KiB = 1024

export const SCENARIOS: readonly Scenario[] = [
  pushPull({ name: "pushpull-64B", size: 64, count: 2_000_000, quickCount: 20_000, seconds: 1.5, c: true }),
  pushPull({ name: "pushpull-64KiB", size: 64 * KiB, count: 30_000, quickCount: 1_000, seconds: 1.5, raw: true }),
  pushPull({ name: "pushpull-ipc-64KiB", size: 64 * KiB, count: 30_000, quickCount: 1_000, seconds: 1.5, transport: "ipc", raw: true }),
  pushPull({ name: "pushpull-1KiB", size: KiB, count: 2_000_000, quickCount: 20_000, seconds: 1.5 }),
  pushPull({ name: "pushpull-ipc-64B", size: 64, count: 4_000_000, quickCount: 20_000, seconds: 1.5, transport: "ipc", c: true }),
  pushPull({ name: "inproc-pushpull-64B", size: 64, count: 4_000_000, quickCount: 20_000, seconds: 1.5, transport: "inproc" }),
  pushPull({ name: "inproc-pushpull-64KiB", size: 64 * KiB, count: 1_000_000, quickCount: 1_000, seconds: 1.5, transport: "inproc" }),
  pushPull({ name: "curve-pushpull-64B", size: 64, count: 1_000_000, quickCount: 20_000, seconds: 1.5, curve: true }),
  pushPull({ name: "curve-pushpull-64KiB", size: 64 * KiB, count: 20_000, quickCount: 500, seconds: 1.5, curve: true }),
  reqRepLatency({ name: "reqrep-latency-64B", size: 64, count: 20_000, warmup: 2_000, seconds: 3 }),
  pushPull({ name: "ws-pushpull-64B", size: 64, count: 2_000_000, quickCount: 20_000, seconds: 1.5, transport: "ws" }),
  pushPull({ name: "ws-pushpull-64KiB", size: 64 * KiB, count: 30_000, quickCount: 1_000, seconds: 1.5, transport: "ws" }),
  reqRepLatency({ name: "ws-reqrep-latency-64B", size: 64, count: 20_000, warmup: 2_000, seconds: 3, bind: "ws://127.0.0.1:*/bench" }),
  dealerRouterEcho({ name: "dealer-router-echo-64B", size: 64, window: 1_000, count: 2_000_000, seconds: 1.5 }),
  dealerRouterEcho({ name: "dealer-router-4x16", size: 64, window: 16, dealers: 4, warmup: 20_000, count: 2_000_000, seconds: 1.5 }),
  pubSubFanOut({ name: "pubsub-4sub-64B", size: 64, subscribers: 4, filter: false, count: 400_000, quickCount: 10_000, seconds: 2 }),
  pubSubFanOut({ name: "pubsub-4sub-filter-64B", size: 64, subscribers: 4, filter: true, count: 800_000, quickCount: 20_000, seconds: 2 }),
  pubSubFanOut({
    name: "pubsub-4sub-flood-64B",
    size: 64,
    subscribers: 4,
    filter: false,
    count: 1e9,
    quickCount: 20_000,
    seconds: 2,
    hwm: 1000,
  }),
  idleConnections({ name: "memory-1000-idle", connections: 1_000, quickConnections: 1_000, batch: 100, idleMs: 500 }),
  pushPullPeak({ name: "memory-1M-pushpull", size: 64, count: 1_000_000, quickCount: 50_000, seconds: 20 }),
  ...QUEUE_SCENARIOS,
  ...PG_QUEUE_SCENARIOS,
  ...REDIS_QUEUE_SCENARIOS,
  ...DURABLE_SCENARIOS,
  ...STREAM_SCENARIOS,
]
