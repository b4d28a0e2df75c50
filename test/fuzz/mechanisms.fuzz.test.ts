/**
 * Fuzzing of the security handshakes (NULL, PLAIN, CURVE) and of CURVE's
 * MESSAGE codec: everything a peer can send before and after the handshake.
 *
 * Invariant: Mechanism.onCommand either returns frames, returns a promise
 * that resolves (to frames) or rejects with a ProtocolError, or throws a
 * ProtocolError; never another exception type, and the promise always
 * settles. The same for FrameCodec.decode (ProtocolError only).
 *
 * Inputs: valid handshake bodies recorded from an in-memory client ↔ server
 * run, replayed into copies of the receiver's state at each step, with bit
 * flips, truncations, extensions, structure-aware field overwrites (keys,
 * nonces, metadata lengths), wrong command names and random bytes; plus, for
 * CURVE, an adversarial peer that holds valid keys and builds authentic boxes
 * around hostile content (small-order keys, bad vouches, garbage metadata),
 * which is the only way to reach the code behind the cryptographic checks.
 */
import fc from "fast-check"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { ProtocolError } from "../../lib/errors.js"
import { CurveClient, CurveServer } from "../../lib/mechanisms/curve.js"
import type { FrameCodec, LocalProperties, Mechanism, ZapContext, ZapReply } from "../../lib/mechanisms/mechanism.js"
import { NullMechanism } from "../../lib/mechanisms/null.js"
import { PlainClient, PlainServer } from "../../lib/mechanisms/plain.js"
import { generateKeyPair, open, precompute, seal, type KeyPair } from "../../lib/security/crypto.js"
import { commandBody, parseRawCommand } from "../../lib/wire/command.js"
import { encodeMetadata } from "../../lib/wire/metadata.js"
import {
  type Field,
  type Mutation,
  checkProperty,
  expectOnlyProtocolError,
  frameBodies,
  fuzzParams,
  hex,
  keyArb,
  knownBugSummary,
  stat,
  statsSummary,
  mutate,
  mutationArb,
  testTimeout,
  withTimeout,
} from "./fuzz-util.js"

const FILE = "mechanisms.fuzz"
const LOCAL: LocalProperties = { socketType: "DEALER" }
/** A handshake step must settle within this (it is all in-memory; only a hang gets near it). */
const SETTLE_MS = 2_000

afterAll(() => {
  for (const line of knownBugSummary()) console.warn(line)
  const st = statsSummary()
  if (st !== undefined) console.log(`outcomes (${FILE}):\n${st}`)
})

// ---------------------------------------------------------------- driving a mechanism

/**
 * A copy of a mechanism's state, so one recorded handshake can be replayed
 * into many fresh receivers (the handshakes are stateful and, for CURVE,
 * randomized: they cannot be re-run from the same bytes).
 */
function clone<T extends object>(m: T): T {
  return Object.assign(Object.create(Object.getPrototypeOf(m) as object) as T, m)
}

type Outcome = { kind: "frames"; frames: Buffer[] } | { kind: "error"; error: unknown }

/** One onCommand call, with the settle-or-hang check on promises. Never throws. */
async function feed(m: Mechanism, body: Buffer): Promise<Outcome> {
  let r: Buffer[] | Promise<Buffer[]>
  try {
    r = m.onCommand(body)
  } catch (error) {
    return { kind: "error", error }
  }
  if (Array.isArray(r)) return { kind: "frames", frames: r }
  try {
    return { kind: "frames", frames: await withTimeout(r, SETTLE_MS, "onCommand promise") }
  } catch (error) {
    return { kind: "error", error }
  }
}

/**
 * Feeds `bodies` as the engine would: stop at the first error (the engine
 * drops the connection) or once the mechanism is done (the engine leaves the
 * handshake). Checks every error and every returned frame.
 */
