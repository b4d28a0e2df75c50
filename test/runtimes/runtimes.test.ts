/**
 * The runtime suite (test/runtimes/*.mjs, see harness.mjs) under Node, Bun and Deno: each
 * program runs as a child process of each runtime against the built package (dist/, built
 * once here with `npm run build`, as a user gets it) and every TAP line it prints must be `ok`.
 * Skips are accepted only where a runtime is known to lack something (listed below, with the
 * reason printed). Bun and Deno are devDependencies (node_modules/.bin); a missing one skips
 * its tests with a printed reason, or fails under CI=true (test/helpers/foreign-peer.ts).
 *
 * Deno runs without --allow-env: importing omq must not need it.
 */
import { execFile, spawnSync } from "node:child_process"
import { existsSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { beforeAll, describe, expect, it } from "vitest"
import { foreignPeer } from "../helpers/foreign-peer.js"

const here = dirname(fileURLToPath(import.meta.url))
const root = join(here, "..", "..")
const bin = (name: string) => join(root, "node_modules", ".bin", name)

/** What Deno is granted: sockets (net; read/write for ipc files, the queue's directory and module files), the queue's lock file (hostname). */
const DENO_PERMISSIONS = ["--allow-net", "--allow-read", "--allow-write", "--allow-sys=hostname"]

interface Runtime {
  name: "node" | "bun" | "deno"
  /** The command line that runs `file` with `args`, given extra Deno permissions. */
  command(file: string, args: string[], denoExtra?: string[]): [string, string[]]
}

const runtimes: Runtime[] = [
  { name: "node", command: (file, args) => [process.execPath, [file, ...args]] },
  { name: "bun", command: (file, args) => [bin("bun"), [file, ...args]] },
  {
    name: "deno",
    command: (file, args, extra = []) => [bin("deno"), ["run", "--no-prompt", ...DENO_PERMISSIONS, ...extra, file, ...args]],
  },
]

const available: Record<Runtime["name"], boolean> = {
  node: true,
  bun: foreignPeer("runtime suite under Bun", [bin("bun"), "--version"], "npm ci (the bun devDependency)"),
  deno: foreignPeer("runtime suite under Deno", [bin("deno"), "--version"], "npm ci (the deno devDependency)"),
}

/** Programs whose checks a runtime may skip, with the reason the program must print. */
const ALLOWED_SKIPS: Partial<Record<Runtime["name"], Record<string, RegExp>>> = {
  // zeromq.js panics on Bun: "unsupported uv function: uv_poll_init_socket".
  bun: { "interop.mjs": /uv_poll_init_socket/ },
}

interface Run {
  code: number | null
  stdout: string
  stderr: string
}

/** Runs a command to its end (or kills it after `ms`), with DEBUG and colours off unless `env` says. */
function run([cmd, args]: [string, string[]], env: Record<string, string> = {}, ms = 45_000): Promise<Run> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: "1", ...env }
  if (!("DEBUG" in env)) delete childEnv.DEBUG
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd: root, env: childEnv, timeout: ms, killSignal: "SIGKILL", maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === "number" ? err.code : null) : 0
      resolve({ code, stdout, stderr: err?.killed ? `${stderr}\n(killed after ${ms} ms)` : stderr })
    })
  })
}

interface Tap {
  passed: string[]
  failed: string[]
  skipped: { name: string; reason: string }[]
  plan: number | undefined
}

