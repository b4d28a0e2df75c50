import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { PrefixCounter, SubscriptionTrie } from "../../lib/routing/subscription-trie.js"

const b = (s: string) => Buffer.from(s)

describe("SubscriptionTrie (publisher side: prefix -> set of pipes)", () => {
  it("matches every pipe subscribed to a prefix of the topic, once each", () => {
    const t = new SubscriptionTrie<string>()
    t.add(b(""), "all")
    t.add(b("a"), "A")
    t.add(b("ab"), "AB")
    t.add(b("ab"), "A")
    t.add(b("b"), "B")
    const got: string[] = []
    t.match(b("abc"), (p) => got.push(p))
    expect(got.sort()).toEqual(["A", "AB", "all"])
  })

  it("reports the first subscriber and the last unsubscriber of a prefix", () => {
    const t = new SubscriptionTrie<string>()
    expect(t.add(b("x"), "p1")).toBe(true)
    expect(t.add(b("x"), "p2")).toBe(false)
    expect(t.add(b("x"), "p1")).toBe(false) // a set: no count per pipe
    expect(t.remove(b("x"), "p1")).toEqual({ removed: true, last: false })
    expect(t.remove(b("x"), "p1")).toEqual({ removed: false, last: false })
    expect(t.remove(b("x"), "p2")).toEqual({ removed: true, last: true })
    expect([...t.prefixes()]).toEqual([])
  })

  it("removes all of a pipe's subscriptions at once", () => {
    const t = new SubscriptionTrie<string>()
    t.add(b("a"), "p")
    t.add(b("abc"), "p")
    t.add(b("abc"), "q")
    const removed: Array<[string, boolean]> = []
    t.removePipe("p", (prefix, last) => removed.push([prefix.toString(), last]))
    expect(removed.sort()).toEqual([
      ["a", true],
      ["abc", false],
    ])
    const got: string[] = []
    t.match(b("abcd"), (p) => got.push(p))
    expect(got).toEqual(["q"])
  })

  it("agrees with a naive model on random subscriptions (property)", () => {
    const bytes = fc.uint8Array({ maxLength: 4 }).map((u) => Buffer.from(u.map((x) => x % 3)))
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.boolean(), bytes, fc.integer({ min: 0, max: 3 })), { maxLength: 60 }),
        fc.array(bytes, { maxLength: 10 }),
        (ops, topics) => {
          const t = new SubscriptionTrie<number>()
          const model = new Map<string, Set<number>>()
          for (const [add, prefix, pipe] of ops) {
            const key = prefix.toString("hex")
            if (add) {
              t.add(prefix, pipe)
              if (!model.has(key)) model.set(key, new Set())
              model.get(key)!.add(pipe)
            } else {
              t.remove(prefix, pipe)
              model.get(key)?.delete(pipe)
            }
          }
          for (const topic of topics) {
            const expected = new Set<number>()
            for (const [key, pipes] of model) {
              if (topic.subarray(0, key.length / 2).toString("hex") === key && key.length / 2 <= topic.length) {
                for (const p of pipes) expected.add(p)
              }
            }
            const got: number[] = []
            t.match(topic, (p) => got.push(p))
            expect(got.sort()).toEqual([...expected].sort())
          }
        },
      ),
      { numRuns: 300 },
    )
  })
})

describe("PrefixCounter (subscriber side: counted prefixes)", () => {
  it("subscribe twice + unsubscribe once = still subscribed", () => {
    const c = new PrefixCounter()
    expect(c.add(b("news"))).toBe(true)
    expect(c.add(b("news"))).toBe(false)
    expect(c.remove(b("news"))).toBe(false)
    expect(c.matches(b("news/today"))).toBe(true)
    expect(c.remove(b("news"))).toBe(true)
    expect(c.matches(b("news/today"))).toBe(false)
    expect(c.remove(b("news"))).toBe(false)
    expect(c.size).toBe(0)
  })

  it("the empty prefix matches everything, binary prefixes match bytes", () => {
    const c = new PrefixCounter()
    c.add(Buffer.from([0, 255]))
    expect(c.matches(Buffer.from([0, 255, 7]))).toBe(true)
    expect(c.matches(Buffer.from([0, 254]))).toBe(false)
    c.add(b(""))
    expect(c.matches(b("anything"))).toBe(true)
    expect([...c.prefixes()].map((p) => p.toString("hex")).sort()).toEqual(["", "00ff"])
  })

  it("prefixes() lists them as libzmq resends them on connect: a prefix before its extensions, siblings by ascending byte", () => {
    const c = new PrefixCounter()
    for (const p of ["js", "luna", "a", "lu", "jsx", ""]) c.add(b(p))
    expect([...c.prefixes()].map((p) => p.toString())).toEqual(["", "a", "js", "jsx", "lu", "luna"])
  })
})
