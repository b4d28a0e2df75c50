#!/usr/bin/env node
/**
 * omq-queue: runs a durable queue device.
 *
 *   omq-queue --dir /var/lib/omq-queue --bind tcp://127.0.0.1:5570 [--fsync always|never|<ms>]
 *
 * Prints where it listens; stops cleanly (pending writes confirmed, final
 * checkpoint, lock released) on SIGINT or SIGTERM.
 */
import { parseArgs } from "node:util"
import { QueueDevice, type QueueDeviceOptions } from "./server/device.js"
import { QueueError, QueueStoreError } from "./errors.js"
import { runTool, TOOLS, TOOLS_USAGE } from "./cli-tools.js"

const USAGE = `usage: omq-queue --dir DIR [options]
       omq-queue --store postgres://user:password@host:5432/db [--standby | --shared] [options]

  --dir DIR               data directory (created if missing; one device per directory)
  --store URL             keep the queues in PostgreSQL instead (one device per database)
  --standby               with --store: wait until the active device is gone, then serve (fail-over)
  --shared                with --store: serve at once alongside other devices on the database (one
                          leads, the others forward to it and take over when it dies)
  --advertise ENDPOINT    with --shared: where the others reach this device when it leads
                          (default: the first --bind, a wildcard host replaced by the host name)
  --bind ENDPOINT         where clients connect; repeatable (default tcp://127.0.0.1:5570)
  --fsync POLICY          always (default) | never | <ms>: fdatasync every <ms> milliseconds
  --max-body BYTES        largest message body accepted (default 1048576)
  --segment-bytes BYTES   log segment size (default 67108864)
  --checkpoint-bytes N    checkpoint after this many bytes of log (default 67108864)
  --dedup-window MS       how long a put id is remembered (default 600000)
  --ttr MS                default lease time (default 30000)
  --repair                start even if the log is damaged mid-way, cutting it there
  --acl FILE              access list (JSON: users, namespaces, rights; see docs/queue-protocol.md)
  --plain                 clients authenticate with PLAIN (user and password from the access list)
  --curve-secret KEY      clients use CURVE with this server secret key (Z85); users by public key
  --trace                 keep every message's history (TRACE)
  --events ENDPOINT       publish lifecycle events on a PUB bound here; repeatable
  --http HOST:PORT        serve the web view and Prometheus /metrics there (PORT alone: 127.0.0.1)
  --no-metrics            with --http: no /metrics
  --help                  this text

and against a running device (ADDR: where it listens, e.g. tcp://127.0.0.1:5570):
${TOOLS_USAGE}`

function fail(message: string, code = 2): never {
  process.stderr.write(`omq-queue: ${message}\n`)
  process.exit(code)
}

function integer(v: string | undefined, name: string): number | undefined {
  if (v === undefined) return undefined
  const n = Number(v)
  if (!Number.isInteger(n) || n < 0) fail(`--${name} must be a non-negative integer, got ${JSON.stringify(v)}`)
  return n
}

