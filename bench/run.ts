/**
 * Benchmark runner: `npm run bench [-- options]`.
 *
 *   --quick             small N, 1 run: a smoke test in a few seconds   (env BENCH_QUICK=1)
 *   --runs N            repetitions per scenario and lib, median kept  (env BENCH_RUNS, default 3)
 *   --lib a,b           omq and/or zeromq, or systems of a scenario    (env BENCH_LIBS, default: all each scenario has)
 *                       that has its own (e.g. pg-boss, libzmq-c); see `systems` in scenario.ts
 *   --scenario a,b      scenario names or prefixes, e.g. pushpull      (env BENCH_SCENARIOS)
 *   --prof              CPU-profile the omq peers (1 run), print a summary of each profile
 *   --timeout S         whole-run limit in seconds                      (env BENCH_TIMEOUT, default 360)
 *   --list              list scenarios and exit
 *
 * Exit 0 when every trial succeeded, 1 if any failed, 2 on bad usage or global timeout.
 */
import { execFileSync } from "node:child_process"
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs"
import { cpus, loadavg } from "node:os"
import { join } from "node:path"
import { parseArgs } from "node:util"
import { LIBS, isLibName, missingSockets } from "./libs.js"
import { livePeers, ROOT } from "./proc.js"
import { summarize } from "./prof-summary.js"
import type { Metric, Scenario } from "./scenario.js"
import { SCENARIOS } from "./scenarios.js"
import { fmt, median, spread, table } from "./stats.js"

const env = process.env
const { values: opt } = parseArgs({
  options: {
    quick: { type: "boolean", default: env.BENCH_QUICK === "1" },
    runs: { type: "string", default: env.BENCH_RUNS },
    lib: { type: "string", default: env.BENCH_LIBS ?? "" },
    scenario: { type: "string", default: env.BENCH_SCENARIOS ?? "" },
    prof: { type: "boolean", default: false },
    timeout: { type: "string", default: env.BENCH_TIMEOUT ?? "360" },
    list: { type: "boolean", default: false },
  },
  strict: true,
})

function usage(msg: string): never {
  console.error(`bench: ${msg} (see the options at the top of bench/run.ts)`)
  process.exit(2)
}

if (opt.list) {
  for (const s of SCENARIOS) console.log(`${s.name}  [${s.sockets.join(", ")}]`)
  process.exit(0)
}

const wanted = opt.scenario.split(",").filter(Boolean)
const scenarios = wanted.length === 0 ? SCENARIOS : SCENARIOS.filter((s) => wanted.some((w) => s.name.startsWith(w)))
if (scenarios.length === 0) usage(`no scenario matches "${opt.scenario}"; try --list`)
/** --lib as given (undefined: every library or system of each scenario). */
const libFilter = opt.lib ? opt.lib.split(",").filter(Boolean) : undefined
const known = new Set<string>([...LIBS, ...SCENARIOS.flatMap((s) => s.systems ?? [])])
for (const l of libFilter ?? []) if (!known.has(l)) usage(`unknown lib "${l}" (known: ${[...known].join(", ")})`)
/** The rows of scenario `s`: omq and zeromq, or its own systems; those --lib names. */
const libsOf = (s: Scenario): readonly string[] => (s.systems ?? LIBS).filter((l) => libFilter === undefined || libFilter.includes(l))
const runs = opt.prof ? 1 : Number(opt.runs ?? (opt.quick ? 1 : 3))
if (!Number.isInteger(runs) || runs < 1) usage(`bad --runs ${opt.runs}`)
const timeoutS = Number(opt.timeout)
if (!(timeoutS > 0)) usage(`bad --timeout ${opt.timeout}`)

const PROF_DIR = join(ROOT, "bench", ".prof")
const profFile = (scenario: string, role: string) => `omq-${scenario}-${role}.cpuprofile`

type Key = `${string}/${string}`
const samples = new Map<Key, Record<string, number>[]>()
const failures = new Map<Key, string>()
const skipped = new Map<Key, string>()

