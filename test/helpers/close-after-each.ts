import { afterEach } from "vitest"

/**
 * Registers an afterEach hook (in the calling test file) that closes every
 * socket handed to the returned `track`, in the order they were tracked.
 * With `ignoreErrors`, a close that throws (already closed) is ignored;
 * without it, it fails the test.
 */
export function closeAfterEach(opts: { ignoreErrors?: boolean } = {}): <T extends { close(): void }>(sock: T) => T {
  const open: { close(): void }[] = []
  afterEach(() => {
    for (const s of open.splice(0)) {
      if (!opts.ignoreErrors) {
        s.close()
        continue
      }
      try {
        s.close()
      } catch {
        /* already closed */
      }
    }
  })
  return (sock) => {
    open.push(sock)
    return sock
  }
}
