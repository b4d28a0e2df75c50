/**
 * Runs in every test file (vitest.config.ts setupFiles): after the file, the ipc socket files its
 * tests made with uniqueIpc() are removed (vitest ends its worker processes without an "exit"
 * event, so a process-exit hook would not run).
 */
import { unlinkSync } from "node:fs"
import { afterAll } from "vitest"
import { ipcFiles } from "./helpers.js"

afterAll(() => {
  for (const f of ipcFiles) {
    try {
      unlinkSync(f)
    } catch {
      // gone already (closed by omq, which unlinks what it bound)
    }
  }
  ipcFiles.clear()
})
