/**
 * inproc:// between two copies of omq in one process (its ESM and CommonJS builds, or two
 * bundles): the default contexts share one registry, as zeromq.js's single libzmq context is
 * shared. The copies are two esbuild bundles of lib/index.ts (one ESM, one CommonJS) loaded
 * by one node process.
 */
import { execFile } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { promisify } from "node:util"
import { build } from "esbuild"
import { afterAll, beforeAll, describe, expect, it } from "vitest"

const root = path.resolve(import.meta.dirname, "../..")
let dir: string

beforeAll(async () => {
  // Inside the project (node_modules/.cache), so that the bundles find the dependencies they leave out.
  const cache = path.join(root, "node_modules", ".cache")
  fs.mkdirSync(cache, { recursive: true })
  dir = fs.mkdtempSync(path.join(cache, "omq-copies-"))
  const common = {
    entryPoints: [path.join(root, "lib/index.ts")],
    bundle: true,
    packages: "external" as const,
    platform: "node" as const,
    target: "node20",
    logLevel: "silent" as const,
  }
  await build({ ...common, format: "esm", outfile: path.join(dir, "copy-a.mjs") })
  await build({ ...common, format: "cjs", outfile: path.join(dir, "copy-b.cjs") })
  fs.writeFileSync(
    path.join(dir, "main.mjs"),
    `
import { createRequire } from "node:module"
import * as a from "./copy-a.mjs"
const b = createRequire(import.meta.url)("./copy-b.cjs")
const out = { distinct: a.Push !== b.Push }
const pull = new a.Pull({ linger: 0, receiveTimeout: 5000 })
await pull.bind("inproc://copies")
const push = new b.Push({ linger: 0 })
push.connect("inproc://copies")
await push.send(["from", "copy b"])
out.pushPull = (await pull.receive()).map(String)
const rep = new b.Reply({ linger: 0 })
await rep.bind("inproc://copies-rr")
const req = new a.Request({ linger: 0, receiveTimeout: 5000 })
req.connect("inproc://copies-rr")
await req.send("ping")
const [got] = await rep.receive()
await rep.send("pong to " + got)
out.reqRep = (await req.receive()).map(String)
const again = new b.Pull({ linger: 0 })
out.rebind = await again.bind("inproc://copies").then(() => "bound", (e) => e.code)
const own = new b.Pull({ linger: 0, context: new b.Context() })
out.ownContext = await own.bind("inproc://copies").then(() => "bound", (e) => e.code)
for (const s of [pull, push, rep, req, again, own]) s.close()
console.log(JSON.stringify(out))
`,
  )
}, 60_000)

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))

describe("inproc across copies of omq in one process", () => {
  it("an ESM copy and a CommonJS copy reach each other through the default context, both ways; new Context()s stay apart", async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [path.join(dir, "main.mjs")], { timeout: 20_000 })
    expect(JSON.parse(stdout)).toEqual({
      distinct: true, // really two copies (their classes differ)
      pushPull: ["from", "copy b"],
      reqRep: ["pong to ping"],
      rebind: "EADDRINUSE", // one namespace for both default contexts
      ownContext: "bound", // a context of its own is a namespace of its own
    })
  }, 30_000)
})
