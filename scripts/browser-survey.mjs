#!/usr/bin/env node
// What stands between an entry point of lib/ and a browser: bundles the entry with esbuild for
// the browser and lists
//   1. every Node built-in module it reaches (node:net, node:crypto, …), with the importing
//      file:line and the import chain from the entry, and
//   2. every Node-only global or API its files use (Buffer, process, setImmediate, NodeJS.*, the
//      `.unref()` of a Node timer, …), found by type-checking the reached files against the
//      browser's library (lib.dom) with no Node types: each such use is a type error there.
// Usage: node scripts/browser-survey.mjs [entry.ts] [--json]. Default entry: lib/index.ts.
// Exit code 1 if anything was found, so a browser entry can be held to zero.
// docs/browser-build.md is the survey of lib/index.ts made with this script, with remedies.
import { readFileSync } from "node:fs"
import { builtinModules } from "node:module"
import { relative, resolve } from "node:path"
import { build } from "esbuild"
import ts from "typescript"

const args = process.argv.slice(2)
const json = args.includes("--json")
const entry = resolve(args.find((a) => !a.startsWith("--")) ?? "lib/index.ts")
const root = process.cwd()
const rel = (f) => relative(root, f)

// 1. Bundle for the browser; Node built-ins become externals we record instead of errors.
const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]))
const reached = [] // { module, importer }
const recordBuiltins = {
  name: "record-node-builtins",
  setup(b) {
    b.onResolve({ filter: /.*/ }, (a) => {
      if (!builtins.has(a.path) || a.kind === "entry-point") return undefined
      // A package's own "browser" field may map a built-in away (libsodium: "crypto": false); esbuild applies it.
      if (a.importer.includes("/node_modules/")) return undefined
      reached.push({ module: a.path.replace(/^node:/, ""), importer: a.importer, specifier: a.path })
      return { path: a.path, external: true }
    })
  },
}
const result = await build({
  entryPoints: [entry],
  bundle: true,
  platform: "browser",
  format: "esm",
  write: false,
  metafile: true,
  logLevel: "silent",
  plugins: [recordBuiltins],
})

// The import graph (esbuild's metafile), to show how the entry reaches each importer.
const graph = new Map()
for (const [file, input] of Object.entries(result.metafile.inputs))
  graph.set(
    resolve(file),
    input.imports.map((i) => resolve(i.path)),
  )
function chain(to) {
  const prev = new Map([[entry, null]])
  const queue = [entry]
  while (queue.length > 0) {
    const f = queue.shift()
    if (f === to) break
    for (const g of graph.get(f) ?? []) {
      if (prev.has(g)) continue
      prev.set(g, f)
      queue.push(g)
    }
  }
  if (!prev.has(to)) return []
  const path = []
  for (let f = to; f !== null; f = prev.get(f)) path.unshift(rel(f))
  return path
}
function lineOf(file, specifier) {
  const lines = readFileSync(file, "utf8").split("\n")
  const i = lines.findIndex((l) => l.includes(`"${specifier}"`))
  return i + 1
}
const modules = reached
  .map((r) => ({ module: r.module, at: `${rel(r.importer)}:${lineOf(r.importer, r.specifier)}`, via: chain(resolve(r.importer)) }))
  .filter((r, i, all) => all.findIndex((s) => s.at === r.at && s.module === r.module) === i)
  .sort((a, b) => a.module.localeCompare(b.module) || a.at.localeCompare(b.at))

// 2. Type-check the reached lib/ files as browser code: lib.dom, no @types/node.
const files = [...graph.keys()].filter((f) => f.startsWith(resolve(root, "lib")) && f.endsWith(".ts"))
const options = {
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  lib: ["lib.es2022.d.ts", "lib.dom.d.ts", "lib.dom.iterable.d.ts"],
  types: [],
  strict: true,
  noEmit: true,
  skipLibCheck: true,
  isolatedModules: true,
}
// @types/node must stay out even where a dependency's types pull it in (@types/ws has
// `/// <reference types="node" />`): its files are read as empty, so Node's globals stay undefined.
const host = ts.createCompilerHost(options)
const readSourceFile = host.getSourceFile
host.getSourceFile = (fileName, languageVersion, ...rest) =>
  fileName.includes("/node_modules/@types/node/")
    ? ts.createSourceFile(fileName, "", languageVersion)
    : readSourceFile.call(host, fileName, languageVersion, ...rest)
const program = ts.createProgram(files, options, host)
// The errors that mean "Node-only": a missing name, namespace or module, or a member the browser's
// type lacks (setTimeout's number has no .unref()). Other errors are only consequences of those.
const NODE_ONLY = new Set([2304, 2306, 2503, 2580, 2591, 2307, 2339, 2552, 2792])
const globals = []
for (const d of ts.getPreEmitDiagnostics(program)) {
  if (d.file === undefined || !NODE_ONLY.has(d.code)) continue
  const file = resolve(d.file.fileName)
  if (!files.includes(file)) continue
  const { line } = d.file.getLineAndCharacterOfPosition(d.start ?? 0)
  const text = ts.flattenDiagnosticMessageText(d.messageText, " ")
  // The name the message is about: 'Buffer', 'process', 'NodeJS', 'unref', a module name.
  const name = /'([^']+)'/.exec(text)?.[1] ?? text
  globals.push({ name, at: `${rel(file)}:${line + 1}`, message: text })
}
// 3. `.unref()` / `.ref()` on a timer or handle typed NodeJS.Timeout: the NodeJS error above stands
// for the type, not for each call, and in a browser each call throws (a timer is a number there).
for (const file of files) {
  readFileSync(file, "utf8")
    .split("\n")
    .forEach((line, i) => {
      if (/^\s*(\/\/|\*)/.test(line) || !/\.(un)?ref\(\)/.test(line)) return
      const at = `${rel(file)}:${i + 1}`
      if (!globals.some((g) => g.at === at && g.name === "unref")) globals.push({ name: ".unref()/.ref()", at, message: line.trim() })
    })
}
globals.sort((a, b) => a.name.localeCompare(b.name) || a.at.localeCompare(b.at, undefined, { numeric: true }))

if (json) {
  console.log(JSON.stringify({ entry: rel(entry), modules, globals }, null, 2))
} else {
  console.log(`# ${rel(entry)} for the browser: ${modules.length} Node built-in imports, ${globals.length} Node-only uses`)
  console.log(`\n## Node built-in modules reached\n`)
  for (const m of modules) console.log(`${m.module.padEnd(16)} ${m.at.padEnd(44)} via ${m.via.join(" → ")}`)
  console.log(`\n## Node-only globals and APIs (type errors against lib.dom without @types/node)\n`)
  const byName = new Map()
  for (const g of globals) byName.set(g.name, [...(byName.get(g.name) ?? []), g])
  for (const [name, uses] of byName) {
    const perFile = new Map()
    for (const u of uses) {
      const [file, line] = u.at.split(":")
      perFile.set(file, [...new Set([...(perFile.get(file) ?? []), line])])
    }
    const where = [...perFile].map(([file, lines]) => `${file}:${lines.join(",")}`)
    console.log(`${name} — ${uses.length} uses in ${perFile.size} files:\n  ${where.join("\n  ")}`)
  }
}
process.exitCode = modules.length + globals.length > 0 ? 1 : 0
