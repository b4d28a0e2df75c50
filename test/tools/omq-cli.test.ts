/**
 * The `omq send|recv` shell tool (lib/tools/omq-cli.ts), run as a user runs it, with libzmq
 * (the zeromq package) as the peer in both directions: PUSH/PULL, PUB/SUB with a topic,
 * REQ/REP, DEALER/ROUTER with routing ids, stdin, the encodings, --count, --timeout, PLAIN and
 * CURVE, and the exit codes of user errors (2, one line on stderr) and of an address in use (1).
 *
 * Every wait is bounded: the tool gets --timeout or --count, peers a receiveTimeout, and a
 * publisher repeats until its subscriber has a message (the slow joiner) instead of sleeping.
 */
import { spawn, type ChildProcess } from "node:child_process"
import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { afterEach, describe, expect, it } from "vitest"
import * as zmq from "zeromq"
import { delay, freePort, killChild, runProcess, tryReceive } from "../helpers.js"
import { libzmqZapHandler } from "../security/sec-util.js"

const CLI = fileURLToPath(new URL("../../lib/tools/omq-cli.ts", import.meta.url))

interface Run {
  child: ChildProcess
  /** Resolves with the exit code once the process has ended (null: killed by a signal). */
  exit: Promise<number | null>
  stdout(): string
  stderr(): string
  /** The endpoint of the first wildcard bind, from the "omq: bound to ..." line on stderr. */
  bound: Promise<string>
}

const children: ChildProcess[] = []
const sockets: Array<{ close(): void }> = []

afterEach(async () => {
  for (const s of sockets.splice(0)) s.close()
  await Promise.all(children.splice(0).map(killChild))
})

/** Starts `omq ...args`; `stdin` is written and closed (default: closed at once). */
function omq(args: string[], stdin = ""): Run {
  const child = spawn(process.execPath, ["--import", "tsx", CLI, ...args], { stdio: ["pipe", "pipe", "pipe"] })
  children.push(child)
  let out = ""
  let err = ""
  child.stdout!.on("data", (d: Buffer) => (out += d.toString("utf8")))
  const exit = new Promise<number | null>((resolve) => child.once("close", (code) => resolve(code)))
  const bound = new Promise<string>((resolve, reject) => {
    child.stderr!.on("data", (d: Buffer) => {
      err += d.toString("utf8")
      const m = /omq: bound to (\S+)/.exec(err)
      if (m) resolve(m[1]!)
    })
    void exit.then((code) => reject(new Error(`omq exited with ${code} before binding: ${err}`)))
  })
  bound.catch(() => {})
  child.stdin!.on("error", () => {}) // the tool may exit before reading it all
  child.stdin!.end(stdin)
  return { child, exit, stdout: () => out, stderr: () => err, bound }
}

/** Runs `omq ...args` to its end and checks the exit code; gives stdout. */
async function omqOk(args: string[], stdin = ""): Promise<string> {
  const r = omq(args, stdin)
  const code = await r.exit
  expect(code, `omq ${args.join(" ")}: ${r.stderr()}`).toBe(0)
  return r.stdout()
}

function track<S extends { close(): void }>(s: S): S {
  sockets.push(s)
  return s
}

const libzmq = {
  async pull(): Promise<[zmq.Pull, string]> {
    const s = track(new zmq.Pull({ linger: 0, receiveTimeout: 10_000 }))
    await s.bind("tcp://127.0.0.1:*")
    return [s, s.lastEndpoint!]
  },
}

const strings = (msg: Buffer[]) => msg.map((f) => f.toString())

