/**
 * A web app and ZeroMQ on one port: an http.Server serves the example page (page.ts, bundled as
 * omq/browser is) and, through attachHttpServer, a ROUTER on ws://…/rpc and a PUB on ws://…/ticker.
 */
import * as http from "node:http"
import { fileURLToPath } from "node:url"
import { build } from "esbuild"
import { Publisher, Router } from "../../../lib/index.js"
import { attachHttpServer } from "../../../lib/entry/ws.js"
// @ts-expect-error a plain-JavaScript build script, without declarations
import { browserAlias, browserInject, browserTransports } from "../../../scripts/browser-bundle.mjs"

export interface BrowserDemo {
  /** The page's address, with the ws:// endpoints in its query. */
  readonly url: string
  close(): void
}

const HTML = `<!doctype html><meta charset="utf-8"><title>omq in the browser</title>
<style>body{font:16px system-ui;margin:2em}code{background:#eee;padding:0 .3em}</style>
<h1>omq in the browser</h1>
<p>DEALER → ROUTER over <code>ws://</code>: <b id="answer">…</b></p>
<p>SUB ← PUB over <code>ws://</code>: <b id="ticks">…</b></p>
<script type="module" src="page.js"></script>`

export async function startBrowserDemo(port = 0): Promise<BrowserDemo> {
  const bundle = await build({
    entryPoints: [fileURLToPath(new URL("./page.ts", import.meta.url))],
    bundle: true,
    platform: "browser",
    format: "esm",
    write: false,
    logLevel: "silent",
    alias: browserAlias,
    inject: browserInject,
    plugins: [browserTransports],
  })
  const script = bundle.outputFiles[0]!.text
  const app = http.createServer((req, res) => {
    const js = req.url?.startsWith("/page.js")
    res.writeHead(200, { "Content-Type": js ? "text/javascript" : "text/html" })
    res.end(js ? script : HTML)
  })
  const detach = attachHttpServer(app)
  await new Promise<void>((resolve) => app.listen(port, "127.0.0.1", resolve))
  const base = `127.0.0.1:${(app.address() as { port: number }).port}`
  const router = new Router({ linger: 0 })
  await router.bind(`ws://${base}/rpc`)
  const pub = new Publisher({ linger: 0 })
  await pub.bind(`ws://${base}/ticker`)
  void (async () => {
    for await (const [id] of router) await router.send([id!, `it is ${new Date().toISOString().slice(11, 19)} UTC`])
  })().catch(() => {})
  const ticker = setInterval(() => void pub.send(["tick", new Date().toISOString().slice(11, 23)]).catch(() => {}), 100)
  const query = new URLSearchParams({ rpc: `ws://${base}/rpc`, ticker: `ws://${base}/ticker` })
  return {
    url: `http://${base}/?${query}`,
    close() {
      clearInterval(ticker)
      router.close()
      pub.close()
      detach()
      app.closeAllConnections()
      app.close()
    },
  }
}
