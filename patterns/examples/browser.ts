/**
 * `npm run demo`'s browser example: serves the example page (patterns/examples/browser/) and,
 * where Debian's chromium is installed, opens it headless and reads what the page shows.
 */
import * as fs from "node:fs"
import { startBrowserDemo } from "./browser/server.js"

const CHROMIUM = "/usr/bin/chromium"

export async function browserPage(): Promise<string> {
  const demo = await startBrowserDemo()
  try {
    if (!fs.existsSync(CHROMIUM)) return `page served at ${demo.url} (no ${CHROMIUM} here to open it: apt-get install chromium)`
    const { chromium } = await import("playwright-core")
    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox"] })
    try {
      const page = await browser.newPage({ viewport: { width: 720, height: 200 } })
      await page.goto(demo.url)
      await page.waitForSelector("body[data-done=true]", { timeout: 8000 })
      const answer = await page.textContent("#answer")
      const ticks = await page.textContent("#ticks")
      const shot = process.env.OMQ_SCREENSHOT
      if (shot) await page.screenshot({ path: shot })
      return `headless Chromium showed "${answer}" and "${ticks}"`
    } finally {
      await browser.close()
    }
  } finally {
    demo.close()
  }
}
