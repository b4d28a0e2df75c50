/**
 * The queue device's web view (QueueDevice `http`) in a real browser: headless Chromium opens the
 * page against a running device, the numbers it shows match the device's STATS, it updates live
 * (a put through a client shows up without a reload), a dead letter is looked at (text and hex)
 * and kicked back to ready, a queue is paused and resumed; with an access list the browser logs
 * in as a PLAIN user and sees only that user's namespace. The test's screenshot is the README's
 * (OMQ_SCREENSHOT=1 writes it to docs/images/queue-web-view.png).
 */
import { mkdirSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import type { Browser, Page } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { chromiumAvailable, closeChromium, launchChromium } from "../helpers/browser.js"
import { client, startDevice } from "../queue/queue-util.js"

const hasChromium = chromiumAvailable()

/** The text of a queue row's cell (data-col) as a number. */
async function cell(page: Page, queue: string, col: string): Promise<number> {
  const t = await page.locator(`tr[data-queue="${queue}"] td[data-col="${col}"]`).innerText()
  return Number(t.replace(/,/g, ""))
}

/** Waits (bounded) until the row's cell reads `want`. */
async function cellIs(page: Page, queue: string, col: string, want: number): Promise<void> {
  await page.waitForFunction(
    ([sel, w]) => {
      const td = (globalThis as unknown as Dom).document.querySelector(sel)
      return td !== null && Number(td.textContent!.replace(/,/g, "")) === w
    },
    [`tr[data-queue="${queue}"] td[data-col="${col}"]`, want] as const,
    { timeout: 10_000 },
  )
}

/** What the functions run in the page use of the DOM (this file is compiled without the DOM's types). */
interface Dom {
  document: { querySelector(s: string): { textContent: string | null } | null; querySelectorAll(s: string): { length: number } }
}

// Skipped where Debian's chromium is missing (the reason is printed); under CI=true chromiumAvailable() fails instead.
describe.skipIf(!hasChromium)("queue device web view in Chromium", () => {
  let browser: Browser | undefined
  beforeAll(async () => {
    browser = await launchChromium()
  }, 40_000)
  afterAll(() => closeChromium(browser))

  it("shows the device's numbers, updates live, shows a dead letter as text and hex, kicks it back, pauses and resumes", async () => {
    const dev = await startDevice({ http: "0" })
    const c = client(dev)
    await c.configure("jobs", { retry: { maxAttempts: 1 } })
    for (let i = 0; i < 12; i++) await c.put("jobs", `job ${i}`, { headers: { n: i } })
    for (let i = 0; i < 3; i++) await c.put("emails", `mail ${i}`)
    const bad = (await c.reserve("jobs", { timeout: 1000 }))!
    await bad.bury("could not parse the input")
    const failing = (await c.reserve("jobs", { timeout: 1000 }))!
    await failing.nack() // maxAttempts 1: a dead letter, reason max-attempts
    const page = await browser!.newPage({ viewport: { width: 1280, height: 900 } })
    const errors: string[] = []
    page.on("pageerror", (e) => errors.push(e.message))
    await page.goto(dev.httpUrl!, { timeout: 15_000 })
    await page.waitForSelector('tr[data-queue="jobs"]', { timeout: 10_000 })
    await page.waitForSelector('[data-testid="live"].on', { timeout: 10_000 })

    // The numbers are the device's.
    const s = (await c.stats()).queues
    for (const col of ["ready", "delayed", "reserved", "buried", "total", "consumers"] as const) {
      expect(await cell(page, "jobs", col)).toBe(s.jobs![col])
      expect(await cell(page, "emails", col)).toBe(s.emails![col])
    }
    expect(s.jobs).toMatchObject({ ready: 10, buried: 2, total: 12 })

    // Live: a put shows up without a reload.
    await c.put("emails", "one more")
    await cellIs(page, "emails", "total", 4)

    // The dead letters of jobs, with their reasons; one opened as text, then as hex.
    await page.locator('tr[data-queue="jobs"]').click()
    await page.waitForSelector('[data-testid="message-row"]', { timeout: 10_000 })
    const rows = page.locator('[data-testid="message-row"]')
    expect(await rows.count()).toBe(2)
    const listed = await rows.allInnerTexts()
    expect(listed.join("\n")).toMatch(/could not parse the input/)
    expect(listed.join("\n")).toMatch(/max-attempts/)
    await page.locator(`[data-testid="message-row"][data-seq="${bad.seq}"]`).click()
    await expect
      .poll(() => page.locator('[data-testid="viewer-body"]').innerText(), { timeout: 5000 })
      .toBe(`job ${bad.body.toString().slice(4)}`)
    await page.locator('[data-testid="as-hex"]').click()
    expect(await page.locator('[data-testid="viewer-body"]').innerText()).toMatch(/^6a 6f 62 20/) // "job "

    // Kick the one buried by hand: it moves back to ready, in the page and in the device.
    await page.locator(`[data-testid="message-row"][data-seq="${bad.seq}"] [data-testid="kick"]`).click()
    await cellIs(page, "jobs", "buried", 1)
    await cellIs(page, "jobs", "ready", 11)
    expect((await c.stats("jobs")).queues.jobs).toMatchObject({ buried: 1, ready: 11 })
    expect((await c.peekMessage({ seq: bad.seq }))!.state).toBe("ready")
    await page.waitForFunction(
      () => (globalThis as unknown as Dom).document.querySelectorAll('[data-testid="message-row"]').length === 1,
      undefined,
      {
        timeout: 10_000,
      },
    )

    // Pause and resume.
    await page.locator('[data-testid="pause"]').click()
    await page.waitForSelector('[data-testid="paused"]:not(.hidden)', { timeout: 10_000 })
    expect((await c.stats("jobs")).queues.jobs!.paused).toBe(true)
    expect(await c.reserve("jobs", { timeout: 100 })).toBeNull()
    await page.locator('[data-testid="resume"]').click()
    await page.waitForSelector('[data-testid="paused"].hidden', { state: "attached", timeout: 10_000 })
    expect(await c.reserve("jobs", { timeout: 2000 })).not.toBeNull()
    if (process.env.OMQ_SCREENSHOT === "1") {
      // For the README's picture: some seconds of traffic, so the charts have something to show.
      const worker = client(dev)
      const sub = worker.consume("jobs", { credit: 20 })
      const working = (async () => {
        for await (const d of sub) await (Number(d.body.toString().slice(4)) % 500 === 7 ? d.nack() : d.ack())
      })()
      for (let t = 0; t < 50; t++) {
        await Promise.all(Array.from({ length: 20 + 15 * Math.round(2 + 2 * Math.sin(t / 6)) }, (_, i) => c.put("jobs", `job ${t * 100 + i}`)))
        await new Promise((r) => setTimeout(r, 120))
      }
      await sub.close()
      await working
      await page.waitForTimeout(1500)
      await page.locator('[data-testid="message-row"]').first().click()
      await page.locator('[data-testid="as-text"]').click()
    }
    const shot =
      process.env.OMQ_SCREENSHOT === "1"
        ? fileURLToPath(new URL("../../docs/images/queue-web-view.png", import.meta.url))
        : join(tmpdir(), `omq-web-${process.pid}.png`)
    mkdirSync(join(shot, ".."), { recursive: true })
    await page.evaluate(() => (globalThis as unknown as { scrollTo(x: number, y: number): void }).scrollTo(0, 0))
    await page.screenshot({ path: shot })

    expect(errors).toEqual([])
    await page.close()
  }, 90_000)

  it("with an access list: the browser logs in as a PLAIN user and sees only that user's namespace", async () => {
    const access = {
      users: [
        {
          name: "shop",
          password: "s3cret",
          namespace: "shop",
          allow: [{ queues: "*", rights: ["put", "consume", "admin"] as ("put" | "consume" | "admin")[] }],
        },
        {
          name: "blog",
          password: "b10g",
          namespace: "blog",
          allow: [{ queues: "*", rights: ["put", "consume", "admin"] as ("put" | "consume" | "admin")[] }],
        },
      ],
    }
    const dev = await startDevice({ http: "0", access, socket: { plainServer: true } })
    await client(dev, { socket: { plainUsername: "shop", plainPassword: "s3cret" } }).put("orders", "o1")
    await client(dev, { socket: { plainUsername: "blog", plainPassword: "b10g" } }).put("posts", "p1")
    const context = await browser!.newContext({ httpCredentials: { username: "shop", password: "s3cret" } })
    const page = await context.newPage()
    await page.goto(dev.httpUrl!, { timeout: 15_000 })
    await page.waitForSelector('tr[data-queue="orders"]', { timeout: 10_000 })
    expect(await page.locator('tr[data-queue="posts"]').count()).toBe(0)
    expect(await page.locator("#user").innerText()).toBe("user shop")
    await context.close()
    // Without credentials, or with a wrong password: 401 (and the browser's log-in prompt).
    expect((await fetch(dev.httpUrl!)).status).toBe(401)
    const wrong = await fetch(`${dev.httpUrl!}/api/overview`, {
      headers: { Authorization: `Basic ${Buffer.from("shop:nope").toString("base64")}` },
    })
    expect(wrong.status).toBe(401)
    expect(wrong.headers.get("www-authenticate")).toMatch(/^Basic /)
  }, 60_000)
})