async function feedAll(m: Mechanism, bodies: readonly Buffer[], show: () => string, label = ""): Promise<Outcome[]> {
  const outcomes: Outcome[] = []
  for (const body of bodies) {
    if (m.done) break
    const o = await feed(m, body)
    outcomes.push(o)
    stat(() => {
      const e = o.kind === "error" ? (o.error as ProtocolError) : undefined
      const what =
        e === undefined
          ? "frames"
          : `${e.code ?? e.constructor?.name}: ${String(e.message)
              .replace(/[0-9]+/g, "N")
              .slice(0, 60)}`
      return `${label || m.constructor.name} #${outcomes.length} ${what}${m.done ? " (done)" : ""}`
    })
    if (o.kind === "error") {
      expectOnlyProtocolError(o.error, show)
      break
    }
    for (const f of o.frames) expect(Buffer.isBuffer(f)).toBe(true)
    // What the mechanism answers must itself be well-formed frames.
    frameBodies(o.frames)
    if (m.done) expect(m.peerMetadata).toBeDefined()
  }
  return outcomes
}

// ---------------------------------------------------------------- recorded handshakes

interface Step {
  /** Receiver's state just before this body arrived. */
  before: Mechanism
  body: Buffer
  /** Structure-aware mutation targets inside `body`. */
  fields: Field[]
}

interface Transcript {
  name: string
  steps: Step[]
  client: Mechanism
  server: Mechanism
}

/** Positions of the length octets and values of a metadata block starting at `offset` of `body`. */
function metadataFields(body: Buffer, offset: number): Field[] {
  const out: Field[] = []
  let pos = offset
  while (pos < body.length) {
    const nlen = body[pos]!
    out.push({ at: pos, len: 1 }, { at: pos + 1, len: nlen })
    pos += 1 + nlen
    if (pos + 4 > body.length) break
    const vlen = body.readUInt32BE(pos)
    out.push({ at: pos, len: 4 }, { at: pos + 4, len: vlen })
    pos += 4 + vlen
  }
  return out
}

/** Field table of a handshake command body (offsets within the body, name included). */
function fieldsOf(body: Buffer, isCurve: boolean): Field[] {
  const raw = parseRawCommand(body)
  const d = 1 + body[0]! // start of data
  const fields: Field[] = [
    { at: 0, len: 1 },
    { at: 1, len: body[0]! },
  ]
  const curve = (spec: Array<[number, number]>): Field[] => spec.map(([at, len]) => ({ at: d + at, len }))
  switch (raw.name) {
    case "READY":
      // NULL/PLAIN READY carry metadata; CURVE READY is nonce(8) + box.
      if (isCurve)
        fields.push(
          ...curve([
            [0, 8],
            [8, 16],
            [24, raw.data.length - 24],
          ]),
        )
      else fields.push(...metadataFields(body, d))
      break
    case "INITIATE":
      if (isCurve) {
        fields.push(
          ...curve([
            [0, 16],
            [16, 80],
            [96, 8],
            [104, 16],
            [120, raw.data.length - 104],
          ]),
        )
      } else {
        fields.push(...metadataFields(body, d))
        fields.push(
          ...curve([
            [0, 16],
            [16, 80],
            [96, 8],
            [104, 16],
          ]),
        )
      }
      break
    case "HELLO":
      if (isCurve)
        fields.push(
          ...curve([
            [0, 1],
            [1, 1],
            [2, 72],
            [74, 32],
            [106, 8],
            [114, 16],
            [130, 64],
          ]),
        )
      else
        fields.push(
          ...curve([
            [0, 1],
            [1, Math.max(1, raw.data[0] ?? 1)],
          ]),
        )
      break
    case "WELCOME":
      fields.push(
        ...curve([
          [0, 16],
          [16, 16],
          [32, 128],
        ]),
      )
      break
  }
  return fields
}

