/**
 * What a page needs in place of the Node built-ins lib/wire, lib/mechanisms and lib/security
 * reach (see docs/browser-build.md), as the remedies the survey proposes, for the pure-layer test
 * (test/browser/pure-layers.test.ts) — test scaffolding, not the browser build:
 * - `Buffer`: the `buffer` package (injected as the global and aliased for "node:buffer");
 * - "node:crypto" randomBytes: crypto.getRandomValues, which a page has.
 */
import { Buffer } from "buffer/"

/** node:crypto's randomBytes over Web Crypto (getRandomValues: at most 65536 bytes a call, plenty here). */
export function randomBytes(size: number): Buffer {
  return Buffer.from(globalThis.crypto.getRandomValues(new Uint8Array(size)))
}

export { Buffer }