// Hard stop for the whole run: kill every peer, still print what was measured.
setTimeout(() => {
  for (const p of livePeers) p.kill()
  console.error(`\nbench: global timeout after ${timeoutS} s; partial results:`)
  report()
  process.exit(2)
}, timeoutS * 1000).unref()
process.on("SIGINT", () => {
  for (const p of livePeers) p.kill()
  process.exit(130)
})

async function main(): Promise<void> {
  console.log(
    `bench: ${scenarios.map((s) => s.name).join(", ")} x ${libFilter?.join(", ") ?? "every library"}, ${runs} run(s)${opt.quick ? ", quick" : ""}${opt.prof ? ", profiling omq" : ""}`,
  )
  console.log(machine())
  if (opt.prof) mkdirSync(PROF_DIR, { recursive: true })
  for (const s of scenarios) {
    // No stale profile from an earlier run may pass for this one's.
    if (opt.prof)
      for (const role of profRoles(s))
        for (const f of [profFile(s.name, role), `${profFile(s.name, role)}.window.json`]) rmSync(join(PROF_DIR, f), { force: true })
    for (const lib of libsOf(s)) {
      // A scenario's own systems other than omq do not use the sockets.
      const missing = isLibName(lib) ? await missingSockets(lib, s.sockets) : []
      const why = missing.length ? `${lib} lacks ${missing.join(", ")}` : await s.unavailable?.(lib)
      if (why !== undefined) skipped.set(`${s.name}/${lib}`, why)
    }
    // Runs interleave the libraries, so drift in machine load hits all alike.
    try {
      for (let run = 1; run <= runs; run++) {
        for (const lib of libsOf(s)) await trial(s, lib, run)
      }
    } finally {
      await s.teardown?.()
    }
  }
  report()
  console.log(
    `load average at end: ${loadavg()
      .map((x) => x.toFixed(2))
      .join(" ")}`,
  )
  if (opt.prof) printProfiles()
  if (failures.size > 0) process.exit(1)
}

/** What the figures depend on, for RESULTS.md; load average shows if something else was competing for the CPUs. */
function machine(): string {
  const zmq = JSON.parse(readFileSync(join(ROOT, "node_modules", "zeromq", "package.json"), "utf8")) as { version: string }
  const git = (...a: string[]) => {
    try {
      return execFileSync("git", a, { cwd: ROOT, encoding: "utf8" }).trim()
    } catch {
      return "?"
    }
  }
  // lib/ is edited concurrently: say which code was measured.
  const dirty = git("status", "--porcelain", "--", "lib") ? " (lib/ has uncommitted changes)" : ""
  return `omq at ${git("rev-parse", "--short", "HEAD")}${dirty}\nmachine: ${cpus().length} CPUs (${cpus()[0]?.model ?? "?"}), node ${process.version}, zeromq ${zmq.version}, load average ${loadavg()
    .map((x) => x.toFixed(2))
    .join(" ")}`
}

async function trial(s: Scenario, lib: string, run: number): Promise<void> {
  const key: Key = `${s.name}/${lib}`
  if (skipped.has(key) || failures.has(key)) return // a failed lib is not retried: its timeouts would eat the budget
  const t0 = performance.now()
  try {
    const r = await s.trial({
      lib: isLibName(lib) ? lib : "omq",
      system: lib,
      quick: opt.quick,
      timeoutMs: opt.quick ? 15_000 : 30_000,
      profArgs: (role) =>
        opt.prof && lib === "omq" ? ["--cpu-prof", "--cpu-prof-dir", PROF_DIR, "--cpu-prof-name", profFile(s.name, role)] : [],
    })
    samples.set(key, [...(samples.get(key) ?? []), r])
    const figures = s.metrics.map((m) => `${fmt(r[m.key]!, m.digits)} ${m.label}`).join(", ")
    console.log(`  ${s.name} ${lib} run ${run}: ${figures} (${fmt((performance.now() - t0) / 1000, 1)} s)`)
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err)
    failures.set(key, msg)
    console.log(`  ${s.name} ${lib} run ${run}: FAILED after ${fmt((performance.now() - t0) / 1000, 1)} s`)
  }
}

