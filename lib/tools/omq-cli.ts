#!/usr/bin/env node
/**
 * omq: send to and receive from any ZeroMQ endpoint (omq's or libzmq's) from the shell.
 *
 *   omq send --type PUSH --connect tcp://127.0.0.1:5555 hello world
 *   omq recv --type PULL --bind tcp://127.0.0.1:5555 --count 2
 *
 * Exit codes: 0 done, 1 a socket error (an address that cannot be bound, a failed send),
 * 2 bad arguments or input, 3 --timeout passed with nothing sent or received.
 */
import { parseArgs } from "node:util"
import { curveKeyPair, Dealer, Pair, Publisher, Pull, Push, Reply, Request, Router, Subscriber, XPublisher, XSubscriber } from "../index.js"

const USAGE = `usage: omq send --type TYPE (--bind ADDR | --connect ADDR)... [options] [message...]
       omq recv --type TYPE (--bind ADDR | --connect ADDR)... [options]

  send   sends each message argument, or without arguments each line of stdin; REQ prints
         each reply; exits once all is sent (and delivered, within --linger)
  recv   prints each message received, one a line; REP replies to each; runs until --count
         messages or SIGINT/SIGTERM (a clean close, exit 0)

  -t, --type TYPE         PUSH PULL PUB SUB REQ REP DEALER ROUTER PAIR XPUB XSUB (any case)
                          send: PUSH PUB REQ DEALER ROUTER PAIR XPUB XSUB
                          recv: PULL SUB REP DEALER ROUTER PAIR XPUB XSUB
  -b, --bind ADDR         bind to ADDR (tcp://host:port, ipc://path, ws://host:port/path, ...);
                          repeatable. The endpoint a wildcard (tcp://127.0.0.1:*, ipc://*) bound
                          to is printed on stderr
  -c, --connect ADDR      connect to ADDR; repeatable, and combinable with --bind
  -n, --count N           recv: exit after N messages. send: send N messages, going round the
                          message arguments as often as needed (stdin: at most N lines)
      --repeat            send: go round the message arguments until --count or SIGINT
                          (PUB: a subscriber misses what is sent before it has joined; a
                          --repeat --interval publisher reaches it anyway)
  -i, --interval MS       send: wait MS milliseconds between two messages
      --timeout MS        fail (exit 3) when a message cannot be sent, or none is received,
                          within MS milliseconds. With it, a connecting socket sends only to
                          peers it is connected to (ZMQ_IMMEDIATE), so an absent peer times out
      --linger MS         how long to deliver what is still queued at exit (default: until all
                          is delivered, or the --timeout when given; 0: drop it)
  -s, --subscribe TOPIC   SUB/XSUB: subscribe to messages starting with TOPIC (text); repeatable;
                          default: everything
      --routing-id ID     this socket's routing id (text), as ROUTER peers see it
      --identity ID       the same (its libzmq 2 name)
      --reply TEXT        REP: reply TEXT (frames split at the frame separator) to each request;
                          default: send the request back
  -v, --verbose           print each bound endpoint, connection and disconnection on stderr
                          (a refused handshake, such as a wrong password, is printed always)

 messages and frames
  A message is one line (of stdin, or of output); its frames are separated by a tab:
  "a<TAB>b" is a message of two frames. A message argument is one message, split the same way.
      --frame-sep SEP     frame separator instead of the tab; "" for one frame per message.
                          \\t \\n \\0 \\\\ in SEP are a tab, newline, NUL, backslash
  -0, --null              messages are separated by NUL instead of newline (stdin and stdout)
      --hex               frames are written (send) and printed (recv) as hexadecimal
      --base64            frames are written and printed as base64
      --json              one JSON object per line, in and out: {"frames":[{"utf8":"hi"},
                          {"base64":"AAE="}]}: a frame is utf8 when it is valid UTF-8, else
                          base64 (send also takes {"hex":...} and plain strings, or a JSON
                          array of strings). ROUTER adds "routingId" (hex), out of "frames"
  Without --hex, --base64 or --json, frames are raw bytes: take one of those for binary data,
  or where a frame may hold a newline or the frame separator.
  ROUTER: the first frame is the peer's routing id, in hexadecimal (recv prints it, send takes
  it); send waits for that peer to be connected (up to --timeout).

 security (client side: the peer is the server)
      --plain-user USER       PLAIN user name
      --plain-password PASS   PLAIN password
      --curve-server-key KEY  CURVE: the server's public key (Z85, 40 characters); this side
                              uses a new key pair unless given the two below
      --curve-public-key KEY  CURVE: this socket's public key (Z85)
      --curve-secret-key KEY  CURVE: this socket's secret key (Z85); without --curve-server-key
                              this socket is the CURVE server
  -h, --help                  this text

 exit codes: 0 done, 1 socket error (such as an address that cannot be bound), 2 bad arguments
 or input, 3 timed out (--timeout)`

