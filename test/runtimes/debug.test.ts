/**
 * lib/debug.ts: `debug` is imported dynamically (so that Deno without --allow-env can import
 * omq); what is logged before it has loaded is printed once it has, and nothing is lost.
 * The runtime suite (debug.mjs) checks the four namespaces of the built package on each runtime.
 */
import { format } from "node:util"
import createDebugPackage from "debug"
import { afterEach, describe, expect, it, vi } from "vitest"

const savedLog = createDebugPackage.log
const savedNamespaces = createDebugPackage.disable()

afterEach(() => {
  createDebugPackage.log = savedLog
  createDebugPackage.enable(savedNamespaces)
})

describe("debug loggers", () => {
  it("a call made before debug has loaded is printed once it has, in order with later ones", async () => {
    const lines: string[] = []
    createDebugPackage.log = (...args: unknown[]) => void lines.push(format(...args))
    createDebugPackage.enable("omq:test")
    vi.resetModules()
    const { createDebug, debugLoaded } = await import("../../lib/debug.js")
    const log = createDebug("omq:test")
    log("early %d", 1)
    createDebug("omq:other")("not enabled")
    await debugLoaded
    log("late %s", "two")
    expect(lines).toHaveLength(2)
    expect(lines[0]).toMatch(/omq:test early 1/)
    expect(lines[1]).toMatch(/omq:test late two/)
  })
})
