import { writeFileSync } from "node:fs"
import { createRequire } from "node:module"
import { dirname, join } from "node:path"
import { defineConfig, type Options } from "tsup"
// @ts-expect-error a plain-JavaScript build script, without declarations
import { browserAlias, browserInject, browserTransports } from "./scripts/browser-bundle.mjs"

/** Public entry points: the package root (zeromq.js's names, exactly) and omq's subpath exports. */
const entries = {
  index: "lib/index.ts",
  queue: "lib/entry/queue.ts",
  devices: "lib/entry/devices.ts",
  security: "lib/entry/security.ts",
  errors: "lib/entry/errors.ts",
  "v5-compat": "lib/entry/v5-compat.ts",
  ws: "lib/entry/ws.ts",
}
/** The part of lib/entry/bundle.ts each entry's CommonJS file re-exports. */
const cjsPart: Record<keyof typeof entries, string> = {
  index: "root",
  queue: "queue",
  devices: "devices",
  security: "security",
  errors: "errors",
  "v5-compat": "v5compat",
  ws: "ws",
}

/**
 * The oldest Node omq runs on (package.json's "engines", tested by test/package/): esbuild
 * lowers any newer syntax for it.
 */
const target = "node16.17"

/**
 * Dependencies compiled into dist instead of installed beside omq (scripts/bundled-licenses.mjs
 * ships their licences):
 * - @noble/curves, @noble/hashes, @noble/ciphers are ESM-only and ask for Node >= 20.19: as
 *   dependencies, `require("omq")` fails before Node 20.19 / 22.12 and under Jest.
 * - cbor-x, from its plain-JavaScript entry (`cborPlainJs` below): as a dependency it brings
 *   its optional native helper cbor-extract, which npm compiles with node-gyp wherever no
 *   prebuilt binary fits the machine.
 */
const bundled = ["@noble/curves", "@noble/hashes", "@noble/ciphers", "cbor-x"]

/**
 * cbor-x's Node entry loads the native string extractor when it can; its universal entry
 * (index.js, not in its "exports") is the same codec without it.
 */
const cborPlainJs: NonNullable<Options["esbuildPlugins"]>[number] = {
  name: "cbor-x-plain-js",
  setup(build) {
    const dir = dirname(createRequire(import.meta.url).resolve("cbor-x/package.json"))
    build.onResolve({ filter: /^cbor-x$/ }, () => ({ path: join(dir, "index.js") }))
  },
}

/** Source maps only on request (`OMQ_SOURCEMAPS=1 npm run build`): they tripled the tarball. */
const sourcemap = process.env.OMQ_SOURCEMAPS === "1"

const common: Options = {
  target,
  sourcemap,
  tsconfig: "tsconfig.build.json",
  noExternal: bundled,
  esbuildPlugins: [cborPlainJs],
  // Which files of which packages went in: read by scripts/bundled-licenses.mjs, then deleted.
  metafile: true,
}

export default defineConfig([
  {
    // ESM: the library entries sharing chunks (one copy of each module: the default context
    // and the classes are shared between `omq` and its subpaths), and the omq-queue and omq CLIs.
    ...common,
    entry: { ...entries, "queue-cli": "lib/devices/queue/cli.ts", "omq-cli": "lib/tools/omq-cli.ts" },
    format: ["esm"],
    splitting: true,
    dts: { entry: entries, compilerOptions: { stripInternal: true } },
  },
  {
    // omq/browser: one ES module for web pages (scripts/browser-bundle.mjs: Node built-ins
    // mapped to the buffer and events packages and lib/platform, ws:// over the page's
    // WebSocket, no tcp/ipc, no libsodium). Its types are the package root's.
    entry: { browser: "lib/entry/browser.ts" },
    format: ["esm"],
    // Minified, as a page downloads it (and the package stays within its size budget).
    minify: true,
    platform: "browser",
    target: "es2020",
    sourcemap,
    tsconfig: "tsconfig.build.json",
    splitting: false,
    dts: false,
    noExternal: [/.*/],
    esbuildPlugins: [browserTransports, cborPlainJs],
    // tsup would turn "node:buffer" into an external "buffer": the aliases below must see it.
    removeNodeProtocol: false,
    esbuildOptions(o) {
      o.alias = { ...o.alias, ...browserAlias }
      o.inject = [...(o.inject ?? []), ...browserInject]
    },
  },
  {
    // CommonJS: one bundle, see lib/entry/bundle.ts; the entry files and their .d.cts are
    // written once it is built.
    ...common,
    entry: { "cjs/bundle": "lib/entry/bundle.ts" },
    format: ["cjs"],
    splitting: false,
    // `import("libsodium-wrappers")` (the optional fast cipher) as a require(): a real
    // import() from CommonJS fails under Jest's module system, and bundlers handle require best.
    esbuildOptions(o) {
      o.supported = { ...o.supported, "dynamic-import": false }
    },
    async onSuccess() {
      for (const [name, part] of Object.entries(cjsPart)) {
        writeFileSync(`dist/${name}.cjs`, `"use strict";\nmodule.exports = require("./cjs/bundle.cjs").${part};\n`)
      }
    },
  },
])
