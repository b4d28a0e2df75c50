/**
 * The shapes both inproc.ts (links within a thread) and inproc-threads.ts (links between
 * threads) work with; kept apart so that neither file needs the other's types.
 */
import type { Pipe } from "../pipe/pipe.js"
import type { Metadata } from "../wire/metadata.js"

/** What a connecting socket tells the bound side about itself. */
export interface RemotePeer {
  socketType: string
  identity: Uint8Array | undefined
}

/** The metadata an inproc peer stands for (no handshake: what it declares). */
export function metadataOf(peer: RemotePeer): Metadata {
  const m: Metadata = new Map([["socket-type", Buffer.from(peer.socketType)]])
  if (peer.identity !== undefined) m.set("identity", Buffer.from(peer.identity))
  return m
}

/**
 * What a socket holds of an inproc connection: a link within this thread (InprocLink), or one
 * to another thread (RemoteLink, in inproc-threads.ts), which has only this thread's end.
 */
export interface InprocLinkLike {
  readonly connectEnd: { readonly own: Pipe }
  readonly bindEnd: { readonly own: Pipe }
  start(): void
  /** Ends the link; with a linger other than 0 what `closing`'s side queued goes first. */
  close(lingerMs: number, closing?: { readonly own: Pipe }): void
}

/**
 * A connect() waiting for (or joined to) a bound name: the connecting side's pipe and what the
 * bound side may know of it. Nothing here is a socket class, so the ZAP client (and copies of
 * omq loaded side by side, which share the default context's registry) can connect too.
 */
export interface InprocRequest {
  readonly address: string
  readonly pipe: Pipe
  /** The connecting socket's type and identity (for its peer's metadata and type check). */
  readonly peer: RemotePeer
  /** False once the connecting side is closed or has disconnected: the bound side refuses it. */
  readonly live: boolean
  /** Called by the binding socket (of this thread or another) to finish the connection. */
  joined(link: InprocLinkLike): void
  /** The link ended: the connecting side's pipe is done. */
  left(link: InprocLinkLike, pipe: Pipe): void
}
