/**
 * libsodium-wrappers in the browser build: not there (434 KB of WebAssembly and glue), so
 * loading it fails. CURVE uses omq's own SIMD WebAssembly cipher (compiled in, 5 KB), or where
 * the page cannot run it, the bundled @noble cipher (security/crypto.ts's fallbacks).
 */
throw new Error("libsodium is not part of omq's browser build")
