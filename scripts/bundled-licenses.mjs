// After `tsup`: the packages compiled into dist (tsup.config.ts, `bundled`) keep their licences
// with their code. esbuild's metafiles say which packages' files went in; each one's licence
// text goes into dist/THIRD-PARTY-LICENSES.txt, and the metafiles are removed (they are not
// for users).
import { readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"

const metafiles = readdirSync("dist").filter((f) => /^metafile-.*\.json$/.test(f))
if (metafiles.length === 0) throw new Error("bundled-licenses: no dist/metafile-*.json (is `metafile` on in tsup.config.ts?)")

/** Package directory (…/node_modules/name or …/node_modules/@scope/name) of each bundled input. */
const dirs = new Set()
for (const f of metafiles) {
  const { inputs } = JSON.parse(readFileSync(join("dist", f), "utf8"))
  for (const input of Object.keys(inputs)) {
    const m = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input)
    if (m) dirs.add(m[1])
  }
  rmSync(join("dist", f))
}

const sections = []
for (const dir of [...dirs].sort()) {
  const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"))
  const file = readdirSync(dir).find((f) => /^licen[cs]e(\.md|\.txt)?$/i.test(f))
  if (!file) throw new Error(`bundled-licenses: ${pkg.name} has no LICENSE file in ${dir}`)
  sections.push(`${pkg.name} ${pkg.version} (${pkg.license})\n\n${readFileSync(join(dir, file), "utf8").trim()}\n`)
}
const head =
  "omq's dist/ contains code of the following packages, compiled in by its build.\n" + "Each is used under the licence reproduced below.\n"
writeFileSync("dist/THIRD-PARTY-LICENSES.txt", [head, ...sections].join("\n" + "-".repeat(78) + "\n\n"))
console.log(`bundled-licenses: ${sections.length} package(s): ${[...dirs].map((d) => d.replace(/^.*node_modules\//, "")).join(", ")}`)
