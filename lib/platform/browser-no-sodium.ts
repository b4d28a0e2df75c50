/**
 * libsodium-wrappers in the browser build: not there (434 KB of WebAssembly and glue), so
 * loading it fails and CURVE stays on the bundled @noble cipher (security/crypto.ts's fallback).
 */
throw new Error("libsodium is not part of omq's browser build")
