// After `tsup`: CommonJS consumers get the same declarations as .d.cts files (every dist/*.d.ts
// copied, its relative ".js" imports pointed at the ".cjs" twins), as package.json's
// "require" conditions name them.
import { readdirSync, readFileSync, writeFileSync } from "node:fs"

for (const f of readdirSync("dist")) {
  if (!f.endsWith(".d.ts")) continue
  const text = readFileSync(`dist/${f}`, "utf8").replace(/(from\s+['"]\.\/[^'"]+)\.js(['"])/g, "$1.cjs$2")
  writeFileSync(`dist/${f.slice(0, -".d.ts".length)}.d.cts`, text)
}
