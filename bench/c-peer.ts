/**
 * The libzmq-from-C peer (issue 19): bench/c/pushpull.c, compiled with the system's C compiler
 * against the system's libzmq (Debian: libzmq3-dev) once per run, into bench/.build/ (gitignored).
 * It speaks the peer protocol of pushpull-peer.ts (JSON lines on stdout, stdin EOF = close),
 * so bench/pushpull.ts spawns it as a native peer with spawnPeer(..., { native: true }).
 */
import { execFileSync } from "node:child_process"
import { mkdirSync, renameSync, rmSync } from "node:fs"
import { join } from "node:path"
import { ROOT } from "./proc.js"

/** The system name of the C rows, as `--lib` takes it. */
export const LIBZMQ_C = "libzmq-c"

const SOURCE = join(ROOT, "bench", "c", "pushpull.c")
const BINARY = join(ROOT, "bench", ".build", "pushpull-c")
const HINT = "apt-get install libzmq3-dev"

let built: { binary: string } | { why: string } | undefined

function compile(): { binary: string } | { why: string } {
  const cc = process.env.CC || "cc"
  mkdirSync(join(ROOT, "bench", ".build"), { recursive: true })
  // A private name, then rename: another run in this checkout may be reading the binary.
  const tmp = `${BINARY}.${process.pid}`
  try {
    execFileSync(cc, ["-O2", "-o", tmp, SOURCE, "-lzmq"], { stdio: ["ignore", "pipe", "pipe"], encoding: "utf8" })
    renameSync(tmp, BINARY)
  } catch (err) {
    rmSync(tmp, { force: true })
    const e = err as NodeJS.ErrnoException & { stderr?: string }
    if (e.code === "ENOENT") return { why: `no C compiler (${cc}) here (apt-get install gcc libzmq3-dev)` }
    const out = e.stderr ?? e.message
    if (/zmq\.h|-lzmq/.test(out)) return { why: `no libzmq to compile against (${HINT})` }
    return { why: `${cc} failed on bench/c/pushpull.c: ${out.trim().split("\n").slice(0, 3).join(" / ")}` }
  }
  const version = execFileSync(BINARY, ["--role", "version"], { encoding: "utf8" }).trim()
  console.log(`  ${LIBZMQ_C}: built bench/.build/pushpull-c with ${cc} -O2 against libzmq ${version}`)
  return { binary: BINARY }
}

/** Why the C peer cannot run here (no compiler, no libzmq headers), or undefined once it is built. */
export function cPeerUnavailable(): string | undefined {
  built ??= compile()
  return "why" in built ? built.why : undefined
}

/** The compiled C peer; cPeerUnavailable() must have said yes. */
export function cPeerBinary(): string {
  built ??= compile()
  if ("why" in built) throw new Error(`${LIBZMQ_C}: ${built.why}`)
  return built.binary
}