type Verb = "send" | "recv"
type Encoding = "raw" | "hex" | "base64" | "json"

interface TypeInfo {
  make: () => AnySocket
  send: boolean
  recv: boolean
}

/** The part of a socket this tool uses; each socket type has the methods its verb needs. */
interface AnySocket {
  linger: number
  sendTimeout: number
  receiveTimeout: number
  immediate: boolean
  routingId: string | null
  readonly lastEndpoint: string | null
  readonly events: unknown
  bind(address: string): Promise<void>
  connect(address: string): void
  close(): void
  send(message: Buffer[]): Promise<void>
  receive(): Promise<Buffer[]>
  [key: string]: unknown
}

const make = (Ctor: new () => unknown) => () => new Ctor() as AnySocket

const TYPES: Record<string, TypeInfo> = {
  PUSH: { make: make(Push), send: true, recv: false },
  PULL: { make: make(Pull), send: false, recv: true },
  PUB: { make: make(Publisher), send: true, recv: false },
  SUB: { make: make(Subscriber), send: false, recv: true },
  REQ: { make: make(Request), send: true, recv: false },
  REP: { make: make(Reply), send: false, recv: true },
  DEALER: { make: make(Dealer), send: true, recv: true },
  ROUTER: { make: make(Router), send: true, recv: true },
  PAIR: { make: make(Pair), send: true, recv: true },
  XPUB: { make: make(XPublisher), send: true, recv: true },
  XSUB: { make: make(XSubscriber), send: true, recv: true },
}

/** zeromq.js's class names, for whoever types those. */
const ALIASES: Record<string, string> = {
  PUBLISHER: "PUB",
  SUBSCRIBER: "SUB",
  REQUEST: "REQ",
  REPLY: "REP",
  XPUBLISHER: "XPUB",
  XSUBSCRIBER: "XSUB",
}

/** A user error: one line on stderr, no stack. */
class UsageError extends Error {
  constructor(
    message: string,
    readonly code = 2,
  ) {
    super(message)
  }
}

function fail(message: string, code = 2): never {
  process.stderr.write(`omq: ${message}\n`)
  process.exit(code)
}

function integer(v: string | undefined, name: string, min = 0): number | undefined {
  if (v === undefined) return undefined
  const n = Number(v)
  if (v.trim() === "" || !Number.isInteger(n) || n < min)
    throw new UsageError(`--${name} must be an integer >= ${min}, got ${JSON.stringify(v)}`)
  return n
}

/** `\t`, `\n`, `\0`, `\\` in a separator given on the command line. */
function unescape(s: string): string {
  return s.replace(/\\([tn0\\])/g, (_, c: string) => ({ t: "\t", n: "\n", "0": "\0", "\\": "\\" })[c]!)
}

const HEX = /^(?:[0-9a-fA-F]{2})*$/
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/

function fromHex(s: string, what: string): Buffer {
  if (!HEX.test(s)) throw new UsageError(`${what} is not hexadecimal: ${JSON.stringify(s.slice(0, 40))}`)
  return Buffer.from(s, "hex")
}

function decodeText(s: string, encoding: Encoding, what: string): Buffer {
  if (encoding === "hex") return fromHex(s, what)
  if (encoding === "base64") {
    if (!BASE64.test(s) || s.length % 4 === 1) throw new UsageError(`${what} is not base64: ${JSON.stringify(s.slice(0, 40))}`)
    return Buffer.from(s, "base64")
  }
  return Buffer.from(s, "utf8")
}

/** Splits `data` at each occurrence of `sep` (no split for an empty separator). */
function splitBuffer(data: Buffer, sep: Buffer): Buffer[] {
  if (sep.length === 0) return [data]
  const parts: Buffer[] = []
  let start = 0
  for (let i = data.indexOf(sep, start); i >= 0; i = data.indexOf(sep, start)) {
    parts.push(data.subarray(start, i))
    start = i + sep.length
  }
  parts.push(data.subarray(start))
  return parts
}