describe("omq send|recv against libzmq", () => {
  it("send PUSH → libzmq PULL: one message per argument, a tab between frames; exits once delivered", async () => {
    const [pull, ep] = await libzmq.pull()
    expect(await omqOk(["send", "--type", "PUSH", "--connect", ep, "one", "a\tb", ""])).toBe("")
    expect(strings(await pull.receive())).toEqual(["one"])
    expect(strings(await pull.receive())).toEqual(["a", "b"])
    expect(strings(await pull.receive())).toEqual([""])
  }, 30_000)

  it("send from stdin: one message per line (a last line without newline too), or NUL-separated with -0; --frame-sep", async () => {
    const [pull, ep] = await libzmq.pull()
    await omqOk(["send", "-t", "push", "-c", ep], "l1\nl2\n\nl4\tframe2")
    expect(strings(await pull.receive())).toEqual(["l1"])
    expect(strings(await pull.receive())).toEqual(["l2"])
    expect(strings(await pull.receive())).toEqual([""])
    expect(strings(await pull.receive())).toEqual(["l4", "frame2"])
    await omqOk(["send", "-t", "PUSH", "-c", ep, "-0", "--frame-sep", "|"], "multi\nline|f2\0second\0")
    expect(strings(await pull.receive())).toEqual(["multi\nline", "f2"])
    expect(strings(await pull.receive())).toEqual(["second"])
    // --frame-sep "": the tab is data.
    await omqOk(["send", "-t", "PUSH", "-c", ep, "--frame-sep", ""], "a\tb\n")
    expect(strings(await pull.receive())).toEqual(["a\tb"])
  }, 30_000)

  it("send --count N goes round the arguments N times' worth; --count on stdin stops after N lines", async () => {
    const [pull, ep] = await libzmq.pull()
    await omqOk(["send", "-t", "PUSH", "-c", ep, "--count", "5", "--interval", "1", "a", "b"])
    const got: string[] = []
    for (let i = 0; i < 5; i++) got.push(...strings(await pull.receive()))
    expect(got).toEqual(["a", "b", "a", "b", "a"])
    await omqOk(["send", "-t", "PUSH", "-c", ep, "-n", "2"], "x\ny\nz\n")
    expect(strings(await pull.receive())).toEqual(["x"])
    expect(strings(await pull.receive())).toEqual(["y"])
    expect(await tryReceive(pull, 200)).toBeUndefined()
  }, 30_000)

  it("libzmq PUSH → recv PULL --count 3: one line per message, frames tab-separated; exits after the third", async () => {
    const r = omq(["recv", "--type", "PULL", "--bind", "tcp://127.0.0.1:*", "--count", "3"])
    const push = track(new zmq.Push({ linger: 0, sendTimeout: 10_000 }))
    push.connect(await r.bound)
    await push.send("m1")
    await push.send(["x", "y"])
    await push.send("m3")
    expect(await r.exit).toBe(0)
    expect(r.stdout()).toBe("m1\nx\ty\nm3\n")
  }, 30_000)

  it("recv --json: frames as utf8 when valid, else base64; --hex: every frame in hex", async () => {
    const json = omq(["recv", "-t", "PULL", "-b", "tcp://127.0.0.1:*", "-n", "2", "--json"])
    const push = track(new zmq.Push({ linger: 0, sendTimeout: 10_000 }))
    push.connect(await json.bound)
    await push.send(["text", Buffer.from([0xff, 0x00])])
    await push.send("é")
    expect(await json.exit).toBe(0)
    expect(
      json
        .stdout()
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as unknown),
    ).toEqual([{ frames: [{ utf8: "text" }, { base64: "/wA=" }] }, { frames: [{ utf8: "é" }] }])
    const hex = omq(["recv", "-t", "PULL", "-b", "tcp://127.0.0.1:*", "-n", "1", "--hex"])
    const push2 = track(new zmq.Push({ linger: 0, sendTimeout: 10_000 }))
    push2.connect(await hex.bound)
    await push2.send([Buffer.from([0, 1]), "A"])
    expect(await hex.exit).toBe(0)
    expect(hex.stdout()).toBe("0001\t41\n")
  }, 30_000)

  it("send --hex, --base64 and --json (stdin) decode the frames before sending", async () => {
    const [pull, ep] = await libzmq.pull()
    await omqOk(["send", "-t", "PUSH", "-c", ep, "--hex", "00ff\t41"])
    expect(await pull.receive()).toEqual([Buffer.from([0, 0xff]), Buffer.from("A")])
    await omqOk(["send", "-t", "PUSH", "-c", ep, "--base64", "/wA="])
    expect(await pull.receive()).toEqual([Buffer.from([0xff, 0])])
    await omqOk(["send", "-t", "PUSH", "-c", ep, "--json"], '{"frames":[{"utf8":"a"},{"base64":"/w=="},{"hex":"00"}]}\n["x","y"]\n')
    expect(await pull.receive()).toEqual([Buffer.from("a"), Buffer.from([0xff]), Buffer.from([0])])
    expect(strings(await pull.receive())).toEqual(["x", "y"])
  }, 30_000)

  it("recv SUB --subscribe TOPIC from a libzmq PUB: only that topic; the publisher repeats until the subscriber has joined", async () => {
    const pub = track(new zmq.Publisher({ linger: 0 }))
    await pub.bind("tcp://127.0.0.1:*")
    const r = omq(["recv", "-t", "SUB", "-c", pub.lastEndpoint!, "-s", "weather", "-n", "2"])
    let running = true
    void r.exit.then(() => (running = false))
    for (let i = 0; running && i < 1000; i++) {
      await pub.send(`sports ${i}`)
      await pub.send(`weather ${i}`)
      await delay(20) // pacing, until omq has two
    }
    expect(await r.exit).toBe(0)
    const lines = r.stdout().trim().split("\n")
    expect(lines).toHaveLength(2)
    for (const l of lines) expect(l).toMatch(/^weather \d+$/)
  }, 40_000)

  it("send PUB --repeat --interval to a libzmq SUB with a topic; SIGINT closes it cleanly (exit 0)", async () => {
    const r = omq(["send", "-t", "PUB", "-b", "tcp://127.0.0.1:*", "--repeat", "--interval", "20", "news hello", "other x"])
    const sub = track(new zmq.Subscriber({ linger: 0, receiveTimeout: 15_000 }))
    sub.subscribe("news")
    sub.connect(await r.bound)
    expect(strings(await sub.receive())).toEqual(["news hello"])
    expect(strings(await sub.receive())).toEqual(["news hello"])
    r.child.kill("SIGINT")
    expect(await r.exit).toBe(0)
  }, 40_000)

  it("recv without --count runs until SIGINT or SIGTERM, then closes cleanly (exit 0)", async () => {
    for (const signal of ["SIGINT", "SIGTERM"] as const) {
      const r = omq(["recv", "-t", "PULL", "-b", "tcp://127.0.0.1:*"])
      await r.bound
      r.child.kill(signal)
      expect(await r.exit).toBe(0)
    }
  }, 30_000)

  it("send REQ → libzmq REP: prints each reply", async () => {
    const rep = track(new zmq.Reply({ linger: 0 }))
    await rep.bind("tcp://127.0.0.1:*")
    const serving = (async () => {
      for await (const [m] of rep) await rep.send(`re:${m!.toString()}`)
    })()
    serving.catch(() => {})
    expect(await omqOk(["send", "-t", "REQ", "-c", rep.lastEndpoint!, "--timeout", "10000", "q1", "q2"])).toBe("re:q1\nre:q2\n")
  }, 30_000)

  it("libzmq REQ → recv REP: prints each request and replies --reply TEXT, or echoes", async () => {
    const r = omq(["recv", "-t", "REP", "-b", "tcp://127.0.0.1:*", "-n", "2", "--reply", "pong"])
    const req = track(new zmq.Request({ linger: 0, receiveTimeout: 10_000, sendTimeout: 10_000 }))
    req.connect(await r.bound)
    await req.send("ping")
    expect(strings(await req.receive())).toEqual(["pong"])
    await req.send(["two", "frames"])
    expect(strings(await req.receive())).toEqual(["pong"])
    expect(await r.exit).toBe(0)
    expect(r.stdout()).toBe("ping\ntwo\tframes\n")
    const echo = omq(["recv", "-t", "REP", "-b", "tcp://127.0.0.1:*", "-n", "1"])
    const req2 = track(new zmq.Request({ linger: 0, receiveTimeout: 10_000, sendTimeout: 10_000 }))
    req2.connect(await echo.bound)
    await req2.send(["echo", "me"])
    expect(strings(await req2.receive())).toEqual(["echo", "me"])
    expect(await echo.exit).toBe(0)
  }, 30_000)

  it("recv ROUTER prints the routing id in hex first; send ROUTER takes it first and waits for that peer", async () => {
    const r = omq(["recv", "-t", "ROUTER", "-b", "tcp://127.0.0.1:*", "-n", "1"])
    const dealer = track(new zmq.Dealer({ linger: 0, routingId: "dealer-1", sendTimeout: 10_000 }))
    dealer.connect(await r.bound)
    await dealer.send(["hi", "there"])
    expect(await r.exit).toBe(0)
    expect(r.stdout()).toBe(`${Buffer.from("dealer-1").toString("hex")}\thi\tthere\n`)

    // omq's ROUTER connects to a libzmq DEALER, whose routing id it learns in the handshake.
    const bound = track(new zmq.Dealer({ linger: 0, routingId: "d2", receiveTimeout: 10_000 }))
    await bound.bind("tcp://127.0.0.1:*")
    const id = Buffer.from("d2").toString("hex")
    await omqOk(["send", "-t", "ROUTER", "-c", bound.lastEndpoint!, "--timeout", "10000", `${id}\thello`])
    expect(strings(await bound.receive())).toEqual(["hello"])
    // --json: "routingId" out of the frames.
    const j = omq(["recv", "-t", "ROUTER", "-b", "tcp://127.0.0.1:*", "-n", "1", "--json"])
    const dealer3 = track(new zmq.Dealer({ linger: 0, routingId: "d3", sendTimeout: 10_000 }))
    dealer3.connect(await j.bound)
    await dealer3.send("x")
    expect(await j.exit).toBe(0)
    expect(JSON.parse(j.stdout())).toEqual({ routingId: Buffer.from("d3").toString("hex"), frames: [{ utf8: "x" }] })
  }, 40_000)

  it("send DEALER --routing-id → libzmq ROUTER sees that id", async () => {
    const router = track(new zmq.Router({ linger: 0, receiveTimeout: 10_000 }))
    await router.bind("tcp://127.0.0.1:*")
    await omqOk(["send", "-t", "DEALER", "-c", router.lastEndpoint!, "--routing-id", "me", "a\tb"])
    expect(strings(await router.receive())).toEqual(["me", "a", "b"])
  }, 30_000)

  it("PLAIN and CURVE clients against libzmq servers; a refused handshake is reported", async () => {
    // libzmq's PLAIN and CURVE servers ask a ZAP handler: PLAIN u/p and any CURVE key pass.
    const zap = await libzmqZapHandler(
      (r) => ({ status: r.mechanism === "CURVE" || r.credentials.map(String).join(":") === "u:p" ? 200 : 400 }),
      track,
    )
    const plain = track(new zmq.Pull({ linger: 0, receiveTimeout: 10_000, plainServer: true }))
    await plain.bind("tcp://127.0.0.1:*")
    await omqOk(["send", "-t", "PUSH", "-c", plain.lastEndpoint!, "--plain-user", "u", "--plain-password", "p", "--timeout", "10000", "plain"])
    expect(strings(await plain.receive())).toEqual(["plain"])
    expect(zap.requests.map((r) => r.slice(5).map(String))).toEqual([["PLAIN", "u", "p"]])
    const keys = zmq.curveKeyPair()
    const curve = track(new zmq.Pull({ linger: 0, receiveTimeout: 10_000, curveServer: true, curveSecretKey: keys.secretKey }))
    await curve.bind("tcp://127.0.0.1:*")
    await omqOk(["send", "-t", "PUSH", "-c", curve.lastEndpoint!, "--curve-server-key", keys.publicKey, "--timeout", "10000", "curve"])
    expect(strings(await curve.receive())).toEqual(["curve"])
    expect(zap.requests.map((r) => r[5]!.toString())).toEqual(["PLAIN", "CURVE"])
    // A refused password is said on stderr (once), not taken for an absent peer.
    const refused = omq([
      "send",
      "-t",
      "PUSH",
      "-c",
      plain.lastEndpoint!,
      "--plain-user",
      "u",
      "--plain-password",
      "bad",
      "--timeout",
      "1500",
      "x",
    ])
    expect(await refused.exit).toBe(3)
    const lines = refused.stderr().trim().split("\n")
    expect(lines[0]).toMatch(/^omq: handshake:error:auth tcp:\/\/127\.0\.0\.1:\d+: Authentication failure/)
    expect(lines.filter((l) => l.includes("handshake:error:auth"))).toHaveLength(1)
    expect(lines.at(-1)).toMatch(/timed out/)
  }, 30_000)

  it("recv as a CURVE server (--curve-secret-key without --curve-server-key) for a libzmq CURVE client", async () => {
    const server = zmq.curveKeyPair()
    const r = omq([
      "recv",
      "-t",
      "PULL",
      "-b",
      "tcp://127.0.0.1:*",
      "-n",
      "1",
      "--curve-secret-key",
      server.secretKey,
      "--curve-public-key",
      server.publicKey,
    ])
    const client = zmq.curveKeyPair()
    const push = track(
      new zmq.Push({
        linger: 0,
        sendTimeout: 10_000,
        curveServerKey: server.publicKey,
        curvePublicKey: client.publicKey,
        curveSecretKey: client.secretKey,
      }),
    )
    push.connect(await r.bound)
    await push.send("secret")
    expect(await r.exit).toBe(0)
    expect(r.stdout()).toBe("secret\n")
  }, 30_000)

  it("several --connect addresses: PUSH deals its messages out between them", async () => {
    const [a, epA] = await libzmq.pull()
    const [b, epB] = await libzmq.pull()
    await omqOk(["send", "-t", "PUSH", "-c", epA, "-c", epB, "-n", "4", "m"])
    const got = [await a.receive(), await a.receive(), await b.receive(), await b.receive()]
    expect(got.map(strings)).toEqual([["m"], ["m"], ["m"], ["m"]])
  }, 30_000)

  it("--timeout: exit 3 with one line on stderr when nothing is received, or nothing can be sent, in time", async () => {
    const port = await freePort() // nobody listens there
    const [recv, req, push] = [
      omq(["recv", "-t", "PULL", "-b", "tcp://127.0.0.1:*", "--timeout", "300"]),
      omq(["send", "-t", "REQ", "-c", `tcp://127.0.0.1:${port}`, "--timeout", "300", "anyone?"]),
      omq(["send", "-t", "PUSH", "-c", `tcp://127.0.0.1:${port}`, "--timeout", "300", "anyone?"]),
    ]
    for (const r of [recv, req, push]) {
      expect(await r.exit).toBe(3)
      expect(r.stderr().trim().split("\n").at(-1)).toMatch(/^omq: timed out after 300 ms waiting to (send|receive)$/)
    }
  }, 30_000)
})

