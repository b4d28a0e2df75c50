import { writeFileSync } from "node:fs"
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
/** The part of lib/entry/bundle.ts each entry's CommonJS file re-exports. */
const cjsPart: Record<keyof typeof entries, string> = {
  index: "root",
  queue: "queue",
  devices: "devices",
  security: "security",
  errors: "errors",
  "v5-compat": "v5compat",
}

export default defineConfig([
  {
    // ESM: the library entries sharing chunks (one copy of each module: the default context
    // and the classes are shared between `omq` and its subpaths), and the omq-queue CLI.
    entry: { ...entries, "queue-cli": "lib/devices/queue/cli.ts" },
    format: ["esm"],
    splitting: true,
    dts: { entry: entries },
    sourcemap: true,
    target: "node20",
    tsconfig: "tsconfig.build.json",
  },
  {
    // CommonJS: one bundle, see lib/entry/bundle.ts; the entry files and their .d.cts are
    // written once it is built.
    entry: { "cjs/bundle": "lib/entry/bundle.ts" },
    format: ["cjs"],
    splitting: false,
    sourcemap: true,
    target: "node20",
    tsconfig: "tsconfig.build.json",
    async onSuccess() {
      for (const [name, part] of Object.entries(cjsPart)) {
        writeFileSync(`dist/${name}.cjs`, `"use strict";\nmodule.exports = require("./cjs/bundle.cjs").${part};\n`)
      }
    },
  },
])
