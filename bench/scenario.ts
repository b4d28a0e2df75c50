/**
 * What a benchmark scenario is. The runner knows nothing else about them:
 * add a file exporting a Scenario (or a factory) and list it in scenarios.ts.
 */
import type { LibName } from "./libs.js"

export interface Metric {
  key: string
  /** Column header, e.g. "msgs/s" or "p99 µs". */
  label: string
  digits: number
  /** Decides how the omq/zeromq (or omq/other system) ratio reads: >1 is always "omq better". */
  better: "higher" | "lower"
  /** Also show an omq-vs-zeromq ratio column for this metric (the first metric always has one). */
  ratio?: boolean
}

export interface TrialContext {
  /** The library of an omq-vs-zeromq scenario; in a scenario with its own `systems`, "zeromq" for that system, else "omq". */
  lib: LibName
  /** What this trial measures: `lib`, or one of the scenario's `systems`. */
  system: string
  /** Small N for a smoke run. */
  quick: boolean
  /** Node flags for the omq peers (CPU profiling), empty otherwise. */
  profArgs: (role: string) => string[]
  /** Bound for any single wait on a peer. */
  timeoutMs: number
}

export interface Scenario {
  /** Unique id, selectable with --scenario (e.g. "pushpull-64B"). */
  name: string
  /** Socket types both libraries must export (e.g. ["Push", "Pull"]); a library lacking one is skipped for this scenario. */
  sockets: readonly string[]
  /** The first metric is the one the omq/zeromq ratio is computed on. */
  metrics: readonly Metric[]
  /** Peer roles whose CPU profiles --prof prints, e.g. ["send", "recv"] (the default). */
  profRoles?: readonly string[]
  /**
   * The systems this scenario compares, in place of omq and zeromq, omq first (e.g. omq and
   * other PostgreSQL job queues, or omq, zeromq and libzmq driven from C). Each gets its own
   * row; the ratio column of every other row reads omq / that system (still >1 = omq better),
   * so such scenarios get a table of their own.
   */
  systems?: readonly string[]
  /** Why `system` cannot run on this machine (e.g. no PostgreSQL), or undefined; it is then reported as skipped. */
  unavailable?(system: string): Promise<string | undefined>
  /** One measurement; the runner repeats it and takes medians per metric. */
  trial(ctx: TrialContext): Promise<Record<string, number>>
  /** Called once after the scenario's last trial (e.g. to stop a server its trials shared). */
  teardown?(): Promise<void>
}
