/**
 * MDP/0.2, the Majordomo Protocol (ZeroMQ RFC 18, the revision of 7/MDP that replaced REPLY with
 * PARTIAL and FINAL and dropped the leading empty frame): its frames, built and parsed. Pure, no
 * I/O: the broker, worker and client feed it the frames they receive (without the ROUTER's
 * routing-id frame) and send what it builds.
 *
 * Client → broker:  "MDPC02", 0x01 REQUEST, service, body…
 * Broker → client:  "MDPC02", 0x02 PARTIAL | 0x03 FINAL, service, body…
 * Worker → broker:  "MDPW02", 0x01 READY, service
 *                   "MDPW02", 0x03 PARTIAL | 0x04 FINAL, client address, "", body…
 *                   "MDPW02", 0x05 HEARTBEAT  |  0x06 DISCONNECT
 * Broker → worker:  "MDPW02", 0x02 REQUEST, client address, "", body…
 *                   "MDPW02", 0x05 HEARTBEAT  |  0x06 DISCONNECT
 *
 * Every body has at least one frame (the RFC's "4 or more" / "5 or more" frames): a parser
 * refuses a message without one, and the builders send one empty frame for an empty body.
 */

/** Protocol header of MDP/Client 0.2. */
export const MDPC = Buffer.from("MDPC02")
/** Protocol header of MDP/Worker 0.2. */
export const MDPW = Buffer.from("MDPW02")

/** MDP/Client command bytes. */
export const CLIENT = { REQUEST: 0x01, PARTIAL: 0x02, FINAL: 0x03 } as const
/** MDP/Worker command bytes. */
export const WORKER = { READY: 0x01, REQUEST: 0x02, PARTIAL: 0x03, FINAL: 0x04, HEARTBEAT: 0x05, DISCONNECT: 0x06 } as const

const EMPTY = Buffer.alloc(0)
const ONE_EMPTY_FRAME: readonly Buffer[] = [EMPTY]
const command = (byte: number): Buffer => Buffer.from([byte])
const CMD = {
  request: command(CLIENT.REQUEST),
  clientPartial: command(CLIENT.PARTIAL),
  clientFinal: command(CLIENT.FINAL),
  ready: command(WORKER.READY),
  workerRequest: command(WORKER.REQUEST),
  workerPartial: command(WORKER.PARTIAL),
  workerFinal: command(WORKER.FINAL),
  heartbeat: command(WORKER.HEARTBEAT),
  disconnect: command(WORKER.DISCONNECT),
}

/** Names starting with this are the broker's own services (RFC 8, MMI). */
export const MMI_PREFIX = "mmi."

/** True for a name MDP can carry: 1 to 255 bytes of UTF-8 without control characters. */
export function isServiceName(name: string): boolean {
  return serviceName(Buffer.from(name, "utf8")) !== undefined
}

/** What a broker receives from a peer, once its routing id is taken off. */
export type BrokerInbound =
  | { kind: "request"; service: string; serviceFrame: Buffer; body: Buffer[] }
  | { kind: "ready"; service: string }
  | { kind: "partial" | "final"; client: Buffer; body: Buffer[] }
  | { kind: "heartbeat" }
  | { kind: "disconnect" }
  /** MDPW02 with a command that is not one, or a command with the wrong frames: the peer is treated as invalid. */
  | { kind: "invalid-worker" }

/** What a worker receives from its broker. */
export type WorkerInbound = { kind: "request"; client: Buffer; body: Buffer[] } | { kind: "heartbeat" } | { kind: "disconnect" }

/** What a client receives from its broker. */
export interface ClientInbound {
  kind: "partial" | "final"
  service: string
  body: Buffer[]
}

const is = (frame: Buffer | undefined, header: Buffer): boolean => frame !== undefined && frame.equals(header)

/** The command byte of frame 1, or -1 if it is not exactly one byte. */
function commandOf(frames: readonly Buffer[]): number {
  const f = frames[1]
  return f !== undefined && f.length === 1 ? f[0]! : -1
}

/** A printable service name (RFC 7/18: a printable string), or undefined. */
function serviceName(frame: Buffer | undefined): string | undefined {
  if (frame === undefined || frame.length === 0 || frame.length > 255) return undefined
  for (const b of frame) if (b < 0x20 || b === 0x7f) return undefined
  return frame.toString("utf8")
}

/**
 * Parses what a broker received (without the routing id). undefined: not MDP at all (no known
 * header, or a client message with the wrong shape): the broker drops it.
 */
