/**
 * omq as a user installs it (issue 13, "runs everywhere a user has JavaScript"): the tarball
 * npm packs from the work tree; a project in a temp dir that installs it with no compiler;
 * `import` and `require` of every subpath export on the lowest Node of each supported line;
 * TypeScript, Jest 29 (CommonJS), esbuild and webpack consumers; and a git dependency, which
 * npm builds with the `prepare` script. Binaries of older Node come from the registry
 * (test/helpers/package.ts). Missing npm or git skips with a printed reason (fails under CI).
 */
import { PAGE_RESULT, chromiumAvailable, closeChromium, launchChromium, modulePage, openPage, serveFiles } from "../helpers/browser.js"
import * as fs from "node:fs"
import { builtinModules } from "node:module"
import * as path from "node:path"
import { build } from "esbuild"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import webpack from "webpack"
import { FIXTURES, REPO, installInto, nodeBinary, npmAvailable, ok, packWorkTree, run, tempDir, type Packed } from "../helpers/package.js"

const pkg = JSON.parse(fs.readFileSync(path.join(REPO, "package.json"), "utf8")) as {
  engines: { node: string }
  exports: Record<string, string | Record<string, { types: string; default: string }>>
  bin: Record<string, string>
  dependencies: Record<string, string>
}

/**
 * The Node versions checked: the lowest of each supported release line. 16.17 and 18.3 are
 * the floors in "engines" (util.parseArgs, which the omq-queue CLI uses, arrived there; the
 * library alone loads from 16.9, where Object.hasOwn arrived); 20.0 and 22.0 have neither
 * zlib.crc32 nor require() of ES modules, 24.0 is the newest line. The Node running vitest
 * is checked as well.
 */
const NODE_VERSIONS = ["16.17.0", "18.3.0", "20.0.0", "22.0.0", "24.0.0"]

/** What `npm pack` may ship besides dist/. */
const TOP_LEVEL = ["LICENSE", "README.md", "package.json"]
/**
 * Budget for the tarball (bytes): about 320 kB / 1.2 MB when it was set; source maps alone were
 * 1.6 MB. Raised by 40 kB / 150 kB for dist/browser.js (omq/browser, 190 kB minified, ~60 kB
 * packed: a second build, not growth of the Node one), which took the package to 401 kB.
 * Raised again by 80 kB / 300 kB for issue 16 (streams and consumer groups, access control,
 * tracing, the durable forwarder, Majordomo and Titanic: ~6,000 lines of library, each in the
 * ESM chunks, the CommonJS bundle and two declaration builds), which took it to 483 kB / 1.8 MB.
 * Raised again by 80 kB / 300 kB for issues 17 and 18 (shared PostgreSQL devices, the web view
 * and its page, metrics, omq-queue's commands, the omq send/recv tool, trace context: ~5,000
 * lines), which took it to 557 kB / 2.07 MB. The CommonJS bundle (760 kB, unminified) is the
 * largest file; a size pass (minifying it, or sharing the two declaration builds) is planned.
 * The budget still catches source maps and anything accidental of that order.
 */
const MAX_PACKED = 600_000
const MAX_UNPACKED = 2_250_000

// Skipped, with the reason printed, where npm cannot be run (under CI=true that fails instead).
const enabled = npmAvailable()

