/**
 * Subscription structures, keyed by byte prefixes. Matching walks the
 * topic's bytes once, so its cost grows with the topic length, not with the
 * number of subscriptions.
 *
 * - `SubscriptionTrie` (publisher side, libzmq's `mtrie`): prefix → set of
 *   pipes. A pipe is subscribed to a prefix or not; the subscriber side does
 *   the counting and cancels only when its own count drops to zero.
 * - `PrefixCounter` (subscriber side, libzmq's `trie`): prefix → count, so
 *   subscribing twice and unsubscribing once leaves the prefix subscribed.
 */

class Node<V> {
  children: Map<number, Node<V>> | null = null
  value: V | null = null
}

function walk<V>(root: Node<V>, prefix: Buffer, create: boolean): Node<V>[] | null {
  const path: Node<V>[] = [root]
  let node = root
  for (let i = 0; i < prefix.length; i++) {
    let next = node.children?.get(prefix[i]!)
    if (next === undefined) {
      if (!create) return null
      next = new Node<V>()
      ;(node.children ??= new Map()).set(prefix[i]!, next)
    }
    node = next
    path.push(node)
  }
  return path
}

/** Removes nodes left with neither a value nor children, from the leaf up. */
function prune<V>(path: Node<V>[], prefix: Buffer, empty: (v: V | null) => boolean): void {
  for (let i = path.length - 1; i > 0; i--) {
    const node = path[i]!
    if (!empty(node.value) || (node.children !== null && node.children.size > 0)) return
    path[i - 1]!.children!.delete(prefix[i - 1]!)
  }
}

export class SubscriptionTrie<P> {
  private readonly root = new Node<Set<P>>()
  /** Scratch list of matching nodes' pipe sets, reused across matches. */
  private readonly hits: Set<P>[] = []

  /** Subscribes `pipe` to `prefix`. True when the prefix had no subscriber before. */
  add(prefix: Buffer, pipe: P): boolean {
    const path = walk(this.root, prefix, true)!
    const node = path[path.length - 1]!
    const first = node.value === null || node.value.size === 0
    ;(node.value ??= new Set()).add(pipe)
    return first
  }

  /** Unsubscribes `pipe` from `prefix`. Returns whether it was subscribed and whether the prefix is now unsubscribed by all. */
  remove(prefix: Buffer, pipe: P): { removed: boolean; last: boolean } {
    const path = walk(this.root, prefix, false)
    if (path === null) return { removed: false, last: false }
    const node = path[path.length - 1]!
    if (node.value === null || !node.value.delete(pipe)) return { removed: false, last: false }
    const last = node.value.size === 0
    if (last) {
      node.value = null
      prune(path, prefix, (v) => v === null || v.size === 0)
    }
    return { removed: true, last }
  }

  /** Removes every subscription of `pipe`; calls `onRemoved(prefix, last)` for each. */
  removePipe(pipe: P, onRemoved: (prefix: Buffer, last: boolean) => void): void {
    const visit = (node: Node<Set<P>>, bytes: number[]): void => {
      if (node.value !== null && node.value.delete(pipe)) {
        const last = node.value.size === 0
        if (last) node.value = null
        onRemoved(Buffer.from(bytes), last)
      }
      if (node.children !== null) {
        for (const [byte, child] of node.children) {
          bytes.push(byte)
          visit(child, bytes)
          bytes.pop()
          if (child.value === null && (child.children === null || child.children.size === 0)) node.children.delete(byte)
        }
      }
    }
    visit(this.root, [])
  }

  /**
   * Calls `fn` once for every pipe subscribed to a prefix of `topic`
   * (a pipe matching through several prefixes is reported once).
   */
  match(topic: Buffer, fn: (pipe: P) => void): void {
    const hits = this.hits
    hits.length = 0
    let node: Node<Set<P>> | undefined = this.root
    let i = 0
    for (;;) {
      if (node.value !== null && node.value.size > 0) hits.push(node.value)
      if (i >= topic.length || node.children === null) break
      node = node.children.get(topic[i++]!)
      if (node === undefined) break
    }
    if (hits.length === 1) {
      for (const p of hits[0]!) fn(p)
    } else if (hits.length > 1) {
      // Several matching prefixes: report each pipe once.
      const seen = new Set<P>()
      for (const pipes of hits) {
        for (const p of pipes) {
          if (!seen.has(p)) {
            seen.add(p)
            fn(p)
          }
        }
      }
    }
    hits.length = 0
  }

  /** All prefixes with at least one subscriber. */
  *prefixes(): IterableIterator<Buffer> {
    const stack: Array<[Node<Set<P>>, number[]]> = [[this.root, []]]
    while (stack.length > 0) {
      const [node, bytes] = stack.pop()!
      if (node.value !== null && node.value.size > 0) yield Buffer.from(bytes)
      if (node.children !== null) for (const [b, c] of node.children) stack.push([c, [...bytes, b]])
    }
  }
}

export class PrefixCounter {
  private readonly root = new Node<number>()
  private total = 0

  /** Number of distinct subscribed prefixes. */
  get size(): number {
    return this.total
  }

  /** Counts one more subscription; true when the prefix was not subscribed before. */
  add(prefix: Buffer): boolean {
    const path = walk(this.root, prefix, true)!
    const node = path[path.length - 1]!
    node.value = (node.value ?? 0) + 1
    if (node.value === 1) this.total++
    return node.value === 1
  }

  /** Counts one subscription less; true when the prefix is now not subscribed at all. */
  remove(prefix: Buffer): boolean {
    const path = walk(this.root, prefix, false)
    if (path === null) return false
    const node = path[path.length - 1]!
    if (node.value === null || node.value === 0) return false
    node.value--
    if (node.value > 0) return false
    node.value = null
    this.total--
    prune(path, prefix, (v) => v === null || v === 0)
    return true
  }

  /** True when some subscribed prefix is a prefix of `topic`. */
  matches(topic: Buffer): boolean {
    let node: Node<number> | undefined = this.root
    let i = 0
    for (;;) {
      if (node.value !== null && node.value > 0) return true
      if (i >= topic.length || node.children === null) return false
      node = node.children.get(topic[i++]!)
      if (node === undefined) return false
    }
  }

  /**
   * Every subscribed prefix (once each, regardless of its count), in the order libzmq's trie
   * resends them to a new publisher: a prefix before its extensions, siblings by ascending byte.
   */
  *prefixes(): IterableIterator<Buffer> {
    const stack: Array<[Node<number>, number[]]> = [[this.root, []]]
    while (stack.length > 0) {
      const [node, bytes] = stack.pop()!
      if (node.value !== null && node.value > 0) yield Buffer.from(bytes)
      if (node.children === null) continue
      // Pushed in descending byte order, so they are popped in ascending order.
      const children = [...node.children].sort((a, b) => b[0] - a[0])
      for (const [b, c] of children) stack.push([c, [...bytes, b]])
    }
  }
}
