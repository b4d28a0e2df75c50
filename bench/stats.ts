/** Small numeric and formatting helpers for the result table. */

export function median(xs: readonly number[]): number {
  return quantile(xs, 0.5)
}

/** Linear-interpolated quantile, q in [0, 1]. */
export function quantile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return NaN
  const s = [...xs].sort((a, b) => a - b)
  const pos = (s.length - 1) * q
  const lo = Math.floor(pos)
  const hi = Math.ceil(pos)
  return s[lo]! + (s[hi]! - s[lo]!) * (pos - lo)
}

/** (max - min) / median, as a rough noise figure across runs. */
export function spread(xs: readonly number[]): number {
  if (xs.length < 2) return 0
  return (Math.max(...xs) - Math.min(...xs)) / median(xs)
}

export function fmt(n: number, digits = 0): string {
  if (!Number.isFinite(n)) return "-"
  return n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits })
}

/** Renders rows as a Markdown table (readable in a terminal, pasteable into RESULTS.md). */
export function table(header: readonly string[], rows: readonly (readonly string[])[], rightAlign: readonly boolean[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  const cell = (s: string, i: number) => (rightAlign[i] ? s.padStart(widths[i]!) : s.padEnd(widths[i]!))
  const line = (r: readonly string[]) => `| ${r.map(cell).join(" | ")} |`
  const rule = `|${widths.map((w, i) => (rightAlign[i] ? "-".repeat(w + 1) + ":" : "-".repeat(w + 2))).join("|")}|`
  return [line(header), rule, ...rows.map(line)].join("\n")
}