describe("omq user errors", () => {
  it.each([
    ["unknown type", ["send", "-t", "FOO", "-c", "tcp://127.0.0.1:5555", "x"], /unknown socket type "FOO"/],
    ["send with SUB", ["send", "-t", "SUB", "-c", "tcp://127.0.0.1:5555", "x"], /SUB socket cannot send/],
    ["send with PULL", ["send", "-t", "PULL", "-c", "tcp://127.0.0.1:5555", "x"], /PULL socket cannot send/],
    ["recv with PUSH", ["recv", "-t", "PUSH", "-c", "tcp://127.0.0.1:5555"], /PUSH socket cannot recv/],
    ["no address", ["send", "-t", "PUSH", "x"], /--bind or --connect/],
    ["an address without transport", ["send", "-t", "PUSH", "-c", "localhost:5555", "x"], /bad address "localhost:5555"/],
    ["an address without port", ["send", "-t", "PUSH", "-c", "tcp://127.0.0.1", "x"], /bad address tcp:\/\/127\.0\.0\.1/],
    ["an unknown transport", ["recv", "-t", "PULL", "-b", "foo://x"], /bad address foo:\/\/x/],
    ["no type", ["send", "-c", "tcp://127.0.0.1:5555", "x"], /--type is required/],
    ["no command", ["-t", "PUSH"], /send or recv/],
    ["an unknown option", ["send", "-t", "PUSH", "--bogus"], /Unknown option '--bogus'/],
    ["a bad count", ["recv", "-t", "PULL", "-b", "tcp://127.0.0.1:*", "-n", "many"], /--count must be an integer/],
    ["bad hex", ["send", "-t", "PUSH", "-c", "tcp://127.0.0.1:5555", "--hex", "xyz"], /not hexadecimal/],
    ["ROUTER send without a routing id", ["send", "-t", "ROUTER", "-c", "tcp://127.0.0.1:5555", "x"], /ROUTER needs the routing id/],
  ])(
    "%s: exit 2, one line on stderr",
    async (_what, args, message) => {
      const r = omq(args)
      expect(await r.exit).toBe(2)
      expect(r.stdout()).toBe("")
      const lines = r
        .stderr()
        .split("\n")
        .filter((l) => l !== "")
      expect(lines).toHaveLength(1)
      expect(lines[0]).toMatch(/^omq: /)
      expect(lines[0]).toMatch(message)
    },
    30_000,
  )

  it("an address that cannot be bound (in use): exit 1 with the error", async () => {
    const [, ep] = await libzmq.pull()
    const r = omq(["recv", "-t", "PULL", "-b", ep])
    expect(await r.exit).toBe(1)
    expect(r.stderr().trim()).toMatch(new RegExp(`^omq: cannot bind ${ep.replace(/\./g, "\\.")}: Address already in use$`))
  }, 30_000)

  it("README's example, as pasted into sh (npx omq → this work tree's tool, on a free port), prints what README says", async () => {
    const readme = readFileSync(fileURLToPath(new URL("../../README.md", import.meta.url)), "utf8")
    const section = readme.slice(readme.indexOf("### omq send and recv: any ZeroMQ endpoint from the shell"))
    const [, script, expected] = /```sh\n([\s\S]*?)```[\s\S]*?```text\n([\s\S]*?)```/.exec(section)!
    const port = String(await freePort())
    const runnable = script!.replaceAll("npx omq", `"${process.execPath}" --import tsx "${CLI}"`).replaceAll("5555", port)
    const r = await runProcess("sh", ["-c", runnable], { timeout: 30_000 })
    expect(r.status, r.stderr).toBe(0)
    expect(r.stdout).toBe(expected)
  }, 40_000)

  it("--help: the usage on stdout, exit 0", async () => {
    expect(await omqOk(["--help"])).toMatch(/^usage: omq send --type TYPE/)
  }, 30_000)
})