/** The TAP lines of harness.mjs. */
function parseTap(stdout: string): Tap {
  const tap: Tap = { passed: [], failed: [], skipped: [], plan: undefined }
  for (const line of stdout.split("\n")) {
    let m
    if ((m = /^ok \d+ - (.*?) # SKIP (.*)$/.exec(line))) tap.skipped.push({ name: m[1]!, reason: m[2]! })
    else if ((m = /^ok \d+ - (.*)$/.exec(line))) tap.passed.push(m[1]!)
    else if ((m = /^not ok \d+ - (.*)$/.exec(line))) tap.failed.push(m[1]!)
    else if ((m = /^1\.\.(\d+)$/.exec(line))) tap.plan = Number(m[1])
  }
  return tap
}

/** Asserts a program's run: exit 0, the plan printed and met, nothing failed, skips only as allowed. */
function expectAllPassed(rt: Runtime, program: string, r: Run, minimum: number): Tap {
  const tap = parseTap(r.stdout)
  const output = `${rt.name} ${program} exited ${r.code}\n${r.stdout}\n${r.stderr}`
  expect(tap.failed, output).toEqual([])
  expect(r.code, output).toBe(0)
  expect(tap.plan, output).toBe(tap.passed.length + tap.skipped.length)
  expect(tap.plan!, output).toBeGreaterThanOrEqual(minimum)
  const allowed = ALLOWED_SKIPS[rt.name]?.[program]
  for (const s of tap.skipped) {
    expect(allowed, `${output}\nunexpected skip: ${s.name}`).toBeDefined()
    expect(s.reason).toMatch(allowed!)
    console.warn(`${rt.name} ${program}: skipped "${s.name}": ${s.reason}`)
  }
  return tap
}

/** The programs and the fewest checks each must report (so a program that stops early fails). */
const PROGRAMS: { file: string; minimum: number; denoExtra?: string[] }[] = [
  { file: "sockets.mjs", minimum: 14 },
  { file: "curve.mjs", minimum: 2 },
  // zeromq.js is a native addon: Deno needs --allow-ffi to load it.
  { file: "interop.mjs", minimum: 3, denoExtra: ["--allow-ffi"] },
  { file: "queue.mjs", minimum: 4 },
]

const NAMESPACES = ["omq:socket", "omq:engine", "omq:transport", "omq:queue"]

/** How long exit.mjs may take to end by itself (it needs well under a second). */
const EXIT_MS = 8_000

beforeAll(() => {
  // One build for every runtime; spawnSync keeps the output for the error.
  const r = spawnSync("npm", ["run", "build"], { cwd: root, encoding: "utf8", timeout: 120_000 })
  if (r.status !== 0) throw new Error(`npm run build failed (${r.error?.message ?? `exit ${r.status}`}):\n${r.stdout}\n${r.stderr}`)
  expect(existsSync(join(root, "dist", "index.js"))).toBe(true)
}, 130_000)

for (const rt of runtimes) {
  // A runtime that is not installed skips with the reason printed (runtimes.test.ts); under CI=true that fails instead.
  describe.runIf(available[rt.name])(`runtime suite under ${rt.name}`, () => {
    for (const p of PROGRAMS) {
      it(`${p.file}: every check passes`, async () => {
        const r = await run(rt.command(join(here, p.file), [], p.denoExtra))
        expectAllPassed(rt, p.file, r, p.minimum)
      }, 60_000)
    }

    it(
      "exit.mjs: ends by itself once its sockets are closed",
      async () => {
        expectAllPassed(rt, "exit.mjs", await run(rt.command(join(here, "exit.mjs"), []), {}, EXIT_MS), 5)
      },
      EXIT_MS + 20_000,
    )

    for (const build of ["esm", "cjs"]) {
      // On Deno the loggers need env access (lib/debug.ts): this run grants it.
      const withEnv = rt.name === "deno" ? ["--allow-env"] : []
      it(`${build} build: DEBUG=omq:* prints every namespace${withEnv.length ? " (with --allow-env)" : ""}`, async () => {
        const r = await run(rt.command(join(here, "debug.mjs"), [build], withEnv), { DEBUG: "omq:*" })
        expectAllPassed(rt, "debug.mjs", r, 3)
        for (const ns of NAMESPACES) expect(r.stderr, `${rt.name} debug.mjs ${build}: no ${ns} line\n${r.stderr}`).toContain(ns)
      }, 60_000)

      if (rt.name === "deno") {
        it(`${build} build without --allow-env: runs, and the loggers are silent`, async () => {
          const r = await run(rt.command(join(here, "debug.mjs"), [build]), { DEBUG: "omq:*" })
          expectAllPassed(rt, "debug.mjs", r, 3)
          expect(r.stderr).not.toContain("omq:")
        }, 60_000)
      }
    }
  })
}
