/**
 * omq/v5-compat sockets and the process lifetime: a socket that receives keeps the process
 * running until it is closed (its messages are read in the background, as 5.x read them); a
 * PUSH or PUB socket, which reads nothing, does not.
 */
import { spawn } from "node:child_process"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"

const FIXTURE = fileURLToPath(new URL("./fixtures/open-socket.ts", import.meta.url))

function run(args: string[]): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", FIXTURE, ...args], { stdio: ["ignore", "pipe", "inherit"] })
    let stdout = ""
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()))
    const timer = setTimeout(() => {
      child.kill("SIGKILL")
      reject(new Error(`the script (${args.join(" ")}) did not exit`))
    }, 15_000)
    child.on("exit", (code) => {
      clearTimeout(timer)
      resolve({ code, stdout })
    })
  })
}

describe("v5-compat: sockets and the process lifetime", () => {
  for (const type of ["push", "pub"]) {
    it(`an open ${type.toUpperCase()} socket lets the process exit`, async () => {
      expect(await run([type])).toEqual({ code: 0, stdout: "" })
    })
  }

  for (const type of ["pull", "dealer"]) {
    it(`an open ${type.toUpperCase()} socket keeps the process running until closed`, async () => {
      expect(await run([type, "close-later"])).toEqual({ code: 0, stdout: "closed\n" })
    })
  }
})
