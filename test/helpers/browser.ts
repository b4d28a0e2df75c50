/**
 * A real browser for the tests of test/browser/: Debian's Chromium, headless, driven through
 * playwright-core (no browser download: `.ci/run` installs the `chromium` package). On a user's
 * machine without it the browser tests skip with a printed reason and how to install it; under
 * `CI=true` they fail instead (test/helpers/foreign-peer.ts).
 *
 * The pieces: `chromiumAvailable` (the probe), `launchChromium`, `serveFiles` (a test page and its
 * scripts over http on port 0), `bundleForBrowser` (esbuild, the page's script from a .ts entry),
 * `openPage` (collects the page's console and errors, and reads the result the page's script
 * publishes with `report` from test/browser/pages/report.ts). Every wait is bounded.
 */
import * as fs from "node:fs"
import * as http from "node:http"
import type { AddressInfo } from "node:net"
import * as path from "node:path"
import { build, type Plugin } from "esbuild"
import { type Browser, chromium, type Page } from "playwright-core"
import { afterAll, beforeAll } from "vitest"
import { withTimeout } from "../helpers.js"
import { foreignPeer } from "./foreign-peer.js"

/** The browser binary: Debian's chromium (override with OMQ_CHROMIUM for another build). */
export const CHROMIUM = process.env.OMQ_CHROMIUM ?? "/usr/bin/chromium"

/** Bounds for starting and stopping Chromium: seconds on a loaded 2-core machine, not milliseconds. */
const LAUNCH_TIMEOUT = 30_000
const CLOSE_TIMEOUT = 10_000

/** The name under which a page's script publishes its result (see test/browser/pages/report.ts). */
export const PAGE_RESULT = "omqPageResult"

/** What a page's script publishes: its value, or the error it threw (as text, with its stack). */
export type PageOutcome = { ok: true; value: unknown } | { ok: false; error: string }

/**
 * True when Chromium is there and runs; otherwise prints why the browser tests are skipped and
 * how to install it, and returns false (throws under CI).
 */
export function chromiumAvailable(): boolean {
  return foreignPeer("browser tests (headless Chromium)", [CHROMIUM, "--version"], "apt-get install chromium")
}

/** Starts headless Chromium. `--no-sandbox`: CI runs as root, where Chromium's sandbox refuses to start. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox"], timeout: LAUNCH_TIMEOUT })
}

/** Closes the browser, bounded (a wedged browser must not hang the test file's afterAll). */
export async function closeChromium(browser: Browser | undefined): Promise<void> {
  if (browser !== undefined) await withTimeout(browser.close(), CLOSE_TIMEOUT, "closing Chromium")
}

/** A tiny http server for a test page. */
export interface FileServer {
  /** `http://127.0.0.1:<port>/`, with the trailing slash. */
  readonly url: string
  close(): Promise<void>
}

const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".json": "application/json",
  ".map": "application/json",
}

/**
 * Serves `files` over http on 127.0.0.1, port 0: either in-memory files (URL path without the
 * leading slash → content) or a directory (never anything outside it). `/` serves `index.html`;
 * a missing favicon.ico is an empty 204; anything else missing is a 404.
 */
export async function serveFiles(files: Readonly<Record<string, string | Uint8Array>> | string): Promise<FileServer> {
  const lookup = (name: string): string | Uint8Array | undefined => {
    if (typeof files !== "string") return Object.hasOwn(files, name) ? files[name] : undefined
    const root = path.resolve(files)
    const file = path.resolve(root, name)
    if (!file.startsWith(root + path.sep)) return undefined
    try {
      return fs.readFileSync(file)
    } catch {
      return undefined
    }
  }
  const server = http.createServer((req, res) => {
    const pathname = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname)
    const name = pathname === "/" ? "index.html" : pathname.slice(1)
    // Chromium asks for one on every page; a 404 would be a console error in every test.
    if (name === "favicon.ico" && lookup(name) === undefined) {
      res.writeHead(204).end()
      return
    }
    const body = req.method === "GET" || req.method === "HEAD" ? lookup(name) : undefined
    if (body === undefined) {
      res.writeHead(404, { "content-type": "text/plain" }).end(`not found: ${pathname}`)
      return
    }
    const type = CONTENT_TYPES[path.extname(name)] ?? "application/octet-stream"
    res.writeHead(200, { "content-type": type, "cache-control": "no-store" }).end(body)
  })
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject)
    server.listen(0, "127.0.0.1", resolve)
  })
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}

/** A page that loads one ES module script (`src` relative to the page). */
export function modulePage(src: string, title = "omq test page"): string {
  return `<!doctype html>\n<html><head><meta charset="utf-8"><title>${title}</title></head>\n<body><script type="module" src="${src}"></script></body></html>\n`
}

