/**
 * Reading the process environment where a runtime may refuse it. Deno without `--allow-env`
 * throws NotCapable on any read of `process.env` (and on a terminal asks the user first);
 * `Deno.permissions.querySync` tells beforehand, without prompting.
 */
import * as os from "node:os"

interface DenoPermissions {
  permissions: { querySync(descriptor: { name: "env" }): { state: string } }
}

/** True where all of the environment may be read: always on Node and Bun; on Deno when env access is granted. */
export function environmentReadable(): boolean {
  const deno = (globalThis as { Deno?: DenoPermissions }).Deno
  return deno === undefined || deno.permissions.querySync({ name: "env" }).state === "granted"
}

/**
 * os.tmpdir(), which reads TMPDIR (TEMP, TMP); where the environment may not be read, /tmp,
 * what os.tmpdir() gives on POSIX when TMPDIR is not set.
 */
export function tempDirectory(): string {
  return environmentReadable() || process.platform === "win32" ? os.tmpdir() : "/tmp"
}