function isUtf8(b: Buffer): boolean {
  // A round trip is exact only for valid UTF-8 (invalid bytes come back as U+FFFD).
  return Buffer.from(b.toString("utf8"), "utf8").equals(b)
}

function jsonFrame(b: Buffer): { utf8: string } | { base64: string } {
  return isUtf8(b) ? { utf8: b.toString("utf8") } : { base64: b.toString("base64") }
}

function frameFromJson(v: unknown, what: string): Buffer {
  if (typeof v === "string") return Buffer.from(v, "utf8")
  if (v !== null && typeof v === "object" && !Array.isArray(v)) {
    const o = v as Record<string, unknown>
    if (typeof o.utf8 === "string") return Buffer.from(o.utf8, "utf8")
    if (typeof o.base64 === "string") return decodeText(o.base64, "base64", what)
    if (typeof o.hex === "string") return fromHex(o.hex, what)
  }
  throw new UsageError(`${what}: a frame must be a string or {"utf8"|"base64"|"hex": string}`)
}

/** Turns text (an argument, a line of stdin, --reply) into frames, and frames into output. */
class Codec {
  constructor(
    readonly encoding: Encoding,
    readonly frameSep: Buffer,
    readonly terminator: Buffer,
    /** ROUTER: the first frame is a routing id, always hexadecimal. */
    readonly routed: boolean,
  ) {}

  parse(data: Buffer, what: string): Buffer[] {
    if (this.encoding === "json") return this.parseJson(data.toString("utf8"), what)
    const parts = splitBuffer(data, this.frameSep)
    if (this.routed && parts.length < 2)
      throw new UsageError(`${what}: ROUTER needs the routing id (hex), the frame separator, then the message`)
    const frames = parts.map((p, i) =>
      this.routed && i === 0
        ? fromHex(p.toString("utf8"), `${what}: the routing id`)
        : this.encoding === "raw"
          ? p
          : decodeText(p.toString("utf8"), this.encoding, what),
    )
    return frames
  }

  private parseJson(text: string, what: string): Buffer[] {
    let v: unknown
    try {
      v = JSON.parse(text)
    } catch {
      throw new UsageError(`${what} is not JSON: ${JSON.stringify(text.slice(0, 40))}`)
    }
    let list: unknown
    let routingId: unknown
    if (Array.isArray(v)) list = v
    else if (v !== null && typeof v === "object") ({ frames: list, routingId } = v as { frames?: unknown; routingId?: unknown })
    if (!Array.isArray(list)) throw new UsageError(`${what}: expected a JSON array of frames or {"frames": [...]}`)
    const frames = list.map((f) => frameFromJson(f, what))
    if (this.routed) {
      if (typeof routingId === "string") frames.unshift(fromHex(routingId, `${what}: routingId`))
      else if (Array.isArray(v) && frames.length > 0) frames[0] = fromHex(frames[0]!.toString("utf8"), `${what}: the routing id`)
      else throw new UsageError(`${what}: ROUTER needs "routingId" (hex)`)
      if (frames.length < 2) throw new UsageError(`${what}: ROUTER needs a message after the routing id`)
    }
    return frames
  }

  format(frames: Buffer[]): Buffer {
    if (this.encoding === "json") {
      const o: { routingId?: string; frames: unknown[] } = { frames: [] }
      let rest = frames
      if (this.routed && frames.length > 0) {
        o.routingId = frames[0]!.toString("hex")
        rest = frames.slice(1)
      }
      o.frames = rest.map(jsonFrame)
      return Buffer.concat([Buffer.from(JSON.stringify(o), "utf8"), this.terminator])
    }
    const parts: Buffer[] = []
    frames.forEach((f, i) => {
      if (i > 0) parts.push(this.frameSep)
      if (this.routed && i === 0) parts.push(Buffer.from(f.toString("hex")))
      else if (this.encoding === "raw") parts.push(f)
      else parts.push(Buffer.from(f.toString(this.encoding as "hex" | "base64")))
    })
    parts.push(this.terminator)
    return Buffer.concat(parts)
  }
}