/** Runs client ↔ server in memory, recording each body with a copy of its receiver's state. */
async function record(name: string, client: Mechanism, server: Mechanism): Promise<Transcript> {
  const steps: Step[] = []
  const queue: Array<{ to: Mechanism; body: Buffer }> = []
  for (const b of frameBodies(client.start())) queue.push({ to: server, body: b })
  for (const b of frameBodies(server.start())) queue.push({ to: client, body: b })
  while (queue.length > 0) {
    const { to, body } = queue.shift()!
    steps.push({ before: clone(to), body, fields: fieldsOf(body, client.name === "CURVE") })
    const frames = await to.onCommand(body)
    const other = to === client ? server : client
    for (const b of frameBodies(frames)) queue.push({ to: other, body: b })
  }
  expect(client.done, `${name}: client done`).toBe(true)
  expect(server.done, `${name}: server done`).toBe(true)
  // Replaying a step into a copy must give the same acceptance (checks clone() still captures the state).
  for (const s of steps) {
    const o = await feed(clone(s.before), s.body)
    expect(o.kind, `${name}: replay of a valid step`).toBe("frames")
  }
  return { name, steps, client, server }
}

/** A fake ZAP context with a fixed answer. */
function fakeZap(reply: ZapReply | null, enforce: boolean): ZapContext {
  return {
    domain: "fuzz",
    address: "127.0.0.1",
    identity: Buffer.alloc(0),
    enforce,
    authenticate: () => Promise.resolve(reply),
  }
}

const zapReply = (statusCode: number): ZapReply => ({ statusCode, statusText: "fuzz", userId: "u", metadata: Buffer.alloc(0) })

let serverKeys: KeyPair
let clientKeys: KeyPair
const transcripts: Transcript[] = []

beforeAll(async () => {
  serverKeys = generateKeyPair()
  clientKeys = generateKeyPair()
  transcripts.push(
    await record("NULL", new NullMechanism(LOCAL), new NullMechanism(LOCAL)),
    await record("NULL+ZAP", new NullMechanism(LOCAL), new NullMechanism(LOCAL, fakeZap(zapReply(200), false))),
    await record("PLAIN", new PlainClient(LOCAL, "admin", "secret"), new PlainServer(LOCAL, undefined)),
    await record("PLAIN+ZAP", new PlainClient(LOCAL, "", "x".repeat(255)), new PlainServer(LOCAL, fakeZap(zapReply(200), true))),
    await record(
      "CURVE",
      new CurveClient(LOCAL, clientKeys.publicKey, clientKeys.secretKey, serverKeys.publicKey),
      new CurveServer(LOCAL, serverKeys.publicKey, serverKeys.secretKey, undefined),
    ),
  )
}, testTimeout())

/** Receivers whose ZAP answers something other than the recorded 200: same bytes, another verdict. */
function withOtherZap(m: Mechanism, zap: ZapContext | undefined): Mechanism {
  const c = clone(m) as unknown as { zap: ZapContext | undefined }
  if ("zap" in c) c.zap = zap
  return c as unknown as Mechanism
}

const zapVariantArb = fc.constantFrom<ZapContext | undefined | "recorded">(
  "recorded",
  "recorded",
  "recorded",
  undefined,
  fakeZap(null, false),
  fakeZap(null, true),
  fakeZap(zapReply(400), false),
  fakeZap(zapReply(500), false),
  fakeZap(zapReply(300), false),
)

const COMMAND_NAMES = ["HELLO", "WELCOME", "INITIATE", "READY", "ERROR", "MESSAGE", "PING", "PONG", "SUBSCRIBE", "CANCEL", "X"]

/** Replaces the command name (or breaks the name framing) while keeping the data. */
type Rename = { kind: "name"; name: string } | { kind: "zero-length" } | { kind: "libzmq-error" } | { kind: "lowercase" }

const renameArb: fc.Arbitrary<Rename> = fc.oneof(
  fc.record({ kind: fc.constant("name" as const), name: fc.constantFrom(...COMMAND_NAMES) }),
  fc.record({ kind: fc.constant("name" as const), name: fc.stringMatching(/^[\x21-\x7e]{1,12}$/) }),
  fc.constant<Rename>({ kind: "zero-length" }),
  fc.constant<Rename>({ kind: "libzmq-error" }),
  fc.constant<Rename>({ kind: "lowercase" }),
)

