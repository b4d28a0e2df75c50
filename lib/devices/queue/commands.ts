/**
 * The protocol's vocabulary, shared by the device (server/) and the client
 * (client/): command names, reply kinds and the protocol version. One list,
 * so a command added here is known to both sides (HELLO reports it, the
 * client has its frame) and neither can drift from the other.
 * docs/queue-protocol.md is the reference for what each one does.
 */

export const PROTOCOL_VERSION = 1

/** Request commands, in the order HELLO lists them. */
export const COMMANDS = [
  "HELLO",
  "PUT",
  "PUTB",
  "RESERVE",
  "CONSUME",
  "CREDIT",
  "CANCEL",
  "ACK",
  "NACK",
  "TOUCH",
  "BURY",
  "KICK",
  "PEEK",
  "STATS",
  "CONFIG",
  "GROUP",
  "UNGROUP",
  "SEEK",
  "RANGE",
  "TRACE",
  "PURGE",
] as const
export type Command = (typeof COMMANDS)[number]

/** Each command's frame as sent on the wire (ASCII name). */
export const COMMAND_FRAMES = Object.fromEntries(COMMANDS.map((c) => [c, Buffer.from(c, "latin1")])) as Record<Command, Buffer>

/** First frame of a reply: success, failure; of a delivery to a CONSUME subscription; of a liveness probe. */
export const OK = Buffer.from("OK")
export const ERR = Buffer.from("ERR")
export const MSG = Buffer.from("MSG")
export const PING = Buffer.from("PING")
