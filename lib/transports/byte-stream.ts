/**
 * What a connection engine needs of a connection: an ordered, reliable duplex byte stream
 * with back-pressure. `node:net`'s Socket is one as it is (tcp, ipc); a transport whose
 * connections are something else (a WebSocket, say) hands the engine an adapter with this shape.
 *
 * The engine relies on Node stream semantics: `write()` returns false once `writableLength`
 * reaches `writableHighWaterMark` and 'drain' follows when it falls again; 'data' stops after
 * `pause()`; 'finish' follows `end()` once everything written was handed on; 'close' comes last.
 */
export interface ByteStream {
  write(chunk: Buffer): boolean
  /** Ends our side, after writing `chunk` when one is given. */
  end(): unknown
  end(chunk: Buffer): unknown
  /** Groups the writes until uncork() into one (a writev for sockets). */
  cork(): void
  uncork(): void
  pause(): unknown
  resume(): unknown
  /** Closes at once; buffered writes are dropped. */
  destroy(): unknown
  /** Bytes accepted by write() but not yet handed on. */
  readonly writableLength: number
  readonly writableHighWaterMark: number
  /** end() was called and everything has been handed on; `writableLength` > 0 while it is still going. */
  readonly writableEnded: boolean

  on(event: "data", listener: (chunk: Buffer) => void): unknown
  on(event: "error", listener: (err: Error) => void): unknown
  on(event: "end" | "close" | "drain" | "finish", listener: () => void): unknown
  once(event: "error", listener: (err: Error) => void): unknown
  once(event: "end" | "close" | "drain" | "finish", listener: () => void): unknown
  removeAllListeners(): unknown
}
