// ESLint flat config: typescript-eslint's recommended rules (not the type-aware
// set, so a run takes seconds) for the code in lib/, test/, bench/, patterns/,
// scripts/ and the root config files. Formatting is prettier's job, not ESLint's.
import js from "@eslint/js"
import { defineConfig } from "eslint/config"
import tseslint from "typescript-eslint"

// The Node.js globals the plain-JS files use (scripts, runtime probes, package fixtures).
const nodeGlobals = Object.fromEntries(
  [
    "process",
    "console",
    "Buffer",
    "URL",
    "TextEncoder",
    "TextDecoder",
    "AbortController",
    "setTimeout",
    "clearTimeout",
    "setInterval",
    "clearInterval",
    "setImmediate",
    "clearImmediate",
    "queueMicrotask",
    "structuredClone",
    "performance",
    "globalThis",
  ].map((name) => [name, "readonly"]),
)

export default defineConfig(
  {
    ignores: [
      "dist/",
      "node_modules/",
      "scratch/",
      "coverage/",
      // The benchmark's peers as built for a run (bench/run.ts), not sources.
      "bench/.build/",
      "bench/.prof/",
      ".vitest-result.json",
      // Fixtures are inputs to tests (packaged-build smoke tests, recorded peers), not code we lint.
      "**/fixtures/",
      // AssemblyScript (compiled by scripts/build-wasm.mjs, not TypeScript: @inline decorators on functions, v128).
      "wasm/",
    ],
  },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2022, sourceType: "module" },
    linterOptions: { reportUnusedDisableDirectives: "error" },
    rules: {
      // Non-null assertions are deliberate: after a length or map check in hot paths
      // (noUncheckedIndexedAccess makes every index `T | undefined`).
      "@typescript-eslint/no-non-null-assertion": "off",
      // An interface merged with a class declares the accessors defined on its prototype
      // (socket options, the 5.x compat socket): deliberate, the way zeromq.js types them too.
      "@typescript-eslint/no-unsafe-declaration-merging": "off",
      // `interface A extends B {}` names a shape or merges B into a class; only a bare `{}` is a mistake.
      "@typescript-eslint/no-empty-object-type": ["error", { allowInterfaces: "with-single-extends" }],
      // `_`-prefixed arguments and variables are intentionally unused (interface shapes, destructuring).
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrorsIgnorePattern: "^_", destructuredArrayIgnorePattern: "^_" },
      ],
    },
  },
  {
    // zeromq 5.x's API is untyped (any option by name, getsockopt returns any): the compat layer mirrors it.
    files: ["lib/compat/**"],
    rules: { "@typescript-eslint/no-explicit-any": "off" },
  },
  {
    files: ["**/*.js", "**/*.mjs", "**/*.cjs"],
    languageOptions: { globals: nodeGlobals },
  },
  {
    files: ["**/*.cjs"],
    languageOptions: {
      sourceType: "commonjs",
      globals: { ...nodeGlobals, require: "readonly", module: "writable", exports: "writable", __dirname: "readonly", __filename: "readonly" },
    },
    rules: { "@typescript-eslint/no-require-imports": "off" },
  },
)
