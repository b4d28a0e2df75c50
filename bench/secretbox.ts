/**
 * CURVE's per-message cipher on its own: `npx tsx bench/secretbox.ts` prints ns per box, MB/s
 * and boxes/s for sealMessage and openMessageAt (lib/security/crypto.ts, one copy in and one
 * out per box, as a CURVE connection calls them) on each backend: omq's SIMD WebAssembly
 * module (wasm/secretbox), libsodium-wrappers' WebAssembly called raw on an arena, and
 * @noble's pure-JS cipher. Sizes are of the body (the box holds one flags byte more).
 * `--sizes 64,1024,65536`, `--backends simd,libsodium`, `--ms 300` (per measurement).
 * Single-threaded and short; the best of 5 rounds is kept, as the machine may be busy.
 */
import { randomBytes } from "node:crypto"
import { openMessageAt, sealMessage, useCipher, type CipherBackend } from "../lib/security/crypto.js"

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback
}

const sizes = arg("sizes", "64,1024,65536").split(",").map(Number)
const backends = arg("backends", "simd,libsodium,noble").split(",") as CipherBackend[]
const ms = Number(arg("ms", "300"))

/** ns per call of `fn`: the best of 5 rounds of about `ms` / 5 each, after a warm-up round. */
function measure(fn: () => void): number {
  let n = 16
  for (;;) {
    const t0 = performance.now()
    for (let i = 0; i < n; i++) fn()
    const dt = performance.now() - t0
    if (dt > ms / 10) break
    n *= 2
  }
  const calls = Math.max(1, Math.round(n * (ms / 5 / (ms / 10))))
  let best = Infinity
  for (let r = 0; r < 5; r++) {
    const t0 = performance.now()
    for (let i = 0; i < calls; i++) fn()
    best = Math.min(best, ((performance.now() - t0) * 1e6) / calls)
  }
  return best
}

interface Row {
  backend: CipherBackend
  size: number
  seal: number
  open: number
}

const rows: Row[] = []
for (const backend of backends) {
  if (!(await useCipher(backend))) {
    console.log(`${backend}: not available here`)
    continue
  }
  for (const size of sizes) {
    const key = randomBytes(32)
    const nonce = randomBytes(24)
    const body = randomBytes(size)
    const out = Buffer.allocUnsafe(16 + 17 + size)
    sealMessage(key, nonce, 0, body, out, 16)
    const box = Buffer.from(out)
    let sink = 0
    const seal = measure(() => {
      sealMessage(key, nonce, 0, body, out, 16)
      sink ^= out[20]!
    })
    const open = measure(() => {
      const r = openMessageAt(key, nonce, box, 16)
      if (r === null) throw new Error("box did not open")
      sink ^= r.flags
    })
    if (sink === 0x1234) console.log("")
    rows.push({ backend, size, seal, open })
  }
}

const mbps = (size: number, ns: number) => ((size / ns) * 1e3).toFixed(0)
const kops = (ns: number) => (1e6 / ns).toFixed(0)
console.log("backend    body      seal ns  seal MB/s  seal k/s     open ns  open MB/s  open k/s")
for (const r of rows) {
  console.log(
    `${r.backend.padEnd(10)} ${String(r.size).padStart(6)} ${r.seal.toFixed(0).padStart(11)} ${mbps(r.size, r.seal).padStart(10)} ${kops(r.seal).padStart(9)} ${r.open.toFixed(0).padStart(11)} ${mbps(r.size, r.open).padStart(10)} ${kops(r.open).padStart(9)}`,
  )
}
const base = rows.filter((r) => r.backend === "libsodium")
if (base.length > 0) {
  console.log("\nspeed-up over libsodium (time ratio)")
  for (const r of rows.filter((x) => x.backend !== "libsodium")) {
    const b = base.find((x) => x.size === r.size)
    if (b !== undefined)
      console.log(
        `${r.backend.padEnd(10)} ${String(r.size).padStart(6)}  seal ${(b.seal / r.seal).toFixed(2)}x  open ${(b.open / r.open).toFixed(2)}x`,
      )
  }
}