function rename(body: Buffer, r: Rename): Buffer {
  let data: Buffer
  let name: string
  try {
    const raw = parseRawCommand(body)
    data = raw.data
    name = raw.name
  } catch {
    return body
  }
  switch (r.kind) {
    case "name":
      return commandBody(r.name, data)
    case "zero-length":
      return Buffer.concat([Buffer.from([0]), data])
    case "libzmq-error":
      return Buffer.concat([Buffer.from("^RROR", "latin1"), data])
    case "lowercase":
      return commandBody(name.toLowerCase(), data)
  }
}

const randomBodyArb: fc.Arbitrary<Buffer> = fc.oneof(
  fc.uint8Array({ maxLength: 300 }).map((u) => Buffer.from(u)),
  fc.tuple(fc.constantFrom(...COMMAND_NAMES), fc.uint8Array({ maxLength: 300 })).map(([n, d]) => commandBody(n, Buffer.from(d))),
  // CURVE-sized bodies: the length checks pass, the crypto must refuse.
  fc
    .tuple(
      fc.constantFrom("HELLO", "WELCOME", "INITIATE", "READY"),
      fc.constantFrom(194, 160, 248, 260, 24, 40),
      fc.uint8Array({ minLength: 1, maxLength: 64 }),
    )
    .map(([n, len, seed]) => commandBody(n, Buffer.from(Array.from({ length: len }, (_, i) => seed[i % seed.length]!)))),
)

function describeCase(t: Transcript, stepIdx: number, bodies: readonly Buffer[]): () => string {
  return () => `${t.name} step ${stepIdx} (receiver ${t.steps[stepIdx]!.before.constructor.name}) bodies=[${bodies.map(hex).join(", ")}]`
}

// ---------------------------------------------------------------- handshake properties

describe("fuzz: handshake mechanisms (NULL, PLAIN, CURVE)", () => {
  it(
    "mutated recorded handshake bodies at every step: frames, a settled promise, or ProtocolError only",
    async () => {
      await checkProperty(
        FILE,
        "mutated handshake steps",
        fc.asyncProperty(
          fc.nat(),
          fc.nat(),
          fc.array(mutationArb, { minLength: 1, maxLength: 4 }),
          fc.option(renameArb, { freq: 4 }),
          zapVariantArb,
          fc.array(randomBodyArb, { maxLength: 2 }),
          async (ti, si, muts: Mutation[], ren, zap, extra) => {
            const t = transcripts[ti % transcripts.length]!
            const stepIdx = si % t.steps.length
            const step = t.steps[stepIdx]!
            let body = mutate(step.body, muts, step.fields)
            if (ren !== null) body = rename(body, ren)
            const receiver = zap === "recorded" ? clone(step.before) : withOtherZap(step.before, zap)
            const bodies = [body, ...extra]
            await feedAll(receiver, bodies, describeCase(t, stepIdx, bodies), `mut ${t.name}[${stepIdx}]`)
          },
        ),
        fuzzParams(1, 300),
      )
    },
    testTimeout(),
  )

  it(
    "arbitrary command sequences into the state of every step: frames, a settled promise, or ProtocolError only",
    async () => {
      await checkProperty(
        FILE,
        "random handshake bodies",
        fc.asyncProperty(fc.nat(), fc.nat(), fc.array(randomBodyArb, { minLength: 1, maxLength: 4 }), async (ti, si, bodies) => {
          const t = transcripts[ti % transcripts.length]!
          const stepIdx = si % t.steps.length
          await feedAll(clone(t.steps[stepIdx]!.before), bodies, describeCase(t, stepIdx, bodies))
        }),
        fuzzParams(2, 300),
      )
    },
    testTimeout(),
  )

  it(
    "valid steps out of order (replays, skips, the other side's commands): ProtocolError only",
    async () => {
      await checkProperty(
        FILE,
        "reordered handshake bodies",
        fc.asyncProperty(fc.nat(), fc.nat(), fc.array(fc.nat(), { minLength: 1, maxLength: 5 }), async (ti, si, picks) => {
          const t = transcripts[ti % transcripts.length]!
          const stepIdx = si % t.steps.length
          // Bodies from any transcript (same or another mechanism), in any order.
          const all = transcripts.flatMap((x) => x.steps.map((s) => s.body))
          const bodies = picks.map((p) => all[p % all.length]!)
          await feedAll(clone(t.steps[stepIdx]!.before), bodies, describeCase(t, stepIdx, bodies))
        }),
        fuzzParams(3, 200),
      )
    },
    testTimeout(),
  )

  it("PLAIN client: user names and passwords of any length and content", async () => {
    await checkProperty(
      FILE,
      "PLAIN credentials",
      fc.property(fc.string({ unit: "binary", maxLength: 300 }), fc.string({ unit: "binary", maxLength: 300 }), (u, p) => {
        const c = new PlainClient(LOCAL, u, p)
        try {
          const frames = c.start()
          const hello = parseRawCommand(frameBodies(frames)[0]!)
          expect(hello.name).toBe("HELLO")
          // The server must accept what the client produced.
          const s = new PlainServer(LOCAL, undefined)
          const r = s.onCommand(frameBodies(frames)[0]!)
          expect(r).toBeInstanceOf(Promise)
          ;(r as Promise<Buffer[]>).catch(() => undefined)
        } catch (err) {
          expectOnlyProtocolError(err, () => JSON.stringify({ u, p }))
          expect(Buffer.byteLength(u) > 255 || Buffer.byteLength(p) > 255).toBe(true)
        }
      }),
      fuzzParams(4, 200),
    )
  })
})

