/**
 * The web view's page: one HTML document and one script, served as they are (no build step, no
 * front-end dependency). The script reads /api/events (Server-Sent Events: the overview every
 * second) and calls the JSON API of server.ts; every element a test looks for has a data-testid.
 */

export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>omq queue device</title>
<style>
  :root { --fg: #1d2330; --muted: #6b7385; --line: #e3e6ee; --bg: #f6f7fb; --card: #fff; --accent: #2f6fed; --bad: #c0392b; --ok: #1e8e3e; --warn: #b7791f; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
  header { display: flex; align-items: center; gap: 24px; padding: 12px 20px; background: #141a26; color: #e8ebf3; }
  header h1 { font-size: 16px; margin: 0; font-weight: 600; }
  header .facts { display: flex; gap: 18px; color: #aab3c7; font-size: 13px; }
  header .facts b { color: #fff; font-weight: 600; }
  #live { margin-left: auto; font-size: 12px; }
  #live.on::before { content: "\\25CF "; color: #3ddc84; }
  #live.off::before { content: "\\25CF "; color: #f05a5a; }
  main { padding: 16px 20px; display: grid; gap: 16px; }
  .card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; }
  .card h2 { font-size: 14px; margin: 0 0 10px; display: flex; gap: 10px; align-items: center; }
  table { border-collapse: collapse; width: 100%; }
  th, td { text-align: right; padding: 5px 8px; border-bottom: 1px solid var(--line); white-space: nowrap; }
  th:first-child, td:first-child, th.l, td.l { text-align: left; }
  th { font-weight: 600; color: var(--muted); font-size: 12px; }
  tbody tr[data-queue] { cursor: pointer; }
  tbody tr[data-queue]:hover, tbody tr.selected { background: #eef3ff; }
  td.dead { color: var(--bad); font-weight: 600; }
  .badge { font-size: 11px; padding: 1px 7px; border-radius: 9px; background: #fde7c8; color: var(--warn); font-weight: 600; }
  button { font: inherit; padding: 4px 10px; border: 1px solid var(--line); border-radius: 5px; background: #fff; cursor: pointer; }
  button:hover { border-color: var(--accent); color: var(--accent); }
  button.danger:hover { border-color: var(--bad); color: var(--bad); }
  .row { display: flex; gap: 8px; align-items: center; flex-wrap: wrap; }
  .tabs button.active { background: var(--accent); color: #fff; border-color: var(--accent); }
  svg.chart { width: 100%; height: 140px; background: #fbfcff; border: 1px solid var(--line); border-radius: 6px; }
  .legend span { margin-right: 14px; font-size: 12px; }
  .legend i { display: inline-block; width: 10px; height: 3px; margin-right: 4px; vertical-align: middle; }
  pre { background: #f3f5fa; padding: 8px; border-radius: 6px; overflow: auto; max-height: 260px; margin: 6px 0; font-size: 12px; }
  .muted { color: var(--muted); }
  #error { color: var(--bad); }
  .hidden { display: none; }
</style>
</head>
<body>
<header>
  <h1>omq queue device</h1>
  <div class="facts" data-testid="device">
    <span>role <b id="role">-</b></span><span>store <b id="store">-</b></span>
    <span>up <b id="uptime">-</b></span><span>clients <b id="clients">-</b></span><span id="user"></span>
  </div>
  <span id="live" class="off" data-testid="live">connecting</span>
</header>
<main>
  <div id="error" data-testid="error"></div>
  <section class="card">
    <h2>Queues <span class="muted" id="count"></span></h2>
    <table data-testid="queues">
      <thead><tr>
        <th class="l">queue</th><th>ready</th><th>delayed</th><th>reserved</th><th>dead</th><th>total</th>
        <th>oldest</th><th>redeliveries</th><th>bytes</th><th>consumers</th><th>put/s</th><th>ack/s</th><th>nack/s</th><th class="l">put/s, 5 min</th>
      </tr></thead>
      <tbody id="queue-rows"></tbody>
    </table>
  </section>
  <section class="card hidden" id="detail" data-testid="detail">
    <h2><span id="detail-name"></span><span class="badge hidden" id="paused" data-testid="paused">paused</span></h2>
    <div class="row">
      <button id="pause" data-testid="pause">Pause</button>
      <button id="resume" data-testid="resume">Resume</button>
      <button id="purge" class="danger" data-testid="purge">Purge ready</button>
      <span class="muted" id="action-result" data-testid="action-result"></span>
    </div>
    <div class="legend" style="margin-top:10px">
      <span><i style="background:#2f6fed"></i>puts/s</span><span><i style="background:#1e8e3e"></i>acks/s</span><span><i style="background:#c0392b"></i>nacks/s</span><span class="muted" id="chart-max"></span>
    </div>
    <svg class="chart" id="chart" data-testid="chart" viewBox="0 0 600 140" preserveAspectRatio="none"></svg>
    <div id="groups-card" class="hidden">
      <h2 style="margin-top:12px">Consumer groups</h2>
      <table data-testid="groups"><thead><tr><th class="l">group</th><th>ready</th><th>reserved</th><th>dead</th><th>lag</th><th>cursor</th><th>consumers</th></tr></thead><tbody id="group-rows"></tbody></table>
    </div>
    <div class="row tabs" style="margin-top:12px">
      <button data-state="buried" class="active" data-testid="tab-buried">Dead letters</button>
      <button data-state="ready" data-testid="tab-ready">Ready</button>
      <button data-state="delayed" data-testid="tab-delayed">Delayed</button>
      <button data-state="reserved" data-testid="tab-reserved">Reserved</button>
      <button id="kick-all" data-testid="kick-all">Kick all</button>
    </div>
    <table data-testid="messages" style="margin-top:8px">
      <thead><tr><th class="l">seq</th><th class="l">reason</th><th>attempts</th><th class="l">last consumer</th><th class="l">when</th><th>bytes</th><th></th></tr></thead>
      <tbody id="message-rows"></tbody>
    </table>
    <div id="viewer" class="hidden" data-testid="viewer">
      <h2 style="margin-top:12px">Message <span id="viewer-seq"></span></h2>
      <div class="muted">headers</div><pre id="viewer-headers"></pre>
      <div class="row tabs" id="body-tabs">
        <button data-as="text" class="active" data-testid="as-text">Text</button>
        <button data-as="hex" data-testid="as-hex">Hex</button>
        <button data-as="cbor" data-testid="as-cbor">CBOR</button>
      </div>
      <pre id="viewer-body" data-testid="viewer-body"></pre>
    </div>
  </section>
</main>
<script src="/app.js"></script>
</body>
</html>
`

export const APP_JS = `"use strict"
const $ = (id) => document.getElementById(id)
const state = { overview: null, selected: null, tab: "buried", message: null, as: "text" }
const fmt = (n) => (typeof n === "number" ? (Math.abs(n) >= 100 || Number.isInteger(n) ? Math.round(n).toLocaleString("en") : n.toFixed(1)) : "-")
const bytes = (n) => (n < 1024 ? n + " B" : n < 1048576 ? (n / 1024).toFixed(1) + " KiB" : (n / 1048576).toFixed(1) + " MiB")
const age = (ms) => (ms <= 0 ? "-" : ms < 1000 ? ms + " ms" : ms < 60000 ? (ms / 1000).toFixed(1) + " s" : ms < 3600000 ? Math.round(ms / 60000) + " min" : (ms / 3600000).toFixed(1) + " h")
const when = (t) => (t ? new Date(t).toLocaleTimeString() : "-")
function el(tag, attrs, ...children) {
  const e = document.createElement(tag)
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v)
    else e.setAttribute(k, v)
  }
  for (const c of children) e.append(c === null || c === undefined ? "" : c)
  return e
}
async function api(method, path, body) {
  const r = await fetch(path, { method, headers: body === undefined ? {} : { "Content-Type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) })
  const data = await r.json().catch(() => ({}))
  if (!r.ok) throw new Error((data.error && data.error.code ? data.error.code + ": " : "") + ((data.error && data.error.message) || r.statusText))
  return data
}
const qpath = (name, action) => "/api/queues/" + encodeURIComponent(name) + "/" + action
function sparkline(values) {
  const w = 120, h = 22, max = Math.max(1, ...values)
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg")
  svg.setAttribute("width", w); svg.setAttribute("height", h); svg.setAttribute("viewBox", "0 0 " + w + " " + h)
  const pts = values.map((v, i) => (values.length < 2 ? 0 : (i * w) / (values.length - 1)).toFixed(1) + "," + (h - 1 - (v / max) * (h - 2)).toFixed(1)).join(" ")
  const line = document.createElementNS("http://www.w3.org/2000/svg", "polyline")
  line.setAttribute("points", pts); line.setAttribute("fill", "none"); line.setAttribute("stroke", "#2f6fed"); line.setAttribute("stroke-width", "1.5")
  svg.append(line)
  return svg
}
function chart(q) {
  const svg = $("chart")
  svg.replaceChildren()
  const series = [["puts", "#2f6fed"], ["acks", "#1e8e3e"], ["nacks", "#c0392b"]]
  const n = Math.max(2, q.history.puts.length)
  const max = Math.max(1, ...series.flatMap(([k]) => q.history[k]))
  for (const [k, color] of series) {
    const vs = q.history[k]
    const pts = vs.map((v, i) => ((i + n - vs.length) * 600 / (n - 1)).toFixed(1) + "," + (136 - (v / max) * 128).toFixed(1)).join(" ")
    const line = document.createElementNS("http://www.w3.org/2000/svg", "polyline")
    line.setAttribute("points", pts); line.setAttribute("fill", "none"); line.setAttribute("stroke", color); line.setAttribute("stroke-width", "2")
    line.setAttribute("vector-effect", "non-scaling-stroke"); line.setAttribute("data-series", k)
    svg.append(line)
  }
  $("chart-max").textContent = "last " + Math.round(n) + " s, top " + fmt(max) + "/s"
}
function render() {
  const o = state.overview
  if (!o) return
  const d = o.device
  $("role").textContent = d.role || "leader"
  $("store").textContent = d.store || (d.fsync ? "file, fsync " + d.fsync : "-")
  $("uptime").textContent = age(d.uptime || 0)
  $("clients").textContent = fmt(d.clients || 0)
  $("user").textContent = o.user === null ? "" : "user " + (o.user || "(anonymous)")
  $("count").textContent = o.queues.length + (o.queues.length === 1 ? " queue" : " queues")
  const rows = o.queues.map((q) =>
    el("tr", { "data-queue": q.name, "data-testid": "queue-row", class: q.name === state.selected ? "selected" : "", onclick: () => select(q.name) },
      el("td", {}, (q.namespace ? q.namespace + " / " : "") + q.name, q.paused ? el("span", { class: "badge", style: "margin-left:6px" }, "paused") : ""),
      el("td", { "data-col": "ready" }, fmt(q.ready)),
      el("td", { "data-col": "delayed" }, fmt(q.delayed)),
      el("td", { "data-col": "reserved" }, fmt(q.reserved)),
      el("td", { "data-col": "buried", class: q.buried > 0 ? "dead" : "" }, fmt(q.buried)),
      el("td", { "data-col": "total" }, fmt(q.total)),
      el("td", { "data-col": "oldest" }, age(q.oldestAge)),
      el("td", { "data-col": "redeliveries" }, fmt(q.redeliveries)),
      el("td", { "data-col": "bytes" }, bytes(q.bytes)),
      el("td", { "data-col": "consumers" }, fmt(q.consumers)),
      el("td", { "data-col": "puts-rate" }, fmt(q.rates.puts)),
      el("td", { "data-col": "acks-rate" }, fmt(q.rates.acks)),
      el("td", { "data-col": "nacks-rate" }, fmt(q.rates.nacks)),
      el("td", { class: "l" }, sparkline(q.history.puts)),
    ),
  )
  $("queue-rows").replaceChildren(...rows)
  const q = o.queues.find((x) => x.name === state.selected)
  $("detail").classList.toggle("hidden", !q)
  if (!q) return
  $("detail-name").textContent = (q.namespace ? q.namespace + " / " : "") + q.name
  $("paused").classList.toggle("hidden", !q.paused)
  chart(q)
  const groups = q.stream ? Object.entries(q.stream.groups) : []
  $("groups-card").classList.toggle("hidden", groups.length === 0)
  $("group-rows").replaceChildren(...groups.map(([name, g]) => el("tr", { "data-testid": "group-row" },
    el("td", {}, name), el("td", {}, fmt(g.ready)), el("td", {}, fmt(g.reserved)), el("td", {}, fmt(g.buried)), el("td", {}, fmt(g.lag)), el("td", {}, g.cursor === null ? "-" : String(g.cursor)), el("td", {}, fmt(g.consumers)))))
}
let messagesLoading = 0
async function loadMessages() {
  if (!state.selected) return
  const mine = ++messagesLoading
  try {
    const r = await api("GET", qpath(state.selected, "messages") + "?state=" + state.tab + "&count=100")
    if (mine !== messagesLoading) return
    $("message-rows").replaceChildren(...r.messages.map((m) => el("tr", { "data-testid": "message-row", "data-seq": String(m.seq), onclick: () => show(m) },
      el("td", {}, String(m.seq)),
      el("td", { class: "l" }, m.buryReason || ""),
      el("td", {}, String(m.attempts)),
      el("td", { class: "l" }, m.lastConsumer || ""),
      el("td", { class: "l" }, when(m.buriedAt || m.readyAt || m.putAt)),
      el("td", {}, bytes(m.bytes)),
      el("td", {}, state.tab === "buried" ? el("button", { "data-testid": "kick", onclick: (ev) => { ev.stopPropagation(); act("kick", { seq: m.seq }) } }, "Kick") : ""),
    )))
    $("error").textContent = ""
  } catch (err) {
    $("error").textContent = err.message
  }
}
function hex(b64) {
  const s = atob(b64)
  let out = ""
  for (let i = 0; i < s.length; i++) out += s.charCodeAt(i).toString(16).padStart(2, "0") + (i % 16 === 15 ? "\\n" : " ")
  return out
}
function show(m) {
  state.message = m
  $("viewer").classList.remove("hidden")
  $("viewer-seq").textContent = String(m.seq)
  $("viewer-headers").textContent = JSON.stringify(m.headers, null, 2)
  const as = state.as
  $("viewer-body").textContent = as === "hex" ? hex(m.body) : as === "cbor" ? (m.cbor === undefined ? "(not CBOR)" : JSON.stringify(m.cbor, null, 2)) : m.text === undefined ? "(not UTF-8 text: see Hex)" : m.text
  for (const b of $("body-tabs").querySelectorAll("button")) b.classList.toggle("active", b.dataset.as === as)
}
async function act(action, body) {
  try {
    const r = await api("POST", qpath(state.selected, action), body || {})
    $("action-result").textContent = action + ": " + JSON.stringify(r)
    $("error").textContent = ""
  } catch (err) {
    $("error").textContent = err.message
  }
  await loadMessages()
}
function select(name) {
  state.selected = name
  state.message = null
  $("viewer").classList.add("hidden")
  render()
  loadMessages()
}
for (const b of document.querySelectorAll(".tabs button[data-state]")) b.addEventListener("click", () => {
  state.tab = b.dataset.state
  for (const x of document.querySelectorAll(".tabs button[data-state]")) x.classList.toggle("active", x === b)
  loadMessages()
})
for (const b of $("body-tabs").querySelectorAll("button")) b.addEventListener("click", () => { state.as = b.dataset.as; if (state.message) show(state.message) })
$("kick-all").addEventListener("click", () => act("kick", { all: true }))
$("pause").addEventListener("click", () => act("pause"))
$("resume").addEventListener("click", () => act("resume"))
$("purge").addEventListener("click", () => { if (confirm("Drop every ready and delayed message of " + state.selected + "?")) act("purge", { states: ["ready", "delayed"] }) })
function connect() {
  const es = new EventSource("/api/events")
  es.addEventListener("overview", (ev) => {
    const data = JSON.parse(ev.data)
    $("live").className = "on"
    $("live").textContent = "live"
    if (data.error) { $("error").textContent = data.error.code + ": " + data.error.message; return }
    const first = state.overview === null
    state.overview = data
    render()
    if (first && !state.selected && data.queues.length > 0) select(data.queues[0].name)
    else if (state.selected && state.tab === "buried") loadMessages()
  })
  es.onerror = () => { $("live").className = "off"; $("live").textContent = "reconnecting" }
}
connect()
`