/** The messages to send: the arguments (gone round as --count and --repeat say) or stdin's lines. */
async function* messages(args: string[], codec: Codec, count: number | undefined, repeat: boolean): AsyncGenerator<Buffer[]> {
  if (args.length > 0) {
    const parsed = args.map((a, i) => codec.parse(Buffer.from(a, "utf8"), `argument ${i + 1}`))
    const total = count ?? (repeat ? Infinity : parsed.length)
    for (let i = 0; i < total; i++) yield parsed[i % parsed.length]!
    return
  }
  if (count === 0) return
  let pending: Buffer = Buffer.alloc(0)
  let n = 0
  const term = codec.terminator
  for await (const chunk of process.stdin as AsyncIterable<Buffer>) {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk])
    let start = 0
    for (let i = pending.indexOf(term, start); i >= 0; i = pending.indexOf(term, start)) {
      n++
      yield codec.parse(pending.subarray(start, i), `line ${n}`)
      start = i + term.length
      if (count !== undefined && n >= count) return
    }
    pending = pending.subarray(start)
  }
  // A last line without its newline is a message too; after a final newline there is none.
  if (pending.length > 0) yield codec.parse(pending, `line ${n + 1}`)
}

const errorCode = (err: unknown): string | undefined => (err as { code?: unknown } | null)?.code as string | undefined

/** Writes to stdout, waiting when the pipe is full. */
async function output(data: Buffer): Promise<void> {
  if (!process.stdout.write(data)) await new Promise<void>((resolve) => process.stdout.once("drain", resolve))
}

