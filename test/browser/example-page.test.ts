/**
 * The example page of `npm run demo` (patterns/examples/browser/): served with ZeroMQ on one
 * port, opened in headless Chromium, it shows the ROUTER's answer and the PUB's ticks.
 */
import { describe, expect, it } from "vitest"
import { browserPage } from "../../patterns/examples/browser.js"
import { chromiumAvailable } from "../helpers/browser.js"

// Skipped where Debian's chromium is missing (the reason is printed); under CI=true chromiumAvailable() fails instead.
describe.skipIf(!chromiumAvailable())("the example page", () => {
  it("shows what its DEALER and SUB got over ws://", async () => {
    expect(await browserPage()).toMatch(/^headless Chromium showed "it is \d\d:\d\d:\d\d UTC" and "\d+ ticks, last: [\d:.]+"$/)
  }, 45_000)
})
