/**
 * All scenarios, in run order. To add one (REQ/REP latency, DEALER->ROUTER
 * echo, PUB/SUB fan-out...): write NAME-peer.ts (a child process, using
 * child.ts helpers) and NAME.ts exporting a Scenario whose trial() spawns the
 * peers with proc.ts, then list it here. Socket types use the zeromq.js
 * export names ("Request", "Reply", "Dealer", "Router", "Publisher", "Subscriber");
 * a library lacking one is reported as skipped, not failed.
 */
import { pushPull } from "./pushpull.js"
import type { Scenario } from "./scenario.js"

export const SCENARIOS: readonly Scenario[] = [
  pushPull({ name: "pushpull-64B", size: 64, count: 2_000_000, quickCount: 20_000 }),
  pushPull({ name: "pushpull-64KiB", size: 64 * 1024, count: 40_000, quickCount: 1_000 }),
]
