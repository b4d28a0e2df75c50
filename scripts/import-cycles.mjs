#!/usr/bin/env node
// Lists import cycles between lib/ modules. `--types` counts `import type` too (a type-only
// cycle does not run, but still says two modules know each other). Exit code 1 if any.
import { readFileSync, readdirSync, statSync } from "node:fs"
import { dirname, join, relative, resolve } from "node:path"

const root = resolve(process.argv.find((a) => !a.startsWith("-") && a !== process.argv[0] && a !== process.argv[1]) ?? "lib")
const withTypes = process.argv.includes("--types")

function files(dir) {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n)
    return statSync(p).isDirectory() ? files(p) : p.endsWith(".ts") ? [p] : []
  })
}

const IMPORT = /^\s*(import|export)\s+(type\s+)?([^;]*?)\s+from\s+"(\.[^"]+)"/gm
const SIDE_EFFECT = /^\s*import\s+"(\.[^"]+)"/gm
const graph = new Map()
for (const f of files(root)) {
  const src = readFileSync(f, "utf8")
  const deps = new Set()
  for (const m of src.matchAll(IMPORT)) {
    const typeOnly = m[2] !== undefined || /^\{\s*(type\s+[^,}]+,?\s*)+\}$/.test(m[3])
    if (typeOnly && !withTypes) continue
    deps.add(resolve(dirname(f), m[4].replace(/\.js$/, ".ts")))
  }
  for (const m of src.matchAll(SIDE_EFFECT)) deps.add(resolve(dirname(f), m[1].replace(/\.js$/, ".ts")))
  graph.set(f, deps)
}

// Tarjan's strongly connected components: every component of more than one module is a cycle.
let index = 0
const stack = []
const info = new Map()
const cycles = []
function visit(v) {
  info.set(v, { index, low: index, onStack: true })
  index++
  stack.push(v)
  for (const w of graph.get(v) ?? []) {
    if (!graph.has(w)) continue
    if (!info.has(w)) {
      visit(w)
      info.get(v).low = Math.min(info.get(v).low, info.get(w).low)
    } else if (info.get(w).onStack) info.get(v).low = Math.min(info.get(v).low, info.get(w).index)
  }
  if (info.get(v).low === info.get(v).index) {
    const comp = []
    let w
    do {
      w = stack.pop()
      info.get(w).onStack = false
      comp.push(w)
    } while (w !== v)
    if (comp.length > 1) cycles.push(comp)
  }
}
for (const v of graph.keys()) if (!info.has(v)) visit(v)
for (const c of cycles)
  console.log(
    `cycle: ${c
      .map((f) => relative(process.cwd(), f))
      .sort()
      .join(" ↔ ")}`,
  )
process.exitCode = cycles.length > 0 ? 1 : 0
