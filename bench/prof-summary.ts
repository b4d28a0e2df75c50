/**
 * Summarizes a V8 .cpuprofile (from `node --cpu-prof`): top functions by
 * self time, and self time per source file. Usable on its own:
 *   npx tsx bench/prof-summary.ts bench/.prof/omq-pushpull-64B-send.cpuprofile [topN]
 */
import { existsSync, readFileSync } from "node:fs"
import { pathToFileURL } from "node:url"
import { ROOT } from "./proc.js"
import { fmt, table } from "./stats.js"

interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
}
interface Profile {
  startTime: number
  nodes: ProfileNode[]
  samples: number[]
  timeDeltas: number[]
}

const rootUrl = pathToFileURL(ROOT).href

function where(url: string): string {
  if (url === "") return "(native/vm)"
  return url.startsWith(rootUrl) ? url.slice(rootUrl.length) : url.replace(/^.*\/node_modules\//, "node_modules/")
}

export function summarize(file: string, top = 15): string {
  const p = JSON.parse(readFileSync(file, "utf8")) as Profile
  const byId = new Map(p.nodes.map((n) => [n.id, n]))
  const byFn = new Map<string, number>()
  const byFile = new Map<string, number>()
  // Only the measured phase, if the peer recorded it (see markProfileWindow in child.ts).
  const win = existsSync(`${file}.window.json`)
    ? (JSON.parse(readFileSync(`${file}.window.json`, "utf8")) as { startUs: number; endUs: number })
    : { startUs: -Infinity, endUs: Infinity }
  let total = 0
  let t = p.startTime
  p.samples.forEach((id, i) => {
    const dt = p.timeDeltas[i] ?? 0 // µs since the previous sample, attributed to this one
    t += dt
    if (t < win.startUs || t > win.endUs) return
    const f = byId.get(id)!.callFrame
    const file = where(f.url)
    // tsx emits each module on one line, so TS line numbers are useless; node: internals keep theirs.
    const fn = `${f.functionName || "(anonymous)"} ${file}${f.lineNumber > 0 ? `:${f.lineNumber + 1}` : ""}`
    byFn.set(fn, (byFn.get(fn) ?? 0) + dt)
    byFile.set(file, (byFile.get(file) ?? 0) + dt)
    total += dt
  })
  const rows = (m: Map<string, number>) =>
    [...m]
      .sort((x, y) => y[1] - x[1])
      .slice(0, top)
      .map(([k, us]) => [fmt(us / 1000, 0), fmt((100 * us) / total, 1), k])
  return [
    `${file}: ${fmt(total / 1e6, 2)} s sampled${Number.isFinite(win.startUs) ? " (measured phase only)" : ""}`,
    table(["self ms", "%", "function (file)"], rows(byFn), [true, true, false]),
    "",
    table(["self ms", "%", "file"], rows(byFile), [true, true, false]),
  ].join("\n")
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const [file, top] = process.argv.slice(2)
  if (!file) {
    console.error("usage: tsx bench/prof-summary.ts FILE.cpuprofile [topN]")
    process.exit(2)
  }
  console.log(summarize(file, top ? Number(top) : 15))
}