/** Ratio of one metric's medians, omq against another library, oriented so that >1 always means omq is better. */
function ratio(m: Metric, omq: number | undefined, other: number | undefined): number {
  if (omq === undefined || other === undefined) return NaN
  return m.better === "higher" ? omq / other : other / omq
}

/** One table per metric set (scenarios of the same kind share columns); ratios on the first metric and on those marked `ratio`. */
function report(): void {
  const groups = new Map<string, Scenario[]>()
  for (const s of scenarios) {
    // A scenario with its own systems reads its ratios on the other rows (omq/this): its own table.
    const k = s.metrics.map((m) => m.label).join("|") + (s.systems ? "|systems" : "")
    groups.set(k, [...(groups.get(k) ?? []), s])
  }
  for (const group of groups.values()) {
    const metrics = group[0]!.metrics
    const ratioMetrics = metrics.filter((m, i) => i === 0 || m.ratio)
    const rows: string[][] = []
    for (const s of group) {
      const med = (lib: string) => {
        const xs = samples.get(`${s.name}/${lib}`)
        return xs?.length ? Object.fromEntries(metrics.map((m) => [m.key, median(xs.map((x) => x[m.key]!))])) : undefined
      }
      const p = metrics[0]!
      for (const lib of libsOf(s)) {
        const key: Key = `${s.name}/${lib}`
        const m = med(lib)
        const xs = (samples.get(key) ?? []).map((x) => x[p.key]!)
        const note = failures.has(key) ? "FAILED" : skipped.has(key) ? `skipped: ${skipped.get(key)}` : ""
        // omq vs zeromq on omq's row; with a scenario's own systems, omq vs each other system on that system's row.
        const ratios = ratioMetrics.map((rm) => {
          const shown = s.systems ? lib !== "omq" : lib === "omq"
          const r = ratio(rm, med("omq")?.[rm.key], med(s.systems ? lib : "zeromq")?.[rm.key])
          return shown && Number.isFinite(r) ? `${fmt(r, 2)}x` : ""
        })
        rows.push([
          s.name,
          lib,
          ...metrics.map((mt) => (m ? fmt(m[mt.key]!, mt.digits) : "-")),
          xs.length > 1 ? `±${fmt((100 * spread(xs)) / 2, 0)}%` : "",
          ...ratios,
          note,
        ])
      }
    }
    // The header says which way each ratio was taken; either way >1 means omq is better.
    const other = group[0]!.systems ? "this" : "zeromq"
    const ratioHeader = (m: Metric) =>
      (ratioMetrics.length > 1 ? `${m.label.replace(/ .*/, "")} ` : "") + (m.better === "higher" ? `omq/${other}` : `${other}/omq`)
    const header = ["scenario", "lib", ...metrics.map((m) => m.label), "spread", ...ratioMetrics.map(ratioHeader), "note"]
    console.log(
      "\n" +
        table(
          header,
          rows,
          header.map((_, i) => i >= 2 && i < header.length - 1),
        ),
    )
    const lower = ratioMetrics.filter((m) => m.better === "lower").map((m) => m.label)
    console.log(
      `spread on ${metrics[0]!.label}; ratios >1 mean omq is better` +
        (lower.length ? ` (${lower.join(", ")}: lower is better, so those ratios are ${other}/omq)` : ""),
    )
  }
  console.log(`\nmedian of ${runs} run(s); spread = half of (max-min)/median over the runs; MB = 10^6 bytes`)
  for (const [key, msg] of failures) console.log(`\nFAILED ${key}:\n  ${msg.replace(/\n/g, "\n  ")}`)
}

function profRoles(s: Scenario): readonly string[] {
  return s.profRoles ?? ["send", "recv"]
}

function printProfiles(): void {
  for (const s of scenarios) {
    for (const role of profRoles(s)) {
      const f = join(PROF_DIR, profFile(s.name, role))
      if (existsSync(f)) console.log(`\n=== omq ${s.name} ${role} ===\n${summarize(f, 12)}`)
    }
  }
}

main().catch((err: unknown) => {
  console.error("bench: runner error:", err)
  for (const p of livePeers) p.kill()
  process.exit(1)
})
