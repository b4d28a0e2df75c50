/**
 * Long fuzzing campaign: `npm run fuzz -- --seconds 60 [--runs 1000] [--strict] [--fail-fast]`.
 *
 * Runs `npx vitest run test/fuzz test/wire/fuzz.test.ts` over and over, each
 * round in a child process with a fresh random OMQ_FC_SEED and a large
 * OMQ_FUZZ_RUNS, until the time is up (the last round is cut short at the
 * deadline through OMQ_FUZZ_DEADLINE; an interrupted property counts as
 * passed for the cases it ran). Prints the rounds, the seeds, the number of
 * fast-check cases executed, known-bug hits, and every failure with the
 * command that reproduces it. Exits 1 if any round failed.
 *
 * Case counts: the test/fuzz properties write one JSON line each to the file
 * named by OMQ_FUZZ_REPORT; test/wire/fuzz.test.ts does not report, so its
 * cases are counted from its fixed numRuns (the fcParams(N, salt) calls in it)
 * for each round in which it passed.
 */
import { spawn } from "node:child_process"
import { randomInt } from "node:crypto"
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

interface Args {
  seconds: number
  runs: number
  strict: boolean
  failFast: boolean
}

function parseArgs(argv: string[]): Args {
  const args: Args = { seconds: 60, runs: 1000, strict: false, failFast: false }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!
    const [flag, inline] = a.includes("=") ? a.split("=", 2) : [a, undefined]
    const value = (): number => {
      const v = Number(inline ?? argv[++i])
      if (!Number.isFinite(v) || v <= 0) throw new Error(`${flag} needs a positive number`)
      return v
    }
    if (flag === "--seconds" || flag === "-s") args.seconds = value()
    else if (flag === "--runs" || flag === "-n") args.runs = Math.round(value())
    else if (flag === "--strict") args.strict = true
    else if (flag === "--fail-fast") args.failFast = true
    else if (flag === "--help" || flag === "-h") {
      console.log("usage: npm run fuzz -- [--seconds 60] [--runs 1000] [--strict] [--fail-fast]")
      process.exit(0)
    } else throw new Error(`unknown argument ${a}`)
  }
  return args
}

interface ReportLine {
  file: string
  property: string
  seed: number
  numRuns: number
  interrupted: boolean
  failed: boolean
  knownBugs: Record<string, number>
}

interface Round {
  index: number
  seed: number
  exitCode: number | null
  seconds: number
  cases: number
  wireCases: number
  properties: number
  interrupted: number
  log: string
  output: string
}

const TEST_PATHS = ["test/fuzz", "test/wire/fuzz.test.ts"]
/** Below this much time left a round is not worth starting (vitest start-up alone takes seconds). */
const MIN_ROUND_SECONDS = 8

/** Cases one passing run of test/wire/fuzz.test.ts executes (it has fixed numRuns). */
function wireCasesPerRun(): number {
  const path = "test/wire/fuzz.test.ts"
  if (!existsSync(path)) return 0
  let total = 0
  for (const m of readFileSync(path, "utf8").matchAll(/fcParams\(\s*(\d+)/g)) total += Number(m[1])
  return total
}

function runRound(index: number, seed: number, args: Args, deadline: number, dir: string): Promise<Round> {
  const report = join(dir, `report-${index}-${seed}.jsonl`)
  const log = join(dir, `round-${index}-${seed}.log`)
  writeFileSync(report, "")
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    OMQ_FC_SEED: String(seed),
    OMQ_FUZZ_RUNS: String(args.runs),
    OMQ_FUZZ_DEADLINE: String(deadline),
    OMQ_FUZZ_REPORT: report,
    NO_COLOR: "1",
  }
  delete env.FORCE_COLOR
  if (args.strict) env.OMQ_FUZZ_STRICT = "1"
  const started = Date.now()
  return new Promise((resolve) => {
    const child = spawn("npx", ["vitest", "run", ...TEST_PATHS], { env, stdio: ["ignore", "pipe", "pipe"] })
    current = child
    let output = ""
    child.stdout.on("data", (b: Buffer) => (output += b.toString()))
    child.stderr.on("data", (b: Buffer) => (output += b.toString()))
    child.on("close", (code) => {
      current = undefined
      writeFileSync(log, output)
      const lines = readFileSync(report, "utf8")
        .split("\n")
        .filter((l) => l.trim() !== "")
        .map((l) => JSON.parse(l) as ReportLine)
      for (const l of lines) {
        for (const [bug, n] of Object.entries(l.knownBugs)) knownHits.set(bug, (knownHits.get(bug) ?? 0) + n)
      }
      // The wire suite ran fully if no test in it failed.
      const wireFailed = /FAIL\s+test\/wire\/fuzz\.test\.ts/.test(output) || !/test\/wire\/fuzz\.test\.ts/.test(output)
      resolve({
        index,
        seed,
        exitCode: code,
        seconds: (Date.now() - started) / 1000,
        cases: lines.reduce((s, l) => s + l.numRuns, 0),
        wireCases: wireFailed ? 0 : wireCasesPerRun(),
        properties: lines.length,
        interrupted: lines.filter((l) => l.interrupted).length,
        log,
        output,
      })
    })
  })
}