// Skipped where npm cannot be run (the reason is printed above); under CI=true that fails instead.
describe.skipIf(!enabled)("the packed package, installed into a new project", () => {
  let work: string
  let packed: Packed
  let consumer: string
  let installLog: string

  beforeAll(async () => {
    work = tempDir("package")
    packed = await packWorkTree(work)
    consumer = path.join(work, "consumer")
    // No compiler: anything that tries to build native code fails (and shows in the log).
    installLog = await installInto(consumer, packed.tarball, { CC: "/bin/false", CXX: "/bin/false" })
    for (const f of fs.readdirSync(FIXTURES)) fs.copyFileSync(path.join(FIXTURES, f), path.join(consumer, f))
  }, 240_000)

  afterAll(() => {
    if (work !== undefined) fs.rmSync(work, { recursive: true, force: true })
  })

  it("ships the ESM and CommonJS files and their types for every subpath export, LICENSE and README, within the size budget", () => {
    const files = new Set(packed.files.map((f) => f.path))
    expect(Object.keys(pkg.exports).sort()).toEqual([
      ".",
      "./browser",
      "./devices",
      "./errors",
      "./package.json",
      "./queue",
      "./security",
      "./v5-compat",
      "./ws",
    ])
    for (const [subpath, conditions] of Object.entries(pkg.exports)) {
      if (typeof conditions === "string") continue
      // omq/browser is an ES module only (web pages and their bundlers import it).
      for (const condition of subpath === "./browser" ? ["import"] : ["import", "require"]) {
        const target = conditions[condition]
        expect(target, `${subpath} has an "${condition}" condition`).toBeDefined()
        for (const file of [target!.types, target!.default]) expect(files, `${subpath} → ${file}`).toContain(file.replace(/^\.\//, ""))
      }
    }
    for (const bin of Object.values(pkg.bin)) expect(files).toContain(bin.replace(/^\.\//, ""))
    for (const f of TOP_LEVEL) expect(files).toContain(f)
    expect(files).toContain("dist/THIRD-PARTY-LICENSES.txt")
    expect([...files].filter((f) => !f.startsWith("dist/") && !TOP_LEVEL.includes(f))).toEqual([])
    expect([...files].filter((f) => f.endsWith(".map"))).toEqual([])
    expect(files).not.toContain("dist/queue-cli.cjs")
    expect(files).not.toContain("dist/omq-cli.cjs")
    expect(packed.size).toBeLessThan(MAX_PACKED)
    expect(packed.unpackedSize).toBeLessThan(MAX_UNPACKED)
  })

  it("source maps come only on request: OMQ_SOURCEMAPS=1 npm run build", async () => {
    const src = path.join(work, "src") // packWorkTree's copy of the work tree
    ok(await run("npm", ["run", "build"], { cwd: src, env: { ...process.env, OMQ_SOURCEMAPS: "1" }, timeout: 120_000 }), "npm run build")
    expect(fs.existsSync(path.join(src, "dist/index.js.map"))).toBe(true)
    expect(fs.existsSync(path.join(src, "dist/cjs/bundle.cjs.map"))).toBe(true)
  }, 150_000)

  it("its code loads only Node's own modules and the declared dependencies (the rest is compiled in, with its licences)", () => {
    const dist = path.join(consumer, "node_modules/omq/dist")
    const allowed = new Set([...builtinModules, ...Object.keys(pkg.dependencies)])
    const specifiers = new Set<string>()
    const walk = (dir: string): void => {
      for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, e.name)
        if (e.isDirectory()) walk(p)
        else if (/\.(c|m)?js$/.test(e.name)) {
          const code = fs.readFileSync(p, "utf8")
          // Not `"from"` itself (a string in the code, such as an argument name): from must not follow a quote.
          for (const m of code.matchAll(/(?:(?<!["'])\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*)"([^"./][^"]*)"/g)) specifiers.add(m[1]!)
        }
      }
    }
    walk(dist)
    const bare = [...specifiers].map((s) => s.replace(/^node:/, "").replace(/^((?:@[^/]+\/)?[^/]+).*$/, "$1"))
    expect(bare.filter((s) => !allowed.has(s))).toEqual([])
    const notices = fs.readFileSync(path.join(dist, "THIRD-PARTY-LICENSES.txt"), "utf8")
    for (const name of ["@noble/curves", "@noble/hashes", "@noble/ciphers", "cbor-x"]) expect(notices).toContain(name)
  })

  it("installs with no compiler and runs no install script: no node-gyp, no native module in the tree", () => {
    expect(installLog).not.toMatch(/gyp|node-pre-gyp|prebuild-install|cmake/i)
    const installed: string[] = []
    const scripts: string[] = []
    const native: string[] = []
    const walk = (dir: string): void => {
      for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, e.name)
        if (e.isDirectory() && !e.isSymbolicLink()) {
          if (e.name.startsWith("@") || e.name === "node_modules") walk(p)
          else if (fs.existsSync(path.join(p, "package.json")) && path.basename(dir).match(/^(node_modules|@.*)$/)) {
            const meta = JSON.parse(fs.readFileSync(path.join(p, "package.json"), "utf8")) as { name: string; scripts?: Record<string, string> }
            installed.push(meta.name)
            for (const s of ["preinstall", "install", "postinstall"]) if (meta.scripts?.[s]) scripts.push(`${meta.name}: ${s}`)
            if (fs.existsSync(path.join(p, "binding.gyp"))) native.push(`${meta.name}: binding.gyp`)
            walk(p)
          } else walk(p)
        } else if (e.name.endsWith(".node")) native.push(p)
      }
    }
    walk(path.join(consumer, "node_modules"))
    // pg (node-postgres, the queue's PostgreSQL backend, loaded only when a device has a `store`) brings
    // its pure-JavaScript helpers; pg-cloudflare is its optional dependency for Cloudflare Workers.
    const PG = ["pg", "pg-cloudflare", "pg-connection-string", "pg-int8", "pg-pool", "pg-protocol", "pg-types", "pgpass"]
    const PG_HELPERS = ["postgres-array", "postgres-bytea", "postgres-date", "postgres-interval", "split2", "xtend"]
    // prom-client (the queue device's /metrics, loaded only with `http`) brings tdigest (and its
    // bintrees) and @opentelemetry/api (the API alone, no SDK: for its exemplars). So the API is in
    // every install, though omq declares it an optional peer: the queue client finds it, finds no
    // tracer provider registered, and makes no spans (test/queue/trace-context.test.ts).
    const PROM = ["prom-client", "tdigest", "bintrees", "@opentelemetry/api"]
    expect(installed.sort()).toEqual(["debug", "libsodium", "libsodium-wrappers", "ms", "omq", ...PG, ...PG_HELPERS, ...PROM, "ws"].sort())
    expect(scripts).toEqual([])
    expect(native).toEqual([])
  })

  it("import and require of every subpath export work, and a socket pair, CURVE, ipc, inproc and the queue (this Node)", async () => {
    for (const entry of ["smoke.mjs", "smoke.cjs"]) {
      const r = ok(await run(process.execPath, [entry], { cwd: consumer, timeout: 30_000 }), entry)
      expect(r.stdout).toMatch(/omq smoke ok/)
    }
    // The bins as npm links them (the shebang, the executable bit): `omq --help` exits 0.
    const omq = ok(await run(path.join(consumer, "node_modules/.bin/omq"), ["--help"], { cwd: consumer, timeout: 30_000 }), "omq --help")
    expect(omq.stdout).toMatch(/usage: omq send/)
  }, 60_000)

  it("TypeScript resolves the types of every subpath, as an ES module and as CommonJS (NodeNext)", async () => {
    const dir = path.join(consumer, "types")
    fs.mkdirSync(dir, { recursive: true })
    const source = fs.readFileSync(path.join(FIXTURES, "types.mts"), "utf8")
    fs.writeFileSync(path.join(dir, "types.mts"), source)
    fs.writeFileSync(path.join(dir, "types.cts"), source)
    const tsconfig = {
      compilerOptions: {
        module: "nodenext",
        moduleResolution: "nodenext",
        target: "es2022",
        strict: true,
        noEmit: true,
        // omq's declarations are checked too (a consumer without skipLibCheck).
        skipLibCheck: false,
        types: ["node"],
        typeRoots: [path.join(REPO, "node_modules/@types")],
      },
      files: ["types.mts", "types.cts"],
    }
    fs.writeFileSync(path.join(dir, "tsconfig.json"), JSON.stringify(tsconfig))
    ok(await run(process.execPath, [path.join(REPO, "node_modules/typescript/bin/tsc"), "-p", dir], { cwd: dir, timeout: 90_000 }), "tsc")
  }, 120_000)

  it("the declarations show only the public API: no internal class or interface, no protected member", () => {
    const dist = path.join(consumer, "node_modules/omq/dist")
    const internals = [
      "Pipe",
      "PipeOwner",
      "PipeEngine",
      "Deque",
      "Engine",
      "EngineHost",
      "ConnectionEngine",
      "Connecter",
      "ConnecterHost",
      "InprocLink",
      "InprocRegistry",
      "RemoteLink",
      "ZapClient",
      "SocketPort",
      "Transport",
      "FairQueue",
      "LoadBalancer",
    ]
    const declared = new RegExp(
      `^\\s*(?:export\\s+)?(?:declare\\s+)?(?:abstract\\s+)?(?:class|interface|type)\\s+(${internals.join("|")})\\b`,
      "m",
    )
    for (const f of fs.readdirSync(dist).filter((n) => /\.d\.c?ts$/.test(n))) {
      const text = fs.readFileSync(path.join(dist, f), "utf8")
      expect(text, `${f} declares an internal type`).not.toMatch(declared)
      expect(text, `${f} declares a protected member`).not.toMatch(/^\s+protected\s/m)
    }
  })

  it("omq/browser, as installed, runs in Chromium: a page's DEALER talks to a Node ROUTER over ws://; it imports nothing", async () => {
    const file = path.join(consumer, "node_modules/omq/dist/browser.js")
    const code = fs.readFileSync(file, "utf8")
    expect(code).not.toMatch(/^\s*import\s[^;]*from\s*["']/m) // one self-contained module
    if (!chromiumAvailable()) return
    const { Router } = await import("../../lib/index.js")
    const router = new Router({ linger: 0, receiveTimeout: 10_000 })
    await router.bind("ws://127.0.0.1:*/page")
    const page = `import { Dealer } from "./omq-browser.js"
      const d = new Dealer({ linger: 0, routingId: "tab", receiveTimeout: 8000 })
      d.connect(new URL(location.href).searchParams.get("router"))
      await d.send("from the page")
      const [reply] = await d.receive()
      globalThis.${PAGE_RESULT} = Promise.resolve({ ok: true, value: reply.toString() })`
    const files = await serveFiles({ "index.html": modulePage("page.js"), "page.js": page, "omq-browser.js": code })
    const browser = await launchChromium()
    try {
      const opened = await openPage(browser, `${files.url}?router=${encodeURIComponent(router.lastEndpoint!)}`)
      try {
        const [id, body] = await router.receive()
        expect([id!.toString(), body!.toString()]).toEqual(["tab", "from the page"])
        await router.send([id!, "from Node"])
        expect(await opened.result<string>()).toBe("from Node")
        expect(opened.errors).toEqual([])
      } finally {
        await opened.close()
      }
    } finally {
      router.close()
      await closeChromium(browser)
      await files.close()
    }
  }, 90_000)

  it("package.json's engines is the range whose lowest versions are checked here", () => {
    expect(pkg.engines.node).toBe("^16.17.0 || >=18.3.0")
    expect(NODE_VERSIONS).toEqual(expect.arrayContaining(["16.17.0", "18.3.0"]))
  })

  it.each(NODE_VERSIONS)(
    "Node %s: import, require, and the omq-queue and omq CLIs",
    async (version) => {
      const node = await nodeBinary(version)
      if (node === null) return
      const cli = path.join(consumer, "node_modules/omq", pkg.bin["omq-queue"]!)
      const omqCli = path.join(consumer, "node_modules/omq", pkg.bin["omq"]!)
      const [esm, cjs, help, omqHelp] = await Promise.all([
        run(node, ["smoke.mjs"], { cwd: consumer, timeout: 30_000 }),
        run(node, ["smoke.cjs"], { cwd: consumer, timeout: 30_000 }),
        run(node, [cli, "--help"], { cwd: consumer, timeout: 30_000 }),
        run(node, [omqCli, "--help"], { cwd: consumer, timeout: 30_000 }),
      ])
      expect(ok(esm, `node ${version} smoke.mjs`).stdout).toContain(`omq smoke ok on node v${version}`)
      expect(ok(cjs, `node ${version} smoke.cjs`).stdout).toContain(`omq smoke ok on node v${version}`)
      expect(ok(help, `node ${version} omq-queue --help`).stdout).toMatch(/usage: omq-queue/)
      expect(ok(omqHelp, `node ${version} omq --help`).stdout).toMatch(/usage: omq send/)
    },
    180_000,
  )

  it("Jest 29 (CommonJS, no ESM support) requires omq and runs a PUSH/PULL pair and every subpath", async () => {
    const jest = path.join(REPO, "node_modules/jest")
    expect(JSON.parse(fs.readFileSync(path.join(jest, "package.json"), "utf8")).version).toMatch(/^29\./)
    const config = {
      rootDir: consumer,
      testEnvironment: "node",
      testMatch: ["<rootDir>/*.jest.cjs"],
      transform: {},
      cacheDirectory: path.join(consumer, ".jest-cache"),
    }
    const r = await run(process.execPath, [path.join(jest, "bin/jest.js"), "--ci", "--no-watchman", "--config", JSON.stringify(config)], {
      cwd: consumer,
      timeout: 90_000,
    })
    ok(r, "jest")
    expect(r.stderr).toMatch(/Tests:\s+2 passed, 2 total/)
  }, 120_000)

  /**
   * A bundle of the smoke program must run with no node_modules beside it: it is written to
   * a directory outside the project and run from there.
   */
  const runBundle = async (file: string): Promise<void> => {
    const r = ok(await run(process.execPath, [file], { cwd: path.dirname(file), timeout: 30_000 }), `node ${file}`)
    expect(r.stdout).toMatch(/omq smoke ok/)
  }

  it("esbuild bundles an omq program for Node, as CommonJS and as an ES module, and the bundles run", async () => {
    const out = path.join(work, "esbuild-out")
    await build({
      absWorkingDir: consumer,
      entryPoints: ["smoke.cjs"],
      bundle: true,
      platform: "node",
      format: "cjs",
      outfile: path.join(out, "cjs.cjs"),
      logLevel: "error",
    })
    await build({
      absWorkingDir: consumer,
      entryPoints: ["smoke.mjs"],
      bundle: true,
      platform: "node",
      format: "esm",
      outfile: path.join(out, "esm.mjs"),
      logLevel: "error",
      // As for any ESM bundle with CommonJS inside (here `debug`, and the smoke program's
      // own body): the CommonJS parts require Node's built-ins, so the bundle gets a require.
      banner: { js: 'import { createRequire } from "node:module"; const require = createRequire(import.meta.url);' },
    })
    await runBundle(path.join(out, "cjs.cjs"))
    await runBundle(path.join(out, "esm.mjs"))
  }, 60_000)

  it("webpack 5 (its Node API) bundles an omq program for Node from require and from import, and the bundles run", async () => {
    for (const entry of ["smoke.cjs", "smoke.mjs"]) {
      const out = path.join(work, `webpack-out-${entry.replace(".", "-")}`)
      const stats = await new Promise<webpack.Stats>((resolve, reject) => {
        webpack(
          {
            mode: "production",
            target: "node",
            context: consumer,
            entry: `./${entry}`,
            output: { path: out, filename: "main.js" },
            optimization: { minimize: false },
          },
          (err, result) => (err || result === undefined ? reject(err ?? new Error("webpack: no result")) : resolve(result)),
        )
      })
      const info = stats.toJson({ all: false, errors: true, warnings: true })
      expect(info.errors ?? []).toEqual([])
      // Optional helpers are all webpack may not find: debug's `supports-color`, ws's
      // `bufferutil` and `utf-8-validate` (native add-ons ws uses when present), and pg's
      // `pg-native` (the libpq binding pg uses only when asked to).
      for (const w of info.warnings ?? []) expect(w.message).toMatch(/Can't resolve '(supports-color|bufferutil|utf-8-validate|pg-native)'/)
      await runBundle(path.join(out, "main.js"))
    }
  }, 90_000)
})

// Skipped, with the reason printed, where npm or git cannot be run (under CI=true that fails instead).
describe.skipIf(!enabled)("a git dependency of the repository", () => {
  let work: string | undefined

  afterAll(() => {
    if (work !== undefined) fs.rmSync(work, { recursive: true, force: true })
  })

  // npm clones the repository (its HEAD: committed work only), installs its devDependencies
  // there, runs `prepare` (the build) and packs the result; without `prepare` the install
  // "succeeded" with no dist/ and `require("omq")` failed.
  it("`npm install git+file://…` builds dist/ with the prepare script, and omq loads and works", async () => {
    work = tempDir("git-dependency")
    const consumer = path.join(work, "consumer")
    await installInto(consumer, `git+file://${REPO}`, {}, 240_000)
    expect(fs.existsSync(path.join(consumer, "node_modules/omq/dist/index.cjs"))).toBe(true)
    for (const f of ["smoke-body.cjs", "smoke.cjs", "smoke.mjs"]) fs.copyFileSync(path.join(FIXTURES, f), path.join(consumer, f))
    for (const entry of ["smoke.cjs", "smoke.mjs"]) {
      expect(ok(await run(process.execPath, [entry], { cwd: consumer, timeout: 30_000 }), entry).stdout).toMatch(/omq smoke ok/)
    }
  }, 300_000)
})
