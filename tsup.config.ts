import { defineConfig } from "tsup"

export default defineConfig({
  // The library, and the omq-queue CLI (bin in package.json).
  entry: { index: "lib/index.ts", "queue-cli": "lib/devices/queue/cli.ts" },
  format: ["esm", "cjs"],
  // Type declarations only for the library entry.
  dts: { entry: { index: "lib/index.ts" } },
  sourcemap: true,
  clean: true,
  target: "node20",
  tsconfig: "tsconfig.build.json",
})
