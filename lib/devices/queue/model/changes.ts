/**
 * What the model tells its journal: typed state changes (a union tagged by
 * `kind`), and the Journal interface it writes them to.
 *
 * In the spirit of beanstalkd's walwrite/walresvupdate: the model decides,
 * the journal only records. Every change the model makes to durable state
 * is appended as one Change; recovery hands the same Changes back to
 * QueueModel.apply, which makes them through the same code the live
 * operations use. Leases, waits and subscriptions are not durable and have
 * no Change.
 */
import type { GroupConfig, QueueConfig } from "../backend.js"
import type { SavedEntry } from "./queue-state.js"
import type { Done, PutResult, BatchPutResult } from "../backend.js"
import type { QueueError } from "../errors.js"
import type { QueueMessage } from "./message.js"
import type { RetryPolicy } from "./retry.js"

/** A stored message's immutable fields (and its readyAt / expiresAt when stored). QueueMessage is one. */
export interface MessageData {
  readonly seq: number
  readonly putAt: number
  readonly priority: number
  readonly readyAt: number
  readonly ttr: number
  readonly expiresAt: number
  readonly queueName: string
  readonly id: string | undefined
  readonly retry: Partial<RetryPolicy> | undefined
  readonly headers: Buffer
  readonly body: Buffer
  /** Ordering key (stored only when set: records PutX). */
  readonly key?: string | undefined
  /** Who put it. */
  readonly producer?: string | undefined
}

/** How a checkpoint saves a message (a lease does not survive a restart: leased ones are saved ready or delayed). */
export type SavedState = "ready" | "delayed" | "buried"

export type Change =
  /** A message was put (not visible until committed). */
  | { readonly kind: "put"; readonly msg: MessageData }
  /** Messages put together: stored all or none. */
  | { readonly kind: "put-batch"; readonly msgs: readonly MessageData[] }
  /** Messages settled for good. */
  | { readonly kind: "ack"; readonly seqs: readonly number[] }
  /** Back to ready, or delayed until readyAt, after a failed or abandoned delivery. */
  | { readonly kind: "release"; readonly seq: number; readonly attempts: number; readonly readyAt: number }
  /** Into its queue's dead letters. */
  | {
      readonly kind: "bury"
      readonly seq: number
      readonly attempts: number
      readonly buriedAt: number
      readonly reason: string
      readonly lastConsumer: string
    }
  /** Dead letters back to ready at `at`, attempts reset, TTL cleared. */
  | { readonly kind: "kick"; readonly at: number; readonly seqs: readonly number[] }
  /** A queue's whole config (replacing the previous one). */
  | { readonly kind: "config"; readonly queue: string; readonly config: QueueConfig }
  // Streams and consumer groups (model/streams.ts).
  /** The queue became a stream (its first group). */
  | { readonly kind: "stream"; readonly queue: string }
  /** A group created (from `floor`) or its config replaced. */
  | { readonly kind: "group"; readonly queue: string; readonly group: string; readonly config: GroupConfig; readonly floor: number }
  | { readonly kind: "group-delete"; readonly queue: string; readonly group: string }
  /** A group's cursor moved to `seq` (replay). */
  | { readonly kind: "seek"; readonly queue: string; readonly group: string; readonly seq: number }
  /** The group settled these stored messages. */
  | { readonly kind: "group-ack"; readonly queue: string; readonly group: string; readonly seqs: readonly number[] }
  | {
      readonly kind: "group-release"
      readonly queue: string
      readonly group: string
      readonly seq: number
      readonly attempts: number
      readonly readyAt: number
    }
  | {
      readonly kind: "group-bury"
      readonly queue: string
      readonly group: string
      readonly seq: number
      readonly attempts: number
      readonly buriedAt: number
      readonly reason: string
      readonly lastConsumer: string
    }
  | { readonly kind: "group-kick"; readonly queue: string; readonly group: string; readonly at: number; readonly seqs: readonly number[] }
  /** Retention dropped the stream's stored messages below `below`. */
  | { readonly kind: "trim"; readonly queue: string; readonly below: number }
  /** Checkpoint: a group, what it settled in [floor, cursor) as seq ranges, and its entries that were retried or dead. */
  | {
      readonly kind: "snapshot-group"
      readonly queue: string
      readonly group: string
      readonly config: GroupConfig
      readonly floor: number
      readonly ranges: readonly number[]
      readonly entries: readonly (SavedEntry & { seq: number })[]
    }
  // Checkpoints: a snapshot of the state as a sequence of changes (see Snapshot).
  | { readonly kind: "snapshot-head"; readonly segment: number; readonly nextSeq: number; readonly createdAt: number }
  | {
      readonly kind: "snapshot-message"
      readonly state: SavedState
      readonly attempts: number
      readonly readyAt: number
      readonly expiresAt: number
      readonly buriedAt: number
      readonly reason: string
      readonly lastConsumer: string
      readonly msg: MessageData
    }
  | { readonly kind: "snapshot-dedup"; readonly queue: string; readonly id: string; readonly seq: number; readonly at: number }
  | { readonly kind: "snapshot-end"; readonly messages: number }

export type ChangeKind = Change["kind"]

/**
 * What the model does once a write is committed (durable per the journal's
 * policy). Kept by the journal, handed back in order; never inspected by it.
 */
export type Commit =
  /** A put: visible from now on, then confirmed. */
  | { readonly kind: "put"; readonly msg: QueueMessage; readonly done: Done<PutResult> }
  /** A batch put: all visible together, then confirmed. */
  | { readonly kind: "put-batch"; readonly msgs: readonly QueueMessage[]; readonly result: BatchPutResult; readonly done: Done<BatchPutResult> }
  /** Any other write's confirmation. */
  | { readonly kind: "confirm"; readonly done: (error: QueueError | null) => void }

/** A frozen copy of the state, for a checkpoint (QueueModel.snapshot). */
export interface Snapshot {
  readonly nextSeq: number
  readonly createdAt: number
  readonly configs: readonly { queue: string; config: QueueConfig }[]
  /** snapshot-message changes, one per live message. */
  readonly messages: readonly Extract<Change, { kind: "snapshot-message" }>[]
  readonly dedup: readonly Extract<Change, { kind: "snapshot-dedup" }>[]
  /** Streams and their groups, written before the messages. */
  readonly streams: readonly Extract<Change, { kind: "stream" | "snapshot-group" }>[]
}

/** Where the model writes its changes (journal/file-journal.ts, memory-backend.ts). */
export interface Journal {
  /** Appends one change; returns the bytes it takes (the stats' `bytes`). Throws once the journal has failed. */
  append(change: Change): number
  /** `c` reaches onCommit once everything appended before it is committed; in the order given. */
  afterCommit(c: Commit): void
  /** Receives committed Commits in order; `error` set if their write failed (they did not happen). */
  onCommit: (commits: Commit[], error: Error | undefined) => void
  /** Set once a write failed: nothing more is accepted. */
  readonly failed: Error | undefined
}
