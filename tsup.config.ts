import { defineConfig } from "tsup"

/** Public entry points: the package root (zeromq.js's names, exactly) and omq's subpath exports. */
const entries = {
  index: "lib/index.ts",
  queue: "lib/entry/queue.ts",
  devices: "lib/entry/devices.ts",
  security: "lib/entry/security.ts",
  errors: "lib/entry/errors.ts",
  "v5-compat": "lib/entry/v5-compat.ts",
}

export default defineConfig({
  // The library entries, and the omq-queue CLI (bin in package.json).
  entry: { ...entries, "queue-cli": "lib/devices/queue/cli.ts" },
  format: ["esm", "cjs"],
  // Type declarations for the library entries.
  dts: { entry: entries },
  // One copy of each module for every entry, in CJS as in ESM: the default context (inproc
  // names) and the classes (instanceof) are shared between `omq` and its subpaths.
  splitting: true,
  sourcemap: true,
  clean: true,
  target: "node20",
  tsconfig: "tsconfig.build.json",
})
