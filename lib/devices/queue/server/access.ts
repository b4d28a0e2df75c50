/**
 * Tenancy and authorisation: namespaces (like RabbitMQ's vhosts) and rights per queue pattern,
 * for users identified by the connection's authenticated identity. The device runs its own ZAP
 * handler (RFC 27) on its own context: a PLAIN user name and password, or a CURVE client public
 * key, is checked against the access list, and the user's name becomes the connection's ZAP
 * user id. Each request is then checked against that user's rights before anything is done.
 *
 * Access list (JSON; docs/queue-protocol.md §Access control):
 *
 *   {
 *     "users": [
 *       { "name": "shop-app", "password": "…", "namespace": "shop",
 *         "allow": [ { "queues": "orders*", "rights": ["put", "consume"] } ] },
 *       { "name": "ops", "curveKey": "<Z85 public key, 40 characters>", "namespace": "shop",
 *         "allow": [ { "queues": "*", "rights": ["put", "consume", "admin"] } ] }
 *     ],
 *     "anonymous": { "namespace": "public", "allow": [ { "queues": "*", "rights": ["put"] } ] }
 *   }
 *
 * A namespace's queues are kept apart from every other namespace's: a client names its queues
 * as usual, and the device stores them as `<namespace>#<queue>` ('#' cannot appear in a queue
 * name, so no name reaches into another namespace). An empty namespace means the device's
 * plain queue names. Without "anonymous", a connection whose identity names no user gets
 * UNAUTHENTICATED for everything but HELLO.
 */
import { readFileSync } from "node:fs"
import { timingSafeEqual } from "node:crypto"
import { QueueError } from "../errors.js"
import type { ZapDecision, ZapRequest } from "../../../security/zap-handler.js"
import { encode as z85encode } from "../../../security/z85.js"

export type Right = "put" | "consume" | "admin"
const RIGHTS: readonly Right[] = ["put", "consume", "admin"]

export interface AccessRule {
  /** Queue-name pattern: `*` any run of characters, `?` one character. */
  queues: string
  rights: Right[]
}

export interface AccessUser {
  name: string
  /** PLAIN password. */
  password?: string
  /** CURVE client public key (Z85, 40 characters). */
  curveKey?: string
  namespace?: string
  allow: AccessRule[]
}

export interface AccessList {
  users: AccessUser[]
  /** What a connection without a known identity may do (absent: nothing). */
  anonymous?: Omit<AccessUser, "name" | "password" | "curveKey">
}

/** Who makes a request: a user of the list (or the anonymous entry). */
export interface Principal {
  readonly name: string
  readonly namespace: string
  readonly rules: readonly { readonly match: RegExp; readonly rights: ReadonlySet<Right> }[]
}

/** Separates a namespace from a queue name inside the device. */
const NS = "#"
const NAMESPACE = /^[A-Za-z0-9._:@/-]{0,100}$/

/** Which right each command needs ("any": the user must be known; undefined: none). */
const NEEDS: Record<string, Right | "any" | undefined> = {
  HELLO: undefined,
  PUT: "put",
  PUTB: "put",
  RESERVE: "consume",
  CONSUME: "consume",
  RANGE: "consume",
  CREDIT: "any",
  CANCEL: "any",
  ACK: "any",
  NACK: "any",
  TOUCH: "any",
  BURY: "any",
  KICK: "admin",
  PEEK: "admin",
  CONFIG: "admin",
  GROUP: "admin",
  UNGROUP: "admin",
  SEEK: "admin",
  TRACE: "admin",
  PURGE: "admin",
  STATS: "any",
}

function bad(message: string): never {
  throw new QueueError("BAD_OPTION", `access list: ${message}`)
}

function pattern(glob: string): RegExp {
  const re = glob
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*/g, ".*")
    .replace(/\?/g, ".")
  return new RegExp(`^${re}$`)
}