// ---------------------------------------------------------------- CURVE adversarial peers

/** Builds CURVE boxes as a peer that holds real keys does, around hostile content. */
describe("fuzz: CURVE with an adversarial peer (authentic boxes, hostile content)", () => {
  const nonce = (prefix: string, tail: Uint8Array): Buffer => Buffer.concat([Buffer.from(prefix, "latin1"), Buffer.from(tail)])
  const validMetadata = encodeMetadata([["Socket-Type", "DEALER"]])

  /** Metadata plaintexts: valid, mutated (lengths overrun, names empty), or random. */
  const metadataArb: fc.Arbitrary<Buffer> = fc.oneof(
    fc.constant(validMetadata),
    fc.array(mutationArb, { minLength: 1, maxLength: 3 }).map((m) => mutate(validMetadata, m, metadataFields(validMetadata, 0))),
    fc.uint8Array({ maxLength: 80 }).map((u) => Buffer.from(u)),
  )

  // ---- malicious client against CurveServer's INITIATE handling
  let initiateServer: CurveServer
  let cTransient: KeyPair
  let sTransientPublic: Buffer
  let cookie: Buffer
  let sessionKey: Uint8Array
  let vouchKey: Uint8Array

  // ---- malicious server against CurveClient's WELCOME and READY handling
  let welcomeClient: CurveClient
  let clientTransientPublic: Buffer
  let welcomeKey: Uint8Array
  let readyClient: CurveClient
  let readySessionKey: Uint8Array

  beforeAll(async () => {
    // Our own HELLO, so we hold c' and can open WELCOME.
    cTransient = generateKeyPair()
    const hn = Buffer.from([0, 0, 0, 0, 0, 0, 0, 1])
    const helloBox = seal(precompute(serverKeys.publicKey, cTransient.secretKey), nonce("CurveZMQHELLO---", hn), Buffer.alloc(64))
    const hello = commandBody("HELLO", Buffer.concat([Buffer.from([1, 0]), Buffer.alloc(72), cTransient.publicKey, hn, helloBox]))
    const server = new CurveServer(LOCAL, serverKeys.publicKey, serverKeys.secretKey, undefined)
    const welcome = parseRawCommand(frameBodies(server.onCommand(hello) as Buffer[])[0]!).data
    const wplain = open(
      precompute(serverKeys.publicKey, cTransient.secretKey),
      nonce("WELCOME-", welcome.subarray(0, 16)),
      welcome.subarray(16),
    )
    expect(wplain).not.toBeNull()
    sTransientPublic = Buffer.from(wplain!.subarray(0, 32))
    cookie = Buffer.from(wplain!.subarray(32, 128))
    sessionKey = precompute(sTransientPublic, cTransient.secretKey)
    vouchKey = precompute(sTransientPublic, clientKeys.secretKey)
    initiateServer = server

    // A real client; we play the server with its long-term secret.
    welcomeClient = new CurveClient(LOCAL, clientKeys.publicKey, clientKeys.secretKey, serverKeys.publicKey)
    const h = parseRawCommand(frameBodies(welcomeClient.start())[0]!).data
    clientTransientPublic = Buffer.from(h.subarray(74, 106))
    welcomeKey = precompute(clientTransientPublic, serverKeys.secretKey)
    // Past WELCOME with a genuine transient key: the client now waits for READY.
    const sT = generateKeyPair()
    readyClient = clone(welcomeClient)
    const wn = Buffer.alloc(16, 7)
    const wbox = seal(welcomeKey, nonce("WELCOME-", wn), Buffer.concat([sT.publicKey, Buffer.alloc(96, 1)]))
    readyClient.onCommand(commandBody("WELCOME", Buffer.concat([wn, wbox])))
    readySessionKey = precompute(clientTransientPublic, sT.secretKey)
  }, testTimeout())

  it(
    "HELLO with any client transient key (small-order points included), authentic or not → ProtocolError only",
    async () => {
      const fresh = new CurveServer(LOCAL, serverKeys.publicKey, serverKeys.secretKey, undefined)
      await checkProperty(
        FILE,
        "CURVE adversarial HELLO",
        fc.asyncProperty(
          fc.oneof(fc.constant(null), keyArb),
          fc.uint8Array({ minLength: 8, maxLength: 8 }),
          fc.constantFrom(64, 64, 63, 65, 0),
          fc.array(mutationArb, { maxLength: 2 }),
          async (key, hn, plainLen, muts) => {
            // key null: a genuine transient key pair, so the box can be made authentic.
            const kp = key === null ? cTransient : undefined
            const pub = kp?.publicKey ?? key!
            const box =
              kp !== undefined
                ? seal(precompute(serverKeys.publicKey, kp.secretKey), nonce("CurveZMQHELLO---", hn), Buffer.alloc(plainLen))
                : Buffer.from(Array.from({ length: plainLen + 16 }, (_, i) => hn[i % 8]! ^ i))
            const data = mutate(Buffer.concat([Buffer.from([1, 0]), Buffer.alloc(72), pub, Buffer.from(hn), box]), muts)
            const body = commandBody("HELLO", data)
            const m = clone(fresh)
            const out = await feedAll(m, [body], () => `HELLO C'=${hex(pub)} body=${hex(body)}`)
            if (kp !== undefined && plainLen === 64 && muts.length === 0) expect(out[0]?.kind, "a genuine HELLO is accepted").toBe("frames")
          },
        ),
        fuzzParams(13, 100, 0.5),
      )
    },
    testTimeout(),
  )

  it(
    "INITIATE from a client holding the session key: any client key, vouch, metadata → ProtocolError only",
    async () => {
      const vouchArb = fc.constantFrom("valid" as const, "random" as const, "wrong-content" as const, "short" as const)
      await checkProperty(
        FILE,
        "CURVE adversarial INITIATE",
        fc.asyncProperty(
          fc.oneof(fc.constant(clientKeys.publicKey), keyArb),
          vouchArb,
          metadataArb,
          fc.uint8Array({ minLength: 16, maxLength: 16 }),
          fc.uint8Array({ minLength: 8, maxLength: 8 }),
          fc.option(fc.nat(200)),
          fc.array(mutationArb, { maxLength: 2 }),
          zapVariantArb,
          async (clientKey, vouchKind, metadata, vn, sn, cut, muts, zap) => {
            let vouch: Buffer
            const content = Buffer.concat([cTransient.publicKey, serverKeys.publicKey])
            if (vouchKind === "valid") vouch = seal(vouchKey, nonce("VOUCH---", vn), content)
            else if (vouchKind === "wrong-content") vouch = seal(vouchKey, nonce("VOUCH---", vn), Buffer.from(content).reverse())
            else if (vouchKind === "short") vouch = seal(vouchKey, nonce("VOUCH---", vn), content.subarray(0, 40))
            else vouch = Buffer.from(Array.from({ length: 80 }, (_, i) => vn[i % 16]! ^ i))
            let inner = Buffer.concat([clientKey, Buffer.from(vn), vouch, metadata])
            if (cut !== null) inner = inner.subarray(0, cut)
            const box = seal(sessionKey, nonce("CurveZMQINITIATE", sn), inner)
            const data = mutate(Buffer.concat([cookie, Buffer.from(sn), box]), muts)
            const body = commandBody("INITIATE", data)
            const m = zap === "recorded" ? clone(initiateServer) : (withOtherZap(initiateServer, zap) as CurveServer)
            const out = await feedAll(
              m,
              [body],
              () => `INITIATE clientKey=${hex(clientKey)} vouch=${vouchKind} inner=${hex(inner)} body=${hex(body)}`,
            )
            if (
              clientKey === clientKeys.publicKey &&
              vouchKind === "valid" &&
              cut === null &&
              muts.length === 0 &&
              metadata === validMetadata &&
              zap === "recorded"
            ) {
              expect(out[0]?.kind, "a genuine INITIATE is accepted").toBe("frames")
              expect(m.done).toBe(true)
            }
          },
        ),
        fuzzParams(10, 120, 0.5),
      )
    },
    testTimeout(),
  )

  it(
    "WELCOME from a server holding the long-term key: any transient key, cookie, box size → ProtocolError only",
    async () => {
      await checkProperty(
        FILE,
        "CURVE adversarial WELCOME",
        fc.asyncProperty(
          keyArb,
          fc.uint8Array({ minLength: 96, maxLength: 96 }),
          fc.uint8Array({ minLength: 16, maxLength: 16 }),
          fc.constantFrom(128, 128, 128, 127, 129, 0, 32),
          fc.array(mutationArb, { maxLength: 2 }),
          async (sT, ck, wn, plainLen, muts) => {
            const plain = Buffer.alloc(plainLen)
            Buffer.concat([sT, Buffer.from(ck)]).copy(plain)
            const data = mutate(Buffer.concat([Buffer.from(wn), seal(welcomeKey, nonce("WELCOME-", wn), plain)]), muts)
            const body = commandBody("WELCOME", data)
            await feedAll(clone(welcomeClient), [body], () => `WELCOME S'=${hex(sT)} body=${hex(body)}`)
          },
        ),
        fuzzParams(11, 120, 0.5),
      )
    },
    testTimeout(),
  )

  it(
    "READY from the server holding the session key: any metadata and nonce → ProtocolError only; accepted READY gives a codec",
    async () => {
      await checkProperty(
        FILE,
        "CURVE adversarial READY",
        fc.asyncProperty(
          metadataArb,
          fc.uint8Array({ minLength: 8, maxLength: 8 }),
          fc.array(mutationArb, { maxLength: 2 }),
          async (md, rn, muts) => {
            const data = mutate(Buffer.concat([Buffer.from(rn), seal(readySessionKey, nonce("CurveZMQREADY---", rn), md)]), muts)
            const body = commandBody("READY", data)
            const m = clone(readyClient)
            await feedAll(m, [body], () => `READY body=${hex(body)}`)
            if (m.done) expect(m.codec).toBeDefined()
          },
        ),
        fuzzParams(12, 200),
      )
    },
    testTimeout(),
  )
})