/** What a page's bundle puts in place of Node's modules and globals (esbuild's alias and inject). */
export interface BrowserShims {
  /** Module specifier → the file (absolute path) imported instead, e.g. "node:buffer" → the `buffer` package. */
  alias?: Record<string, string>
  /** Files whose exports stand for the globals of the same name (e.g. one exporting `Buffer`). */
  inject?: string[]
  /** esbuild plugins (the browser build's transport redirection, scripts/browser-bundle.mjs). */
  plugins?: Plugin[]
}

/**
 * Bundles `entry` (a .ts file) and everything it imports into one ES module for the browser, as
 * text. `platform: "browser"`: a Node built-in reached from `entry` that `shims` does not replace
 * fails the build (that is the point: the page runs what a browser build would ship).
 */
export async function bundleForBrowser(entry: string, shims: BrowserShims = {}): Promise<string> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    platform: "browser",
    format: "esm",
    target: "es2022",
    write: false,
    sourcemap: "inline",
    logLevel: "silent",
    alias: shims.alias ?? {},
    inject: shims.inject ?? [],
    plugins: shims.plugins ?? [],
  })
  return result.outputFiles[0]!.text
}

/** One console message of the page. */
export interface ConsoleEntry {
  type: string
  text: string
}

/** A page in the browser, with what it printed and threw so far. */
export interface OpenPage {
  readonly page: Page
  /** Every console message, in order. */
  readonly console: ConsoleEntry[]
  /** Uncaught errors and unhandled rejections in the page, and failed requests. */
  readonly errors: string[]
  /**
   * The value the page's script published with `report` (test/browser/pages/report.ts), within
   * `ms`; throws the page's error (with its console and errors) if the script failed or none came.
   */
  result<T = unknown>(ms?: number): Promise<T>
  close(): Promise<void>
}

/**
 * Opens `url` in a new page of `browser` and waits (bounded by `ms`) for its load event, by which
 * time the page's module scripts have run (they are deferred), so their result is published.
 */
export async function openPage(browser: Browser, url: string, ms = 15_000): Promise<OpenPage> {
  const page = await browser.newPage()
  page.setDefaultTimeout(ms)
  const consoleEntries: ConsoleEntry[] = []
  const errors: string[] = []
  page.on("console", (m) => consoleEntries.push({ type: m.type(), text: m.text() }))
  // An uncaught error before the script published its result (say, at module load) means none
  // will come: result() stops waiting at the first one instead of running into its timeout.
  let uncaught: (e: Error) => void = () => {}
  const failed = new Promise<never>((_, reject) => (uncaught = reject))
  failed.catch(() => {})
  page.on("pageerror", (e) => {
    errors.push(e.stack ?? e.message)
    uncaught(e)
  })
  page.on("requestfailed", (r) => errors.push(`request failed: ${r.url()} (${r.failure()?.errorText ?? "?"})`))
  page.on("response", (r) => {
    if (r.status() >= 400) errors.push(`http ${r.status()}: ${r.url()}`)
  })
  const describe = () =>
    [`console:`, ...consoleEntries.map((c) => `  [${c.type}] ${c.text}`), `errors:`, ...errors.map((e) => `  ${e}`)].join("\n")
  await page.goto(url, { waitUntil: "load", timeout: ms })
  return {
    page,
    console: consoleEntries,
    errors,
    async result<T>(resultMs = ms): Promise<T> {
      let outcome: PageOutcome | undefined
      try {
        await Promise.race([page.waitForFunction((name) => name in globalThis, PAGE_RESULT, { timeout: resultMs }), failed])
        outcome = await withTimeout(
          page.evaluate((name) => (globalThis as unknown as Record<string, Promise<PageOutcome>>)[name]!, PAGE_RESULT),
          resultMs,
          "the page's result",
        )
      } catch (err) {
        throw new Error(`no result from ${url}: ${(err as Error).message}\n${describe()}`, { cause: err })
      }
      if (!outcome.ok) throw new Error(`the page's script failed: ${outcome.error}\n${describe()}`)
      return outcome.value as T
    },
    close: () => withTimeout(page.close(), CLOSE_TIMEOUT, "closing the page"),
  }
}

/** A test file's page: bundled, served and a Chromium launched once for the file (see pageFixture). */
export interface PageFixture {
  /** Opens the page with `query` (without "?") in the file's Chromium. */
  open(query?: string): Promise<OpenPage>
}

/**
 * Registers beforeAll/afterAll hooks in the calling test file: bundles `entry` for the browser
 * (with `shims`), serves it as a page and launches Chromium; all of it is closed after the file.
 */
export function pageFixture(entry: string, shims: BrowserShims = {}): PageFixture {
  let browser: Browser | undefined
  let files: FileServer | undefined
  beforeAll(async () => {
    const script = await bundleForBrowser(entry, shims)
    files = await serveFiles({ "index.html": modulePage("page.js"), "page.js": script })
    browser = await launchChromium()
  }, 60_000)
  afterAll(async () => {
    await closeChromium(browser)
    await files?.close()
  }, 30_000)
  return {
    open: (query) => openPage(browser!, query ? `${files!.url}?${query}` : files!.url),
  }
}
