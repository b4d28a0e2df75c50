/**
 * The CommonJS build is one bundle of every entry point (dist/cjs/bundle.cjs), and each
 * `require()` entry re-exports its part of it: CommonJS chunk splitting would rewrite the
 * classes (their names and fields), and separate bundles would each get their own copy of
 * the default context and the classes.
 */
export * as root from "../index.js"
export * as queue from "./queue.js"
export * as devices from "./devices.js"
export * as security from "./security.js"
export * as errors from "./errors.js"
export * as v5compat from "./v5-compat.js"
export * as ws from "./ws.js"
