/**
 * The runtime suite's harness: each program in test/runtimes/ is run directly by Node, Bun or
 * Deno (plain JavaScript, so every runtime runs the same file; no test framework inside them).
 * A check prints one TAP line (`ok 3 - name`, `not ok 3 - name` with the error as `#` lines,
 * `ok 3 - name # SKIP reason`); done() prints the plan `1..N` and exits 1 if any check failed.
 * test/runtimes/runtimes.test.ts runs every program under every runtime and reads these lines.
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"

/** "node", "bun" or "deno". */
export const runtime = typeof globalThis.Bun !== "undefined" ? "bun" : typeof globalThis.Deno !== "undefined" ? "deno" : "node"

let count = 0
let failures = 0
const scratch = []

/** Runs `fn` as one check: it passes unless it throws or takes longer than `ms`. */
export async function check(name, fn, ms = 10_000) {
  const n = ++count
  let timer
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms)
  })
  try {
    await Promise.race([fn(), timeout])
    console.log(`ok ${n} - ${name}`)
  } catch (err) {
    failures++
    console.log(`not ok ${n} - ${name}`)
    for (const line of String(err?.stack ?? err).split("\n")) console.log(`  # ${line}`)
  } finally {
    clearTimeout(timer)
  }
}

/** Records a check this runtime cannot run, with the reason. */
export function skip(name, reason) {
  console.log(`ok ${++count} - ${name} # SKIP ${reason}`)
}

/**
 * Prints the plan and exits: 0 when every check passed (or was skipped), 1 otherwise. At once,
 * so that a socket a failed check left open does not keep the process alive; with
 * `{ wait: true }` only the exit code is set and the process ends when nothing holds it.
 */
export function done({ wait = false } = {}) {
  for (const dir of scratch) fs.rmSync(dir, { recursive: true, force: true })
  console.log(`1..${count}`)
  if (wait) process.exitCode = failures === 0 ? 0 : 1
  else process.exit(failures === 0 ? 0 : 1)
}

/**
 * A new empty directory, removed by done(). Deno's own call where the environment may not be
 * read: os.tmpdir() reads TMPDIR, which Deno refuses without --allow-env.
 */
export function scratchDir() {
  const dir = runtime === "deno" ? globalThis.Deno.makeTempDirSync({ prefix: "omq-rt-" }) : fs.mkdtempSync(path.join(os.tmpdir(), "omq-rt-"))
  scratch.push(dir)
  return dir
}

/** Resolves after `ms`. */
export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

/** Throws unless `actual` and `expected` have the same JSON form. */
export function same(actual, expected, what = "value") {
  const a = JSON.stringify(actual)
  const e = JSON.stringify(expected)
  if (a !== e) throw new Error(`${what}: expected ${e}, got ${a}`)
}

/** The frames of a message as strings. */
export const strings = (msg) => msg.map((f) => Buffer.from(f).toString())
