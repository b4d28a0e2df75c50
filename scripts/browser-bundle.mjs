// How lib/ becomes a browser bundle (omq/browser, built by tsup.config.ts; the browser tests
// bundle their pages the same way): Node built-ins map to the `buffer` and `events` packages and
// to lib/platform/browser-*.ts, the Node transports (tcp, ipc, and ws over the `ws` library) give
// way to lib/transports/browser.ts (inproc, and ws:// over the page's own WebSocket), and
// libsodium stays out (CURVE uses the bundled @noble cipher). See docs/browser-build.md.
import { createRequire } from "node:module"
import { fileURLToPath } from "node:url"

const require = createRequire(import.meta.url)
const lib = (p) => fileURLToPath(new URL(`../lib/${p}`, import.meta.url))

const unavailable = lib("platform/browser-unavailable.ts")

/** esbuild's alias: module name → file. */
export const browserAlias = {
  "node:buffer": require.resolve("buffer/"),
  "node:events": require.resolve("events/"),
  "node:crypto": lib("platform/browser-crypto.ts"),
  "node:os": lib("platform/browser-os.ts"),
  "node:net": unavailable,
  "node:fs": unavailable,
  "node:path": unavailable,
  "node:util": unavailable,
  "node:http": unavailable,
  "node:https": unavailable,
  "node:tls": unavailable,
  "node:stream": unavailable,
  "node:worker_threads": unavailable,
  "node:zlib": unavailable,
  "libsodium-wrappers": lib("platform/browser-no-sodium.ts"),
  ws: unavailable,
}

/** esbuild's inject: the globals a page lacks (Buffer, setImmediate, unref-able timers, process). */
export const browserInject = [lib("platform/browser-crypto.ts"), lib("platform/browser-globals.ts")]

/** An esbuild plugin: lib's transport registrations are the browser's. */
export const browserTransports = {
  name: "omq-browser-transports",
  setup(build) {
    build.onResolve({ filter: /transports\/index\.js$/ }, (args) =>
      args.importer.startsWith(lib("")) ? { path: lib("transports/browser.ts") } : undefined,
    )
  },
}
