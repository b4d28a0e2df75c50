import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    setupFiles: ["test/setup.ts"],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // Interop tests start real libzmq sockets; forks isolate native state per file.
    pool: "forks",
    maxWorkers: 2,
  },
})