async function main(): Promise<void> {
  const tool = process.argv[2]
  if (tool !== undefined && (TOOLS as readonly string[]).includes(tool)) {
    process.exitCode = await runTool(tool as (typeof TOOLS)[number], process.argv.slice(3))
    return
  }
  if (tool !== undefined && !tool.startsWith("-")) fail(`unknown command ${JSON.stringify(tool)}\n${USAGE}`)
  let values
  try {
    ;({ values } = parseArgs({
      options: {
        dir: { type: "string" },
        bind: { type: "string", multiple: true },
        fsync: { type: "string" },
        "max-body": { type: "string" },
        "segment-bytes": { type: "string" },
        "checkpoint-bytes": { type: "string" },
        "dedup-window": { type: "string" },
        ttr: { type: "string" },
        repair: { type: "boolean" },
        acl: { type: "string" },
        store: { type: "string" },
        standby: { type: "boolean" },
        shared: { type: "boolean" },
        advertise: { type: "string" },
        plain: { type: "boolean" },
        "curve-secret": { type: "string" },
        trace: { type: "boolean" },
        events: { type: "string", multiple: true },
        http: { type: "string" },
        "no-metrics": { type: "boolean" },
        help: { type: "boolean" },
      },
      strict: true,
    }))
  } catch (err) {
    fail(`${(err as Error).message}\n${USAGE}`)
  }
  if (values.help) {
    process.stdout.write(USAGE + "\n")
    return
  }
  if (values.dir === undefined && values.store === undefined) fail(`--dir is required (or --store)\n${USAGE}`)
  if (values.standby === true && values.store === undefined) fail("--standby needs --store")
  if (values.shared === true && values.store === undefined) fail("--shared needs --store")
  if (values.shared === true && values.standby === true)
    fail("--shared and --standby exclude each other (a shared device is already a standby that serves)")
  if (values.advertise !== undefined && values.shared !== true) fail("--advertise needs --shared")
  const fsyncArg = values.fsync ?? "always"
  const fsync: QueueDeviceOptions["fsync"] =
    fsyncArg === "always" || fsyncArg === "never" ? fsyncArg : { intervalMs: integer(fsyncArg, "fsync") ?? 0 }
  const options: QueueDeviceOptions = { dir: values.dir ?? "", fsync, repair: values.repair === true }
  if (values.store !== undefined) options.store = values.store
  if (values.standby === true) options.standby = true
  if (values.shared === true) options.shared = true
  if (values.advertise !== undefined) options.advertise = values.advertise
  const set = (key: keyof QueueDeviceOptions, flag: string) => {
    const n = integer((values as Record<string, string | undefined>)[flag], flag)
    if (n !== undefined) (options as unknown as Record<string, unknown>)[key] = n
  }
  set("maxBodySize", "max-body")
  set("segmentBytes", "segment-bytes")
  set("checkpointBytes", "checkpoint-bytes")
  set("dedupWindowMs", "dedup-window")
  set("defaultTtr", "ttr")
  if (values.plain === true && values["curve-secret"] !== undefined) fail("--plain and --curve-secret exclude each other")
  if ((values.plain === true || values["curve-secret"] !== undefined) && values.acl === undefined)
    fail("--plain and --curve-secret need --acl (who may connect, and what they may do)")
  if (values.acl !== undefined) options.access = values.acl
  if (values.plain === true) options.socket = { plainServer: true }
  const curveSecret = values["curve-secret"]
  if (curveSecret !== undefined) {
    if (curveSecret.length !== 40) fail("--curve-secret must be a Z85 key of 40 characters")
    options.socket = { curveServer: true, curveSecretKey: curveSecret }
  }
  if (values.trace === true) options.trace = true
  if (values.events !== undefined) options.events = values.events
  if (values.http !== undefined) options.http = values.http
  if (values["no-metrics"] === true) {
    if (values.http === undefined) fail("--no-metrics needs --http")
    options.metrics = false
  }

  let device: QueueDevice
  try {
    device = new QueueDevice(options)
    if (options.standby === true) process.stdout.write("omq-queue: standby, waiting for the database's active device to go away\n")
    await device.open()
  } catch (err) {
    if (err instanceof QueueError || err instanceof QueueStoreError) fail(err.message, err instanceof QueueStoreError ? 3 : 2)
    throw err
  }
  const r = device.recovery
  for (const t of r?.truncated ?? []) process.stderr.write(`omq-queue: recovery cut ${t.bytes} bytes from ${t.file} at offset ${t.offset}\n`)
  const endpoints: string[] = []
  try {
    for (const address of values.bind ?? ["tcp://127.0.0.1:5570"]) {
      await device.bind(address)
      endpoints.push(device.lastEndpoint!)
    }
  } catch (err) {
    await device.close()
    fail(`cannot bind: ${(err as Error).message}`, 1)
  }
  const policy = typeof fsync === "object" ? `every ${fsync.intervalMs} ms` : fsync
  const where =
    values.store !== undefined
      ? `store ${values.store.replace(/\/\/([^:@/]+):[^@/]*@/, "//$1:***@")}, synchronous_commit`
      : `data ${values.dir}, fsync ${policy}`
  // Before the banner: whoever waits for it may signal at once.
  let stopping = false
  const stop = (signal: string) => {
    if (stopping) return
    stopping = true
    process.stdout.write(`omq-queue: ${signal}, closing\n`)
    device.close().then(
      () => process.exit(0),
      (err: unknown) => fail(`close failed: ${(err as Error).message}`, 1),
    )
  }
  process.on("SIGINT", () => stop("SIGINT"))
  process.on("SIGTERM", () => stop("SIGTERM"))
  process.stdout.write(
    `omq-queue listening on ${endpoints.join(", ")} (${where}; ` +
      (device.role === "follower"
        ? "following the database's leading device)\n"
        : `${device.messageCount} messages recovered${r === undefined ? "" : ` in ${Math.round(r.ms)} ms`})\n`),
  )
  if (device.httpUrl !== null)
    process.stdout.write(
      `omq-queue: web view at ${device.httpUrl}/${options.metrics === false ? "" : `, metrics at ${device.httpUrl}/metrics`}\n`,
    )
}

main().catch((err: unknown) => fail((err as Error).stack ?? String(err), 1))