let current: ReturnType<typeof spawn> | undefined
const knownHits = new Map<string, number>()

/** The part of vitest's output that explains a failure (failed tests, counterexamples, stacks). */
function failureExcerpt(output: string): string {
  const i = output.search(/Failed Tests|FAIL\s/)
  const text = i >= 0 ? output.slice(i) : output
  return text.split("\n").slice(0, 120).join("\n")
}

function reproduce(seed: number, args: Args): string {
  return `${args.strict ? "OMQ_FUZZ_STRICT=1 " : ""}OMQ_FC_SEED=${seed} OMQ_FUZZ_RUNS=${args.runs} npx vitest run ${TEST_PATHS.join(" ")}`
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2))
  const start = Date.now()
  const end = start + args.seconds * 1000
  const dir = mkdtempSync(join(tmpdir(), "omq-fuzz-"))
  console.log(`omq fuzz: ${args.seconds}s, OMQ_FUZZ_RUNS=${args.runs} per property per round${args.strict ? ", strict" : ""}; logs in ${dir}`)
  const rounds: Round[] = []
  let interruptedByUser = false
  process.on("SIGINT", () => {
    interruptedByUser = true
    current?.kill("SIGINT")
  })
  while (!interruptedByUser) {
    const left = (end - Date.now()) / 1000
    if (rounds.length > 0 && left < MIN_ROUND_SECONDS) break
    const seed = randomInt(1, 0x7fff_ffff)
    const r = await runRound(rounds.length + 1, seed, args, end, dir)
    rounds.push(r)
    const ok = r.exitCode === 0
    console.log(
      `round ${r.index}: seed ${seed} ${ok ? "passed" : `FAILED (exit ${r.exitCode})`} in ${r.seconds.toFixed(1)}s, ` +
        `${r.cases} cases in ${r.properties} test/fuzz properties${r.interrupted ? ` (${r.interrupted} cut at the deadline)` : ""}` +
        ` + ${r.wireCases} in test/wire/fuzz.test.ts`,
    )
    if (!ok) {
      console.log(failureExcerpt(r.output))
      console.log(`reproduce: ${reproduce(seed, args)}   (full log: ${r.log})`)
      if (args.failFast) break
    }
  }
  const failed = rounds.filter((r) => r.exitCode !== 0)
  const cases = rounds.reduce((s, r) => s + r.cases, 0)
  const wire = rounds.reduce((s, r) => s + r.wireCases, 0)
  console.log("\n==== omq fuzz summary ====")
  console.log(`time: ${((Date.now() - start) / 1000).toFixed(1)}s, rounds: ${rounds.length} (${failed.length} failed)`)
  console.log(`fast-check cases executed: ${cases + wire} (test/fuzz: ${cases}, test/wire/fuzz.test.ts: ${wire})`)
  console.log(`seeds: ${rounds.map((r) => `${r.seed}${r.exitCode === 0 ? "" : " (FAILED)"}`).join(", ")}`)
  if (knownHits.size > 0) {
    console.log("known bugs hit (tolerated; --strict makes them fail):")
    for (const [bug, n] of knownHits) console.log(`  ${n}x ${bug}`)
  }
  for (const r of failed) {
    console.log(`FAILED seed ${r.seed}: ${reproduce(r.seed, args)}  (log: ${r.log})`)
  }
  process.exitCode = failed.length > 0 || interruptedByUser ? 1 : 0
}

main().catch((err: unknown) => {
  console.error(err)
  process.exitCode = 2
})