function rules(allow: unknown, where: string): Principal["rules"] {
  if (!Array.isArray(allow)) bad(`${where}.allow must be an array of {queues, rights}`)
  return allow.map((r, i) => {
    const w = `${where}.allow[${i}]`
    if (r === null || typeof r !== "object") bad(`${w} must be an object`)
    const { queues, rights } = r as Record<string, unknown>
    if (typeof queues !== "string" || queues.length === 0) bad(`${w}.queues must be a pattern such as "orders*"`)
    if (!Array.isArray(rights) || rights.length === 0 || !rights.every((x) => RIGHTS.includes(x as Right)))
      bad(`${w}.rights must be a non-empty array of ${RIGHTS.join(", ")}`)
    return { match: pattern(queues), rights: new Set(rights as Right[]) }
  })
}

function namespaceOf(v: unknown, where: string): string {
  if (v === undefined) return ""
  if (typeof v !== "string" || !NAMESPACE.test(v)) bad(`${where}.namespace must be up to 100 characters from A-Z a-z 0-9 . _ : @ / -`)
  return v
}

/** A checked access list, and the ZAP decisions and request checks it makes. */
export class Access {
  private readonly byName = new Map<string, Principal>()
  private readonly passwords = new Map<string, Buffer>()
  private readonly byKey = new Map<string, string>()
  private readonly anonymous: Principal | undefined

