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
  /** Decides how the omq/zeromq ratio reads: >1 is always "omq better". */
  better: "higher" | "lower"
  /** Also show an omq-vs-zeromq ratio column for this metric (the first metric always has one). */
  ratio?: boolean
}

export interface TrialContext {
  lib: LibName
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
  /** One measurement; the runner repeats it and takes medians per metric. */
  trial(ctx: TrialContext): Promise<Record<string, number>>
}
