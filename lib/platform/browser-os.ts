/** node:os in a page (test scaffolding, see node-runtime-shims.ts): only what lib/ calls at load or on inproc. */
export const tmpdir = (): string => "/tmp"
export const hostname = (): string => "browser"