  constructor(list: AccessList) {
    if (list === null || typeof list !== "object" || !Array.isArray(list.users)) bad("must be an object with a users array")
    list.users.forEach((u, i) => {
      const w = `users[${i}]`
      if (u === null || typeof u !== "object") bad(`${w} must be an object`)
      if (typeof u.name !== "string" || u.name.length === 0 || u.name.length > 200) bad(`${w}.name must be a string of 1-200 characters`)
      if (this.byName.has(u.name)) bad(`${w}: user ${JSON.stringify(u.name)} appears twice`)
      if (u.password === undefined && u.curveKey === undefined) bad(`${w} needs a password (PLAIN) or a curveKey (CURVE)`)
      if (u.password !== undefined) {
        if (typeof u.password !== "string" || u.password.length === 0) bad(`${w}.password must be a non-empty string`)
        this.passwords.set(u.name, Buffer.from(u.password))
      }
      if (u.curveKey !== undefined) {
        if (typeof u.curveKey !== "string" || !/^[0-9a-zA-Z.\-:+=^!/*?&<>()[\]{}@%$#]{40}$/.test(u.curveKey))
          bad(`${w}.curveKey must be a Z85 key of 40 characters`)
        if (this.byKey.has(u.curveKey)) bad(`${w}: curveKey used by two users`)
        this.byKey.set(u.curveKey, u.name)
      }
      this.byName.set(u.name, { name: u.name, namespace: namespaceOf(u.namespace, w), rules: rules(u.allow, w) })
    })
    if (list.anonymous !== undefined) {
      this.anonymous = {
        name: "",
        namespace: namespaceOf(list.anonymous.namespace, "anonymous"),
        rules: rules(list.anonymous.allow, "anonymous"),
      }
    }
  }

  /** Reads and checks an access list file (JSON). Throws QueueError BAD_OPTION naming the problem. */
  static load(path: string): Access {
    let text: string
    try {
      text = readFileSync(path, "utf8")
    } catch (err) {
      bad(`cannot read ${path}: ${(err as Error).message}`)
    }
    let list: unknown
    try {
      list = JSON.parse(text)
    } catch (err) {
      bad(`${path} is not JSON: ${(err as Error).message}`)
    }
    return new Access(list as AccessList)
  }

  /** The ZAP handler's decision: a known PLAIN user with its password, or a known CURVE key; NULL only with an anonymous entry. */
  readonly authenticate = (req: ZapRequest): ZapDecision => {
    if (req.mechanism === "PLAIN") {
      const [user, password] = req.credentials
      const name = user?.toString("utf8") ?? ""
      const want = this.passwords.get(name)
      if (want !== undefined && password !== undefined && password.length === want.length && timingSafeEqual(password, want))
        return { status: 200, userId: name }
      return { status: 400, statusText: "unknown user or wrong password" }
    }
    if (req.mechanism === "CURVE") {
      const key = req.credentials[0]
      const name = key !== undefined && key.length === 32 ? this.byKey.get(z85encode(key)) : undefined
      return name === undefined ? { status: 400, statusText: "unknown CURVE key" } : { status: 200, userId: name }
    }
    return this.anonymous !== undefined ? { status: 200, userId: "" } : { status: 400, statusText: "this device admits no anonymous clients" }
  }

  /** Whether `password` is PLAIN user `name`'s (the web view's HTTP Basic log-in). */
  checkPassword(name: string, password: string): boolean {
    const want = this.passwords.get(name)
    const got = Buffer.from(password)
    return want !== undefined && got.length === want.length && timingSafeEqual(got, want)
  }

  /** Whether `who` has admin on every queue of the plain namespace (what device-wide figures such as metrics need). */
  seesEverything(who: Principal | undefined): boolean {
    return who !== undefined && who.namespace === "" && who.rules.some((r) => r.rights.has("admin") && r.match.source === "^.*$")
  }

  /** A PLAIN user's password (a shared device forwarding that user's connection presents it to the leader). */
  passwordOf(name: string): string | undefined {
    return this.passwords.get(name)?.toString("utf8")
  }

  /** Whether some user is known by a CURVE key (a shared device cannot forward such users: it cannot present their key). */
  get hasCurveUsers(): boolean {
    return this.byKey.size > 0
  }

  /** The principal of a connection whose ZAP user id is `userId` (undefined: not known). */
  principal(userId: string | undefined): Principal | undefined {
    return (userId !== undefined && userId !== "" ? this.byName.get(userId) : undefined) ?? this.anonymous
  }

  /**
   * Checks that `who` may run `command` (on `a.queue`, when it names one) and rewrites
   * `a.queue` to the namespaced name the backend uses. Throws UNAUTHENTICATED or FORBIDDEN.
   */
  authorize(who: Principal | undefined, command: string, a: Record<string, unknown>, validName: (v: unknown) => string): void {
    const need = NEEDS[command]
    if (need === undefined) return
    if (who === undefined) throw new QueueError("UNAUTHENTICATED", "this device needs an identity it knows (PLAIN user or CURVE key)")
    if (a.queue === undefined || a.queue === null) {
      // Commands without a queue act on the connection's own leases and subscriptions, or list
      // only what the user may see (STATS); by seq, the result's queue is checked (visible()).
      if (need !== "any" && !(command === "PEEK" || command === "TRACE")) throw new QueueError("FORBIDDEN", `${command} needs a queue`)
      return
    }
    const queue = validName(a.queue)
    if (need !== "any" && !this.allows(who, queue, need))
      throw new QueueError("FORBIDDEN", `user ${who.name || "(anonymous)"} may not ${need} on queue ${queue}`)
    if (need === "any" && !RIGHTS.some((r) => this.allows(who, queue, r)))
      throw new QueueError("FORBIDDEN", `user ${who.name || "(anonymous)"} has no rights on queue ${queue}`)
    a.queue = inner(who, queue)
  }

  private allows(who: Principal, queue: string, right: Right): boolean {
    return who.rules.some((r) => r.rights.has(right) && r.match.test(queue))
  }

  /** True if the backend's queue `internal` is in `who`'s namespace and `who` has `right` on it (or any right). */
  visible(who: Principal | undefined, internal: string, right?: Right): boolean {
    if (who === undefined) return false
    const prefix = who.namespace === "" ? "" : who.namespace + NS
    if (!internal.startsWith(prefix) || (prefix === "" && internal.includes(NS))) return false
    const queue = internal.slice(prefix.length)
    return right === undefined ? RIGHTS.some((r) => this.allows(who, queue, r)) : this.allows(who, queue, right)
  }
}

function inner(who: Principal, queue: string): string {
  return who.namespace === "" ? queue : who.namespace + NS + queue
}

/** The name a client knows for the backend's queue `internal` (its namespace stripped). */
export function outerName(internal: string): string {
  const i = internal.indexOf(NS)
  return i < 0 ? internal : internal.slice(i + 1)
}