// ---------------------------------------------------------------- CURVE MESSAGE codec

describe("fuzz: CURVE MESSAGE codec", () => {
  let clientCodec: FrameCodec
  let serverCodec: FrameCodec
  beforeAll(() => {
    const t = transcripts.find((x) => x.name === "CURVE")!
    clientCodec = t.client.codec!
    serverCodec = t.server.codec!
    expect(clientCodec).toBeDefined()
    expect(serverCodec).toBeDefined()
  })

  const MESSAGE_FIELDS: Field[] = [
    { at: 0, len: 8 },
    { at: 8, len: 8 },
    { at: 16, len: 16 },
    { at: 32, len: 1 },
  ]

  it("random MESSAGE bodies to decode: ProtocolError only", async () => {
    const bodyArb = fc.oneof(
      fc.uint8Array({ maxLength: 200 }).map((u) => Buffer.from(u)),
      fc.uint8Array({ maxLength: 200 }).map((u) => Buffer.concat([Buffer.from("\x07MESSAGE", "latin1"), Buffer.from(u)])),
    )
    await checkProperty(
      FILE,
      "CURVE codec random",
      fc.property(fc.boolean(), bodyArb, (toServer, body) => {
        const codec = clone(toServer ? serverCodec : clientCodec)
        try {
          codec.decode(body)
          throw new Error(`a random MESSAGE authenticated: ${hex(body)}`)
        } catch (err) {
          expectOnlyProtocolError(err, () => hex(body))
        }
      }),
      fuzzParams(20, 400),
    )
  })

  it("mutated genuine MESSAGE boxes: ProtocolError only; unmutated ones decode to what was sent", async () => {
    await checkProperty(
      FILE,
      "CURVE codec mutated",
      fc.property(
        fc.boolean(),
        fc.integer({ min: 0, max: 3 }),
        fc.uint8Array({ maxLength: 300 }),
        fc.array(mutationArb, { maxLength: 3 }),
        (toServer, flags, payload, muts) => {
          const sender = clone(toServer ? clientCodec : serverCodec)
          const receiver = clone(toServer ? serverCodec : clientCodec)
          const boxed = sender.encode(flags, Buffer.from(payload))
          const body = mutate(boxed, muts, MESSAGE_FIELDS)
          let decoded: { flags: number; body: Buffer } | undefined
          try {
            decoded = receiver.decode(body)
          } catch (err) {
            expectOnlyProtocolError(err, () => hex(body))
          }
          if (body.equals(boxed)) {
            expect(decoded).toBeDefined()
            expect(decoded!.flags).toBe(flags)
            expect(decoded!.body.equals(Buffer.from(payload))).toBe(true)
          } else if (decoded !== undefined) {
            // Only a mutation that left the authenticated bytes intact may pass.
            expect(body.subarray(8).equals(boxed.subarray(8))).toBe(true)
          }
        },
      ),
      fuzzParams(21, 300),
    )
  })

  it("replayed and reordered genuine boxes are refused (nonces strictly increase)", async () => {
    await checkProperty(
      FILE,
      "CURVE codec replay",
      fc.property(fc.array(fc.nat(7), { minLength: 1, maxLength: 12 }), (order) => {
        const sender = clone(clientCodec)
        const receiver = clone(serverCodec)
        const boxes = Array.from({ length: 8 }, (_, i) => sender.encode(0, Buffer.from([i])))
        let last = -1
        for (const i of order) {
          try {
            const d = receiver.decode(boxes[i]!)
            expect(i).toBeGreaterThan(last)
            expect(d.body[0]).toBe(i)
            last = i
          } catch (err) {
            expect(err).toBeInstanceOf(ProtocolError)
            expect(i).toBeLessThanOrEqual(last)
          }
        }
      }),
      fuzzParams(22, 100),
    )
  })
})
