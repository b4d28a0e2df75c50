/**
 * The monitor of the zeromq 5.x API: `sock.monitor()` makes the socket emit libzmq's monitor
 * events under their 5.x names, each as `(value, endpoint, error)`. They are read from the
 * socket's Observer (omq's `sock.events`), which pushes events as they happen.
 */
import type { Event, EventType, Observer } from "../observer.js"

/** Observer event type → 5.x event name. Events 5.x did not have (handshakes, end) are not emitted. */
const V5_NAMES: Partial<Record<EventType, string>> = {
  connect: "connect",
  "connect:delay": "connect_delay",
  "connect:retry": "connect_retry",
  bind: "listen",
  "bind:error": "bind_error",
  accept: "accept",
  "accept:error": "accept_error",
  close: "close",
  "close:error": "close_error",
  disconnect: "disconnect",
}

/** A monitor event as 5.x emitted it: `sock.on(name, (value, endpoint, error) => …)`. */
export interface V5Event {
  name: string
  /** connect_retry: the reconnect interval (ms); the *_error events: the errno; else undefined. */
  value: number | undefined
  endpoint: string | undefined
  error: Error | undefined
}

/** The 5.x form of an Observer event, or undefined for events 5.x had no name for. */
export function toV5Event(e: Event): V5Event | undefined {
  const name = V5_NAMES[e.type]
  if (name === undefined) return undefined
  let value: number | undefined
  if (e.type === "connect:retry") value = e.interval
  else if (e.type.endsWith(":error")) value = (e.error as { errno?: number } | undefined)?.errno ?? 0
  return { name, value, endpoint: e.address, error: e.error }
}

let warned = false

/**
 * 5.x polled its monitor every `interval` ms for up to `numEvents` events; omq's events are
 * pushed, so the arguments mean nothing. Says so once per process.
 */
export function warnMonitorArguments(interval: unknown, numEvents: unknown): void {
  if (warned || (!interval && !numEvents)) return
  warned = true
  process.emitWarning("monitor(interval, numEvents): the arguments are ignored by omq/v5-compat; every event is emitted as it happens")
}

/**
 * Reads an Observer until it ends (socket closed, or unmonitor()) and hands each event that
 * has a 5.x name to `emit`. An error while reading (not after the end) goes to `fail`.
 */
export async function pumpEvents(events: Observer, emit: (e: V5Event) => void, fail: (err: unknown) => void): Promise<void> {
  try {
    for await (const e of events) {
      const v5 = toV5Event(e)
      if (v5 !== undefined) emit(v5)
    }
  } catch (err) {
    if (!events.closed) fail(err)
  }
}
