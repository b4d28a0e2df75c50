/**
 * scripts/browser-survey.mjs (docs/browser-build.md) as a guard: the pure layers stay ready for a
 * browser — lib/wire reaches no Node built-in but node:buffer (the `buffer` package stands in),
 * the mechanisms and security add only node:crypto's randomBytes — and the script still finds
 * what it should in lib/index.ts (the tcp transport's node:net), so a silent survey means
 * something. No browser needed.
 */
import { execFile } from "node:child_process"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"

const root = fileURLToPath(new URL("../..", import.meta.url))

interface Survey {
  modules: { module: string; at: string }[]
  globals: { name: string; at: string }[]
}

function survey(entry: string): Promise<{ code: number; result: Survey }> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ["scripts/browser-survey.mjs", "--json", entry],
      { cwd: root, timeout: 60_000, maxBuffer: 16 << 20 },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === "number" ? err.code : -1
        if (code !== 0 && code !== 1) return reject(new Error(`browser-survey ${entry} failed (${code}): ${stderr}`))
        resolve({ code, result: JSON.parse(stdout) as Survey })
      },
    )
  })
}

const names = (s: Survey) => ({
  modules: [...new Set(s.modules.map((m) => m.module))].sort(),
  globals: [...new Set(s.globals.map((g) => g.name))].sort(),
})

describe("browser readiness of the pure layers (scripts/browser-survey.mjs)", () => {
  it("lib/wire reaches only node:buffer and the Buffer global", async () => {
    const { result } = await survey("lib/wire/index.ts")
    expect(names(result)).toEqual({ modules: ["buffer"], globals: ["Buffer", "node:buffer"] })
  }, 60_000)

  it("the mechanisms and security add only node:crypto (randomBytes)", async () => {
    const entries = ["lib/mechanisms/null.ts", "lib/mechanisms/plain.ts", "lib/mechanisms/curve.ts", "lib/security/keys.ts"]
    for (const entry of entries) {
      const { result } = await survey(entry)
      const found = names(result)
      expect(
        found.modules.filter((m) => m !== "buffer" && m !== "crypto"),
        entry,
      ).toEqual([])
      expect(
        found.globals.filter((g) => !["Buffer", "node:buffer", "node:crypto"].includes(g)),
        entry,
      ).toEqual([])
    }
  }, 120_000)

  it("finds the Node-only code in lib/index.ts and exits 1", async () => {
    const { code, result } = await survey("lib/index.ts")
    expect(code).toBe(1)
    expect(result.modules).toContainEqual({
      module: "net",
      at: expect.stringMatching(/^lib\/transports\/node-net\.ts:\d+$/),
      via: expect.any(Array),
    })
    expect(names(result).globals).toEqual(expect.arrayContaining(["Buffer", "process", "setImmediate"]))
  }, 60_000)
})
