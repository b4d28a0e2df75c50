/**
 * Foreign peers (Debian's pyzmq, JeroMQ + a JDK, …) that some tests run against. On a user's
 * machine a missing peer skips its tests with a printed reason; in CI (`CI=true`, where
 * `.ci/run` installs every peer) a missing peer is an error, so nothing skips there silently.
 */
import { spawnSync } from "node:child_process"

/**
 * True when `probe` (a command and its arguments) exits 0. Otherwise prints why the tests of
 * `what` are skipped and how to install the peer, and returns false — or throws under CI.
 */
export function foreignPeer(what: string, probe: readonly string[], install: string): boolean {
  const [cmd, ...args] = probe
  const r = spawnSync(cmd!, args, { stdio: "ignore", timeout: 30_000 })
  if (r.status === 0) return true
  return skipping(`${what}: skipped, \`${probe.join(" ")}\` failed (${r.error?.message ?? `exit ${r.status}`}); install: ${install}`)
}

/**
 * For a component that is missing (a peer, a runtime, a tool): prints `reason` and returns
 * false, so the caller skips its tests — or throws under CI, where nothing may skip.
 */
export function skipping(reason: string): false {
  if (process.env.CI === "true" || process.env.CI === "1") throw new Error(`CI must not skip — ${reason}`)
  console.warn(reason)
  return false
}