export function parseBrokerInbound(frames: readonly Buffer[]): BrokerInbound | undefined {
  if (is(frames[0], MDPC)) {
    if (commandOf(frames) !== CLIENT.REQUEST || frames.length < 4) return undefined
    const service = serviceName(frames[2])
    if (service === undefined) return undefined
    return { kind: "request", service, serviceFrame: frames[2]!, body: frames.slice(3) }
  }
  if (!is(frames[0], MDPW)) return undefined
  switch (commandOf(frames)) {
    case WORKER.READY: {
      const service = frames.length === 3 ? serviceName(frames[2]) : undefined
      return service === undefined ? { kind: "invalid-worker" } : { kind: "ready", service }
    }
    case WORKER.PARTIAL:
    case WORKER.FINAL: {
      const client = frames[2]
      if (frames.length < 5 || client === undefined || client.length === 0 || frames[3]!.length !== 0) return { kind: "invalid-worker" }
      return { kind: commandOf(frames) === WORKER.FINAL ? "final" : "partial", client, body: frames.slice(4) }
    }
    case WORKER.HEARTBEAT:
      return frames.length === 2 ? { kind: "heartbeat" } : { kind: "invalid-worker" }
    case WORKER.DISCONNECT:
      return frames.length === 2 ? { kind: "disconnect" } : { kind: "invalid-worker" }
    default:
      return { kind: "invalid-worker" }
  }
}

/** Parses what a worker received from its broker; undefined: invalid (dropped). */
export function parseWorkerInbound(frames: readonly Buffer[]): WorkerInbound | undefined {
  if (!is(frames[0], MDPW)) return undefined
  switch (commandOf(frames)) {
    case WORKER.REQUEST: {
      const client = frames[2]
      if (frames.length < 5 || client === undefined || client.length === 0 || frames[3]!.length !== 0) return undefined
      return { kind: "request", client, body: frames.slice(4) }
    }
    case WORKER.HEARTBEAT:
      return frames.length === 2 ? { kind: "heartbeat" } : undefined
    case WORKER.DISCONNECT:
      return frames.length === 2 ? { kind: "disconnect" } : undefined
    default:
      return undefined
  }
}

/** Parses what a client received from its broker; undefined: invalid (dropped). */
export function parseClientInbound(frames: readonly Buffer[]): ClientInbound | undefined {
  if (!is(frames[0], MDPC) || frames.length < 4) return undefined
  const cmd = commandOf(frames)
  if (cmd !== CLIENT.PARTIAL && cmd !== CLIENT.FINAL) return undefined
  const service = serviceName(frames[2])
  if (service === undefined) return undefined
  return { kind: cmd === CLIENT.FINAL ? "final" : "partial", service, body: frames.slice(3) }
}

const bodyOf = (body: readonly Buffer[]): readonly Buffer[] => (body.length === 0 ? ONE_EMPTY_FRAME : body)

/** Client REQUEST. */
export function clientRequest(service: string | Buffer, body: readonly Buffer[]): Buffer[] {
  return [MDPC, CMD.request, Buffer.from(service), ...bodyOf(body)]
}

/** Broker → client PARTIAL or FINAL (`serviceFrame` as the client sent it). */
export function clientReply(final: boolean, serviceFrame: Buffer, body: readonly Buffer[]): Buffer[] {
  return [MDPC, final ? CMD.clientFinal : CMD.clientPartial, serviceFrame, ...bodyOf(body)]
}

/** Worker READY. */
export function ready(service: string): Buffer[] {
  return [MDPW, CMD.ready, Buffer.from(service)]
}

/** Broker → worker REQUEST. */
export function workerRequest(client: Buffer, body: readonly Buffer[]): Buffer[] {
  return [MDPW, CMD.workerRequest, client, EMPTY, ...bodyOf(body)]
}

/** Worker → broker PARTIAL or FINAL. */
export function workerReply(final: boolean, client: Buffer, body: readonly Buffer[]): Buffer[] {
  return [MDPW, final ? CMD.workerFinal : CMD.workerPartial, client, EMPTY, ...bodyOf(body)]
}

/** HEARTBEAT (either direction). */
export function heartbeat(): Buffer[] {
  return [MDPW, CMD.heartbeat]
}

/** DISCONNECT (either direction). */
export function disconnect(): Buffer[] {
  return [MDPW, CMD.disconnect]
}
