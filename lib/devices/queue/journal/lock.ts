/**
 * The data directory's lock file, so that two devices never open one
 * directory. `LOCK` holds the owner's pid, its start time (from /proc on
 * Linux, which tells a live owner from a recycled pid) and host name. It is
 * created atomically with link(2); a lock whose owner is dead (a device
 * killed with SIGKILL leaves one behind) is taken over.
 */
import { randomBytes } from "node:crypto"
import * as fs from "node:fs"
import { hostname } from "node:os"
import { join } from "node:path"
import { QueueStoreError } from "../errors.js"

interface LockInfo {
  pid: number
  start: string | null
  host: string
}

function startTime(pid: number): string | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "latin1")
    // Field 22; the command name (field 2) may contain spaces, so count from its closing parenthesis.
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19] ?? null
  } catch {
    return null
  }
}

/** True when /proc shows there is no process `pid`; false when there is one or it cannot be told. */
function goneFromProc(pid: number): boolean {
  try {
    return fs.existsSync("/proc/self/stat") && !fs.existsSync(`/proc/${pid}`)
  } catch {
    return false // Deno refuses any look into /proc without --allow-all
  }
}

function alive(info: LockInfo): boolean {
  if (info.host !== hostname()) return true // cannot check another host: assume it is alive
  try {
    process.kill(info.pid, 0)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === "ESRCH") return false
    // EPERM: it exists (another user's). No code: this runtime may not signal at all (Deno
    // without --allow-run throws NotCapable), which says nothing about the owner; on Linux,
    // /proc may still tell whether the pid exists.
    if (code !== "EPERM" && goneFromProc(info.pid)) return false
  }
  if (info.start === null) return true
  const now = startTime(info.pid)
  return now === null || now === info.start
}

function readLock(file: string): LockInfo | null {
  try {
    const o = JSON.parse(fs.readFileSync(file, "utf8")) as Partial<LockInfo>
    if (typeof o.pid !== "number" || typeof o.host !== "string") return null
    return { pid: o.pid, start: typeof o.start === "string" ? o.start : null, host: o.host }
  } catch {
    return null
  }
}

/** A held lock; release() removes it (only if it is still ours). */
export class DirectoryLock {
  private released = false
  private constructor(
    readonly file: string,
    private readonly info: LockInfo,
  ) {}

  /**
   * Takes the lock of `dir`, or throws QueueStoreError LOCKED naming the
   * live owner. A stale lock (owner dead) is replaced.
   */
  static acquire(dir: string): DirectoryLock {
    const file = join(dir, "LOCK")
    const info: LockInfo = { pid: process.pid, start: startTime(process.pid), host: hostname() }
    const tmp = join(dir, `LOCK.${process.pid}.${randomBytes(4).toString("hex")}`)
    fs.writeFileSync(tmp, JSON.stringify(info) + "\n")
    try {
      for (let tries = 0; tries < 10; tries++) {
        try {
          fs.linkSync(tmp, file)
          return new DirectoryLock(file, info)
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err
        }
        const owner = readLock(file)
        if (owner !== null && alive(owner)) {
          throw new QueueStoreError(
            "LOCKED",
            `${dir} is in use by another queue device (pid ${owner.pid} on ${owner.host}); remove ${file} only if that process is gone`,
            file,
          )
        }
        // Stale: move it aside atomically; if another process beat us to it, try again.
        const aside = `${file}.stale.${process.pid}.${randomBytes(4).toString("hex")}`
        try {
          fs.renameSync(file, aside)
          fs.rmSync(aside, { force: true })
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err
        }
      }
      throw new QueueStoreError("LOCKED", `could not take ${file}: other processes keep competing for it`, file)
    } finally {
      fs.rmSync(tmp, { force: true })
    }
  }

  release(): void {
    if (this.released) return
    this.released = true
    const owner = readLock(this.file)
    if (owner !== null && owner.pid === this.info.pid && owner.start === this.info.start && owner.host === this.info.host) {
      fs.rmSync(this.file, { force: true })
    }
  }
}