async function main(): Promise<void> {
  let parsed
  try {
    parsed = parseArgs({
      options: {
        type: { type: "string", short: "t" },
        bind: { type: "string", short: "b", multiple: true },
        connect: { type: "string", short: "c", multiple: true },
        count: { type: "string", short: "n" },
        repeat: { type: "boolean" },
        interval: { type: "string", short: "i" },
        timeout: { type: "string" },
        linger: { type: "string" },
        subscribe: { type: "string", short: "s", multiple: true },
        "routing-id": { type: "string" },
        identity: { type: "string" },
        reply: { type: "string" },
        "frame-sep": { type: "string" },
        null: { type: "boolean", short: "0" },
        hex: { type: "boolean" },
        base64: { type: "boolean" },
        json: { type: "boolean" },
        "plain-user": { type: "string" },
        "plain-password": { type: "string" },
        "curve-server-key": { type: "string" },
        "curve-public-key": { type: "string" },
        "curve-secret-key": { type: "string" },
        verbose: { type: "boolean", short: "v" },
        help: { type: "boolean", short: "h" },
      },
      allowPositionals: true,
      strict: true,
    })
  } catch (err) {
    throw new UsageError(`${(err as Error).message} (omq --help for usage)`)
  }
  const { values, positionals } = parsed
  if (values.help) {
    process.stdout.write(USAGE + "\n")
    return
  }
  const [verbArg, ...args] = positionals
  if (verbArg === undefined) throw new UsageError("send or recv? (omq --help for usage)")
  const verb: Verb | undefined = verbArg === "send" ? "send" : verbArg === "recv" || verbArg === "receive" ? "recv" : undefined
  if (verb === undefined) throw new UsageError(`unknown command ${JSON.stringify(verbArg)}: send or recv (omq --help for usage)`)
  if (values.type === undefined) throw new UsageError("--type is required (PUSH, PULL, PUB, SUB, REQ, REP, DEALER, ROUTER, PAIR, XPUB, XSUB)")
  const typeName = ALIASES[values.type.toUpperCase()] ?? values.type.toUpperCase()
  const info = TYPES[typeName]
  if (info === undefined)
    throw new UsageError(
      `unknown socket type ${JSON.stringify(values.type)} (PUSH, PULL, PUB, SUB, REQ, REP, DEALER, ROUTER, PAIR, XPUB, XSUB)`,
    )
  if (!info[verb]) {
    const can = Object.keys(TYPES).filter((t) => TYPES[t]![verb])
    throw new UsageError(`a ${typeName} socket cannot ${verb}; ${verb} with ${can.join(", ")}`)
  }
  if (verb === "recv" && args.length > 0)
    throw new UsageError(`recv takes no message arguments (got ${JSON.stringify(args[0])}); for REP, see --reply`)
  const binds = values.bind ?? []
  const connects = values.connect ?? []
  if (binds.length + connects.length === 0) throw new UsageError("give at least one --bind or --connect address")
  for (const a of [...binds, ...connects])
    if (!/^[a-z][a-z0-9+.-]*:\/\/./i.test(a))
      throw new UsageError(`bad address ${JSON.stringify(a)}: expected transport://address, such as tcp://127.0.0.1:5555`)
  const encodings = (["hex", "base64", "json"] as const).filter((e) => values[e] === true)
  if (encodings.length > 1) throw new UsageError(`--${encodings[0]} and --${encodings[1]} exclude each other`)
  const count = integer(values.count, "count")
  const interval = integer(values.interval, "interval") ?? 0
  const timeout = integer(values.timeout, "timeout", 1)
  const linger = integer(values.linger, "linger", -1)
  if (values.repeat === true && (verb !== "send" || args.length === 0))
    throw new UsageError("--repeat goes round message arguments: send with arguments only")
  if (values.subscribe !== undefined && typeName !== "SUB" && typeName !== "XSUB") throw new UsageError("--subscribe is for SUB and XSUB")
  if (values.reply !== undefined && typeName !== "REP") throw new UsageError("--reply is for REP")
  if (values["routing-id"] !== undefined && values.identity !== undefined)
    throw new UsageError("--routing-id and --identity are the same option: give one")
  const routingId = values["routing-id"] ?? values.identity
  if (routingId !== undefined && (routingId.length === 0 || Buffer.byteLength(routingId) > 255))
    throw new UsageError("--routing-id must be 1 to 255 bytes")
  const plain = values["plain-user"] !== undefined || values["plain-password"] !== undefined
  const curve = values["curve-server-key"] !== undefined || values["curve-secret-key"] !== undefined || values["curve-public-key"] !== undefined
  if (plain && curve) throw new UsageError("PLAIN and CURVE options exclude each other")
  for (const k of ["curve-server-key", "curve-public-key", "curve-secret-key"] as const) {
    const key = values[k]
    if (key !== undefined && !/^[0-9a-zA-Z.\-:+=^!/*?&<>()[\]{}@%$#]{40}$/.test(key))
      throw new UsageError(`--${k} must be a Z85 key of 40 characters`)
  }
  if (values["curve-public-key"] !== undefined && values["curve-secret-key"] === undefined)
    throw new UsageError("--curve-public-key needs --curve-secret-key")

  const encoding: Encoding = encodings[0] ?? "raw"
  const frameSep = Buffer.from(values["frame-sep"] === undefined ? "\t" : unescape(values["frame-sep"]), "utf8")
  const terminator = Buffer.from(values.null === true ? "\0" : "\n")
  if (encoding !== "json" && frameSep.equals(terminator)) throw new UsageError("the frame separator cannot be the message separator")
  const codec = new Codec(encoding, frameSep, terminator, typeName === "ROUTER")
  // Parsed before anything connects: bad input is a usage error, not half a conversation.
  const reply =
    values.reply === undefined
      ? undefined
      : new Codec(encoding, frameSep, terminator, false).parse(Buffer.from(values.reply, "utf8"), "--reply")

  const sock = info.make()
  sock.linger = linger ?? timeout ?? -1
  if (timeout !== undefined) {
    sock.sendTimeout = timeout
    sock.receiveTimeout = timeout
    if (connects.length > 0) sock.immediate = true
  }
  if (routingId !== undefined) sock.routingId = routingId
  if (typeName === "ROUTER") sock.mandatory = true
  if (values["plain-user"] !== undefined || values["plain-password"] !== undefined) {
    sock.plainUsername = values["plain-user"] ?? ""
    sock.plainPassword = values["plain-password"] ?? ""
  }
  if (values["curve-server-key"] !== undefined) {
    const own = values["curve-secret-key"] === undefined ? curveKeyPair() : undefined
    sock.curveServerKey = values["curve-server-key"]
    sock.curveSecretKey = own?.secretKey ?? values["curve-secret-key"]!
    if (own !== undefined) sock.curvePublicKey = own.publicKey
    else if (values["curve-public-key"] !== undefined) sock.curvePublicKey = values["curve-public-key"]
  } else if (values["curve-secret-key"] !== undefined) {
    sock.curveServer = true
    sock.curveSecretKey = values["curve-secret-key"]
    if (values["curve-public-key"] !== undefined) sock.curvePublicKey = values["curve-public-key"]
  }

  // SIGINT/SIGTERM: close (dropping what is still queued) and exit 0.
  const stop = () => {
    sock.linger = 0
    sock.close()
    process.exit(0)
  }
  process.on("SIGINT", stop)
  process.on("SIGTERM", stop)
  process.stdout.on("error", (err: Error) => {
    // The reader went away (| head): stop quietly, as other tools do.
    if (errorCode(err) === "EPIPE") process.exit(0)
    fail(`stdout: ${err.message}`, 1)
  })

  // A refused handshake (wrong password or key, a socket type that cannot talk to this one)
  // would otherwise look like an absent peer: say so, once per peer and reason.
  const reported = new Set<string>()
  const report = (always: boolean) => (e: { type: string; address?: string; error?: Error }) => {
    const cause = (e.error as { cause?: Error } | undefined)?.cause?.message
    const line = `omq: ${e.type}${e.address === undefined ? "" : ` ${e.address}`}${e.error === undefined ? "" : `: ${e.error.message}`}${cause === undefined ? "" : ` (${cause})`}`
    if (always && reported.has(line)) return
    reported.add(line)
    process.stderr.write(line + "\n")
  }
  const events = sock.events as { on(type: string, listener: (e: { type: string; address?: string; error?: Error }) => void): void }
  for (const type of ["handshake:error:auth", "handshake:error:protocol"]) events.on(type, report(true))
  if (values.verbose === true)
    for (const type of ["connect", "accept", "handshake", "disconnect", "handshake:error:other"]) events.on(type, report(false))

  const addressError = (err: unknown, address: string, op: string): UsageError => {
    const code = errorCode(err)
    const bad = code === "EINVAL" || code === "EPROTONOSUPPORT"
    return new UsageError(`${bad ? "bad address" : `cannot ${op}`} ${address}: ${(err as Error).message}`, bad ? 2 : 1)
  }
  try {
    for (const address of binds) {
      try {
        await sock.bind(address)
      } catch (err) {
        throw addressError(err, address, "bind")
      }
      if (values.verbose === true || /:(\*|0)(\/|$)/.test(address) || address === "ipc://*")
        process.stderr.write(`omq: bound to ${sock.lastEndpoint}\n`)
    }
    for (const address of connects) {
      try {
        sock.connect(address)
      } catch (err) {
        throw addressError(err, address, "connect")
      }
    }
  } catch (err) {
    sock.linger = 0
    sock.close()
    throw err
  }

  let started = Date.now()
  const timedOut = (what: string) => new UsageError(`timed out after ${timeout} ms waiting to ${what}`, 3)
  const send = async (frames: Buffer[]) => {
    for (;;) {
      try {
        return await sock.send(frames)
      } catch (err) {
        const code = errorCode(err)
        if (code === "EAGAIN") throw timedOut("send")
        // ROUTER: the peer with that routing id is not (yet) connected: wait for it, within --timeout.
        if (code !== "EHOSTUNREACH") throw err
        if (timeout !== undefined && Date.now() - started > timeout) throw timedOut(`send to routing id ${frames[0]!.toString("hex")}`)
        await new Promise((r) => setTimeout(r, 10))
      }
    }
  }
  const receive = async (): Promise<Buffer[]> => {
    try {
      return await sock.receive()
    } catch (err) {
      if (errorCode(err) === "EAGAIN") throw timedOut("receive")
      throw err
    }
  }

  if (verb === "send") {
    let first = true
    for await (const frames of messages(args, codec, count, values.repeat === true)) {
      if (!first && interval > 0) await new Promise((r) => setTimeout(r, interval))
      first = false
      started = Date.now()
      await send(frames)
      if (typeName === "REQ") await output(codec.format(await receive()))
    }
    process.stdin.destroy()
  } else {
    if (typeName === "SUB") (sock.subscribe as (...t: string[]) => void)(...(values.subscribe ?? [""]))
    if (typeName === "XSUB") for (const t of values.subscribe ?? [""]) await send([Buffer.concat([Buffer.from([1]), Buffer.from(t, "utf8")])])
    for (let n = 0; count === undefined || n < count; n++) {
      const frames = await receive()
      await output(codec.format(frames))
      if (typeName === "REP") {
        started = Date.now()
        await send(reply ?? frames)
      }
    }
  }
  sock.close()
}

main().catch((err: unknown) => {
  if (err instanceof UsageError) fail(err.message, err.code)
  const code = errorCode(err)
  fail(code === undefined ? ((err as Error).stack ?? String(err)) : `${(err as Error).message} (${code})`, 1)
})
