// skillspark dashboard: one page, no framework, no build step.
// Every value from a run goes into the page as text (textContent / text nodes / SVG text), never as HTML.
"use strict";

const TOKEN_KEY = "skillspark-dashboard-token";
const STATUSES = ["running", "waiting", "solved", "exhausted", "cancelled", "infra_stopped", "budget_exhausted", "failed"];
const ctx = { token: null, info: null, stop: null, timers: [] };

(function takeToken() {
  const m = location.hash.match(/^#token=([A-Za-z0-9_\-.~]+)/);
  if (m) {
    sessionStorage.setItem(TOKEN_KEY, m[1]);
    history.replaceState(null, "", location.pathname + "#/");
  }
  ctx.token = sessionStorage.getItem(TOKEN_KEY);
})();

// ---- DOM helpers --------------------------------------------------------------------------
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  setAttrs(node, attrs);
  append(node, children);
  return node;
}
const SVG_NS = "http://www.w3.org/2000/svg";
function svg(tag, attrs, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  setAttrs(node, attrs);
  append(node, children);
  return node;
}
function setAttrs(node, attrs) {
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else if (k === "text") node.textContent = String(v);
    else if (k === "style") node.style.cssText = String(v); // CSSOM, not an inline style attribute (CSP)
    else node.setAttribute(k, v === true ? "" : String(v));
  }
}
function append(node, children) {
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}
function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); return node; }
const main = () => document.getElementById("main");
function badge(text, cls) { return el("span", { class: `badge ${cls || "s-" + text}` }, text); }
function fmt(x, digits = 2) { return x === null || x === undefined ? "–" : Number(x).toFixed(digits); }
function pct(x) { return x === null || x === undefined ? "–" : (100 * x).toFixed(1) + "%"; }
function money(x) { return x === null || x === undefined ? "–" : "$" + Number(x).toFixed(4); }
function ago(ns) {
  if (!ns) return "–";
  const s = Math.max(0, Date.now() / 1000 - ns / 1e9);
  if (s < 60) return `${Math.round(s)} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
}
const enc = encodeURIComponent;
function debounce(fn, ms) {
  let t = null;
  return (...a) => { clearTimeout(t); t = setTimeout(() => fn(...a), ms); ctx.timers.push(t); };
}

// ---- API and live stream ------------------------------------------------------------------
function headers(extra) {
  const h = Object.assign({}, extra || {});
  if (ctx.token) h.Authorization = "Bearer " + ctx.token;
  return h;
}
async function api(path, options) {
  const opts = Object.assign({}, options || {});
  opts.headers = headers(Object.assign({ Accept: "application/json" }, opts.headers || {}));
  const res = await fetch(path, opts);
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(body.detail ? (typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail)) : `HTTP ${res.status}`);
  return body;
}
function post(path, data) {
  return api(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(data || {}) });
}
function setLive(on) {
  const node = document.getElementById("live");
  node.textContent = on ? "● live" : "● reconnecting";
  node.className = "live " + (on ? "on" : "off");
}
// Server-sent events read through fetch, so the bearer token travels in a header, not in the URL.
function subscribe(params, handlers, cursor) {
  let stopped = false, lastId = cursor || null, controller = null;
  function dispatch(block) {
    let event = "message", data = "";
    for (const line of block.split("\n")) {
      if (!line || line.startsWith(":")) continue;
      const i = line.indexOf(":");
      const field = i < 0 ? line : line.slice(0, i);
      const value = i < 0 ? "" : line.slice(i + 1).replace(/^ /, "");
      if (field === "event") event = value;
      else if (field === "data") data += value;
      else if (field === "id") lastId = value;
    }
    if (data && handlers[event]) handlers[event](JSON.parse(data));
  }
  (async function loop() {
    while (!stopped) {
      controller = new AbortController();
      try {
        const h = headers({ Accept: "text/event-stream" });
        if (lastId) h["Last-Event-ID"] = lastId;
        const res = await fetch("/api/events?" + params, { headers: h, signal: controller.signal });
        if (!res.ok) throw new Error("HTTP " + res.status);
        setLive(true);
        const reader = res.body.getReader();
        const decoder = new TextDecoder();
        let buffer = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += decoder.decode(value, { stream: true });
          let cut;
          while ((cut = buffer.indexOf("\n\n")) >= 0) {
            dispatch(buffer.slice(0, cut));
            buffer = buffer.slice(cut + 2);
          }
        }
      } catch (e) {
        if (stopped) return;
      }
      setLive(false);
      await new Promise((r) => setTimeout(r, 2000));
    }
  })();
  return () => { stopped = true; if (controller) controller.abort(); };
}

// ---- router ------------------------------------------------------------------------------
async function route() {
  if (ctx.stop) ctx.stop();
  ctx.stop = null;
  ctx.timers.forEach(clearTimeout);
  ctx.timers = [];
  const parts = location.hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent);
  for (const a of document.querySelectorAll("[data-nav]")) a.classList.toggle("active", a.dataset.nav === (parts[0] === "skills" ? "skills" : "runs"));
  const root = clear(main());
  try {
    if (!ctx.info) ctx.info = await api("/api/info");
    if (parts[0] === "run" && parts[2] === "task") await taskPage(root, parts[1], parts.slice(3).join("/"));
    else if (parts[0] === "run" && parts[2] === "trial") await trialPage(root, parts[1], parts.slice(3).join("/"));
    else if (parts[0] === "run" && parts[2] === "compare") await comparePage(root, parts[1], parts.slice(3).join("/"));
    else if (parts[0] === "run" && parts[1]) await runPage(root, parts[1]);
    else if (parts[0] === "skills") await skillsPage(root);
    else await runsPage(root);
  } catch (e) {
    root.append(el("div", { class: "card error" }, "Could not load this page: ", e.message));
  }
}
window.addEventListener("hashchange", route);
window.addEventListener("DOMContentLoaded", route);

function crumbs(...items) {
  const node = el("div", { class: "crumbs" });
  items.forEach((item, i) => {
    if (i) node.append(" / ");
    node.append(item[1] ? el("a", { href: item[1] }, item[0]) : item[0]);
  });
  return node;
}
function tile(label, value) { return el("div", { class: "tile" }, el("div", { class: "k" }, label), el("div", { class: "v" }, value)); }

// ---- runs --------------------------------------------------------------------------------
async function runsPage(root) {
  root.append(el("h1", {}, "Runs"));
  const body = el("tbody");
  const table = el("table", {}, el("thead", {}, el("tr", {},
    ["Run", "Kind", "Status", "Tasks", "Progress", "Skills", "Cost", "Updated", "Folder"].map((h) => el("th", {}, h)))), body);
  const card = el("div", { class: "card" }, table);
  root.append(card);
  if (ctx.info.allow_launch) root.append(launchForm());
  const draw = (runs) => {
    clear(body);
    if (!runs.length) body.append(el("tr", {}, el("td", { colspan: 9, class: "empty" }, "No runs yet under ", ctx.info.roots.join(", "), ". Start one with skillspark explore … --output DIR.")));
    for (const r of runs) body.append(runRow(r));
  };
  draw(await api("/api/runs"));
  ctx.stop = subscribe("", { runs: (d) => draw(d.runs) });
}
function runRow(r) {
  const counts = r.counts || {};
  const total = r.kind === "eval" ? (r.trials_total || r.trials_done || 1) : (r.tasks || 1);
  const segments = r.kind === "eval"
    ? [["#6366f1", r.trials_done || 0]]
    : r.kind === "harbor" ? [["#22c55e", counts.pass || 0], ["#f87171", counts.fail || 0], ["#c084fc", counts.error || 0]]
    : [["#22c55e", counts.solved || 0], ["#f87171", counts.exhausted || 0], ["#60a5fa", (counts.running || 0) + (counts.waiting || 0)], ["#fbbf24", (counts.cancelled || 0) + (counts.budget_exhausted || 0) + (counts.infra_stopped || 0)]];
  const bar = el("div", { class: "bar", title: JSON.stringify(counts) }, segments.map(([c, n]) => el("span", { style: `width:${(100 * n) / total}%;background:${c}` })));
  const progress = r.kind === "eval" ? `${r.trials_done}/${r.trials_total ?? "?"} trials`
    : r.kind === "harbor" ? `${counts.pass || 0} pass · ${counts.fail || 0} fail · ${counts.error || 0} error`
    : `${counts.solved || 0} solved · ${counts.exhausted || 0} exhausted`;
  return el("tr", {},
    el("td", { class: "name" }, el("a", { href: `#/run/${enc(r.id)}` }, r.name)),
    el("td", {}, badge(r.kind, "kind")),
    el("td", {}, badge(r.status)),
    el("td", { class: "num" }, r.tasks),
    el("td", {}, bar, el("div", { class: "muted" }, progress)),
    el("td", { class: "num" }, r.kind === "explore" || r.kind === "spark" ? r.skills ?? 0 : "–"),
    el("td", { class: "num" }, money(r.cost_usd)),
    el("td", { class: "muted" }, ago(r.updated_ns)),
    el("td", { class: "muted", title: r.path }, r.path));
}
function launchForm() {
  const kind = el("select", {}, el("option", { value: "explore" }, "explore"), el("option", { value: "eval" }, "eval"));
  const paths = el("input", { type: "text", placeholder: "task dirs, comma-separated" });
  const output = el("input", { type: "text", placeholder: "output folder (inside the served folders)" });
  const model = el("input", { type: "text", placeholder: "model (default local/smollm2)" });
  const conditions = el("input", { type: "text", placeholder: "eval conditions, e.g. none, generated=runs/x" });
  const note = el("div", { class: "muted" });
  const go = el("button", { class: "primary", type: "submit" }, "Launch");
  const form = el("form", { class: "launch", onsubmit: async (e) => {
    e.preventDefault();
    const split = (s) => s.split(",").map((x) => x.trim()).filter(Boolean);
    try {
      const r = await post("/api/runs", { kind: kind.value, paths: split(paths.value), output: output.value.trim(), model: model.value.trim() || null, conditions: split(conditions.value) });
      note.textContent = `started (pid ${r.pid}) → ${r.output}`;
    } catch (err) { note.textContent = "refused: " + err.message; }
  } }, el("label", {}, "Kind"), kind, el("label", {}, "Tasks"), paths, el("label", {}, "Output"), output,
  el("label", {}, "Model"), model, el("label", {}, "Conditions"), conditions, el("span"), el("div", { class: "row" }, go, note));
  return el("details", { class: "card" }, el("summary", {}, "Launch a run"), form);
}

// ---- one run -----------------------------------------------------------------------------
async function runPage(root, id) {
  const run = await api(`/api/runs/${enc(id)}`);
  if (run.kind === "eval") return evalPage(root, run);
  if (run.kind === "harbor") return jobPage(root, run);
  const head = el("div");
  const tiles = el("div", { class: "tiles" });
  root.append(crumbs(["Runs", "#/"], [run.name]), head, tiles);
  const drawHead = (r) => {
    clear(head).append(el("div", { class: "row" }, el("h1", {}, r.name), badge(r.kind, "kind"), badge(r.status), runActions(r)));
    const c = r.counts || {};
    clear(tiles).append(tile("tasks", r.tasks), tile("solved", c.solved || 0), tile("running", (c.running || 0) + (c.waiting || 0)),
      tile("exhausted", c.exhausted || 0), tile("skills", r.skills || 0), tile("cost", money(r.cost_usd)));
  };
  drawHead(run);
  const refreshHead = debounce(async () => drawHead(await api(`/api/runs/${enc(id)}`)), 500);
  const view = { q: "", status: "", sort: "task", order: "asc", offset: 0, limit: 200 };
  const search = el("input", { type: "search", placeholder: "filter tasks…", oninput: debounce(() => { view.q = search.value; view.offset = 0; load(); }, 250) });
  const status = el("select", { onchange: () => { view.status = status.value; view.offset = 0; load(); } },
    el("option", { value: "" }, "all statuses"), STATUSES.map((s) => el("option", { value: s }, s)));
  const body = el("tbody");
  const columns = [["task", "Task"], ["attempts", "Attempt"], ["status", "Status"], ["reward", "Reward path"], ["pdi_snapshots", "PDI"], ["skill", "Skill"]];
  const headRow = el("tr", {}, columns.map(([key, label]) => el("th", { class: "sort", "data-key": key, onclick: () => {
    view.order = view.sort === key && view.order === "asc" ? "desc" : "asc";
    view.sort = key; load();
  } }, label)), ctx.info.allow_launch ? el("th", {}, "") : null);
  const pager = el("div", { class: "pager" });
  root.append(el("div", { class: "card" }, el("div", { class: "controls" }, search, status), el("table", { id: "tasks" }, el("thead", {}, headRow), body), pager));
  const rows = new Map();
  async function load() {
    const qs = new URLSearchParams({ q: view.q, status: view.status, sort: view.sort, order: view.order, offset: view.offset, limit: view.limit });
    const page = await api(`/api/runs/${enc(id)}/tasks?${qs}`);
    clear(body); rows.clear();
    for (const th of headRow.children) th.textContent = th.textContent.replace(/ [▲▼]$/, "") + (th.dataset.key === view.sort ? (view.order === "asc" ? " ▲" : " ▼") : "");
    if (!page.tasks.length) body.append(el("tr", {}, el("td", { colspan: 7, class: "empty" }, "No task matches.")));
    for (const t of page.tasks) { const tr = taskRow(id, t); rows.set(t.task, tr); body.append(tr); }
    clear(pager).append(`${page.total ? page.offset + 1 : 0}–${page.offset + page.tasks.length} of ${page.total}`,
      el("button", { disabled: page.offset === 0, onclick: () => { view.offset = Math.max(0, view.offset - view.limit); load(); } }, "‹ Prev"),
      el("button", { disabled: page.offset + page.tasks.length >= page.total, onclick: () => { view.offset += view.limit; load(); } }, "Next ›"));
    return page;
  }
  const page = await load();
  ctx.stop = subscribe(`run=${enc(id)}`, { row: (t) => {
    const old = rows.get(t.task);
    if (old) { const tr = taskRow(id, t); old.replaceWith(tr); rows.set(t.task, tr); }
    refreshHead();
  } }, page.cursor);
}
// A Harbor job folder: one row per trial, each opening its trial page.
async function jobPage(root, run) {
  const body = el("tbody");
  root.append(crumbs(["Runs", "#/"], [run.name]), el("div", { class: "row" }, el("h1", {}, run.name), badge("harbor", "kind"), badge(run.status)),
    el("div", { class: "card" }, el("table", { id: "tasks" }, el("thead", {}, el("tr", {}, ["Trial", "Task", "Status", "Reward", "Tokens", "Cost"].map((h, i) => el("th", { class: i > 2 ? "num" : "" }, h)))), body)));
  const rows = new Map();
  const row = (t) => el("tr", { "data-task": t.task }, el("td", { class: "name" }, el("a", { href: `#/run/${enc(run.id)}/trial/${enc(t.task)}` }, t.task)),
    el("td", {}, t.task_name || "–"), el("td", {}, badge(t.status)), el("td", { class: "num" }, fmt(t.reward)),
    el("td", { class: "num" }, t.tokens ?? "–"), el("td", { class: "num" }, money(t.cost_usd)));
  const page = await api(`/api/runs/${enc(run.id)}/tasks?limit=1000`);
  for (const t of page.tasks) { const tr = row(t); rows.set(t.task, tr); body.append(tr); }
  if (!page.tasks.length) body.append(el("tr", {}, el("td", { colspan: 6, class: "empty" }, "No trial finished yet.")));
  ctx.stop = subscribe(`run=${enc(run.id)}`, { row: (t) => {
    const tr = row(t), old = rows.get(t.task);
    if (old) old.replaceWith(tr); else body.append(tr);
    rows.set(t.task, tr);
  } }, page.cursor);
}
function runActions(r) {
  if (!ctx.info.allow_launch) return null;
  const note = el("span", { class: "muted" });
  const act = (label, path, cls) => el("button", { class: cls, onclick: async () => {
    try { await post(path); note.textContent = label + ": sent"; } catch (e) { note.textContent = label + ": " + e.message; }
  } }, label);
  return el("span", { class: "row" }, r.launched ? act("Cancel run", `/api/runs/${enc(r.id)}/cancel`, "danger") : null,
    r.resumable ? act("Resume", `/api/runs/${enc(r.id)}/resume`) : null, note);
}
function rewardPath(t) {
  return el("div", { class: "path" }, t.rewards.map((rw, i) => el("span", { class: `pip ${t.statuses[i] || ""}`, title: `attempt ${i + 1}: ${t.statuses[i]} reward ${fmt(rw)}` })));
}
function taskRow(runId, t) {
  const link = el("a", { href: `#/run/${enc(runId)}/task/${enc(t.task)}` }, t.task);
  const cells = [
    el("td", { class: "name" }, link),
    el("td", { class: "num" }, `${t.attempts}/${t.max_attempts ?? "?"}`),
    el("td", {}, badge(t.status), t.cancel_requested ? badge("cancel requested", "s-PARTIAL") : null),
    el("td", {}, rewardPath(t)),
    el("td", {}, t.pdi_level ? badge(t.pdi_level) : el("span", { class: "muted" }, t.pdi_snapshots ? `${t.pdi_snapshots} snapshots` : "–")),
    el("td", {}, t.skill ? badge("SKILL.md", "s-PASS") : el("span", { class: "muted" }, "–")),
  ];
  if (ctx.info.allow_launch) {
    cells.push(el("td", {}, t.status === "running" || t.status === "waiting" ? el("button", { class: "danger", onclick: async (e) => {
      e.target.disabled = true;
      try { await post(`/api/runs/${enc(runId)}/tasks/${enc(t.task)}/cancel`); } catch (err) { e.target.title = err.message; }
    } }, "Cancel") : null));
  }
  return el("tr", { "data-task": t.task }, cells);
}

// ---- one task ----------------------------------------------------------------------------
async function taskPage(root, runId, task) {
  const run = await api(`/api/runs/${enc(runId)}`);
  const url = `/api/runs/${enc(runId)}/tasks/${enc(task)}`;
  let detail = await api(url);
  const body = el("div");
  root.append(crumbs(["Runs", "#/"], [run.name, `#/run/${enc(runId)}`], [task]), body);
  const draw = () => drawTask(clear(body), runId, detail);
  draw();
  const reload = debounce(async () => { detail = await api(url); draw(); }, 150);
  ctx.stop = subscribe(`run=${enc(runId)}&task=${enc(task)}`, { record: reload, row: reload }, detail.cursor);
}
function drawTask(body, runId, d) {
  const r = d.row;
  body.append(el("div", { class: "row" }, el("h1", {}, d.task), badge(r.status),
    el("span", { class: "muted" }, `attempt ${r.attempts}/${r.max_attempts ?? "?"}`), r.pdi_level ? badge("PDI " + r.pdi_level, "s-" + r.pdi_level) : null));
  if (r.reason) body.append(el("div", { class: "muted" }, r.reason));
  body.append(el("div", { class: "card chart", id: "pdi-chart" }, el("h2", {}, "Online PDI proxy"), pdiChart(d.snapshots)));
  const left = el("div"), right = el("div");
  body.append(el("div", { class: "grid2" }, left, right));
  left.append(el("div", { class: "card", id: "attempts" }, el("h2", {}, `Attempts (${d.attempts.length})`),
    d.attempts.length ? d.attempts.map((a) => attemptCard(runId, d.task, a)) : el("div", { class: "empty" }, "No attempt finished yet.")));
  right.append(memoCard(d.memos));
  right.append(el("div", { class: "card" }, el("h2", {}, "Interventions shown to the agent"),
    d.interventions.length ? d.interventions.map((iv) => el("details", {}, el("summary", {}, `attempt ${iv.attempt + 1}: `, badge(iv.level)), el("pre", {}, iv.text)))
      : el("div", { class: "muted" }, d.attempts.some((a) => a.logs_intervention) ? "None." : "This log does not record them (original SPARK); the chart marks where the proxy triggered.")));
  if (d.evidence.length) right.append(el("div", { class: "card" }, el("h2", {}, "Distillation evidence"),
    d.evidence.map((b) => el("details", {}, el("summary", {}, b.title), el("pre", { class: "light" }, b.body)))));
  if (d.skill) body.append(skillCard(d.skill));
}
function attemptCard(runId, task, a) {
  const passedAll = a.n_tests && a.n_passed === a.n_tests;
  const tests = el("ul", { class: "tests" });
  const summaryLines = (a.test_summary || "").split("\n").filter((l) => /[✓✗]|PASS|FAIL/.test(l)).slice(0, 60);
  for (const line of summaryLines) tests.append(el("li", { class: /✗|FAIL/.test(line) ? "bad" : "ok" }, line));
  if (!summaryLines.length) for (const t of a.failed_tests || []) tests.append(el("li", { class: "bad" }, "✗ " + t));
  const recordBox = el("pre", { class: "light" }, "loading…");
  return el("div", { class: `attempt ${a.status}` },
    el("div", { class: "head" }, el("strong", {}, `Attempt ${(a.attempt ?? 0) + 1}`), badge(a.status), el("span", {}, `reward ${fmt(a.reward)}`),
      el("span", { class: passedAll ? "" : "muted" }, `${a.n_passed ?? 0}/${a.n_tests ?? 0} tests`),
      a.intervention ? badge(a.intervention + " intervention", "s-" + a.intervention) : null,
      a.trial ? el("a", { href: `#/run/${enc(runId)}/trial/${a.trial.split("/").map(enc).join("/")}` }, "trial ›") : null),
    a.error ? el("div", { class: "error" }, a.error) : null,
    tests.childElementCount ? tests : null,
    a.commands ? el("details", { open: true }, el("summary", {}, "commands"), el("pre", {}, a.commands)) : null,
    a.stdout_tail ? el("details", {}, el("summary", {}, "agent output (tail)"), el("pre", {}, a.stdout_tail)) : null,
    a.test_tail ? el("details", {}, el("summary", {}, "verifier output (tail)"), el("pre", {}, a.test_tail)) : null,
    a.line !== null && a.line !== undefined ? el("details", { ontoggle: async (e) => {
      if (!e.target.open || recordBox.dataset.done) return;
      recordBox.dataset.done = "1";
      try { recordBox.textContent = JSON.stringify(await api(`/api/runs/${enc(runId)}/tasks/${enc(task)}/records/${a.line}`), null, 2); }
      catch (err) { recordBox.textContent = err.message; }
    } }, el("summary", {}, "whole record"), recordBox) : null);
}

// The seed's figure: exec, −plan, −oss and the weighted d per reflect step, τ dashed, triggers marked.
function pdiChart(snaps) {
  if (!snaps.length) return el("div", { class: "empty" }, "No PDI snapshot yet (one is logged after each reflect step).");
  const W = 860, H = 270, L = 46, R = 16, T = 14, B = 30;
  const series = [
    ["exec", "#2563eb", (s) => s.proxy_exec, 1.5],
    ["−plan", "#f59e0b", (s) => -s.proxy_plan, 1.5],
    ["−oss", "#8b5cf6", (s) => -s.proxy_oss, 1.5],
    ["weighted d", "#111827", (s) => s.weighted_pdi, 2.6],
  ];
  const values = snaps.flatMap((s) => series.map(([, , f]) => f(s))).filter((v) => typeof v === "number");
  const lo = Math.min(-1, ...values) - 0.2, hi = Math.max(1, ...values) + 0.2;
  const x = (i) => L + (snaps.length === 1 ? (W - L - R) / 2 : (i * (W - L - R)) / (snaps.length - 1));
  const y = (v) => T + ((hi - v) * (H - T - B)) / (hi - lo);
  const chart = svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": "PDI proxy chart" });
  for (let v = Math.ceil(lo); v <= Math.floor(hi); v += 1) {
    chart.append(svg("line", { x1: L, x2: W - R, y1: y(v), y2: y(v), stroke: v === 0 ? "#98a2b3" : "#eef0f3" }),
      svg("text", { x: L - 8, y: y(v) + 4, "text-anchor": "end", "font-size": 11, fill: "#667085" }, String(v)));
  }
  chart.append(svg("line", { x1: L, x2: W - R, y1: y(-0.5), y2: y(-0.5), stroke: "#dc2626", "stroke-dasharray": "6 5", "stroke-width": 1.4 }),
    svg("text", { x: W - R - 2, y: y(-0.5) - 5, "text-anchor": "end", "font-size": 11, fill: "#dc2626" }, "τ = −0.5"));
  snaps.forEach((s, i) => chart.append(svg("text", { x: x(i), y: H - 10, "text-anchor": "middle", "font-size": 11, fill: "#667085" }, `#${(s.attempt ?? i) + 1}`)));
  chart.append(svg("text", { x: 4, y: T + 2, "font-size": 10, fill: "#98a2b3" }, "value"));
  for (const [name, color, f, width] of series) {
    const pts = snaps.map((s, i) => [x(i), f(s)]).filter(([, v]) => typeof v === "number");
    chart.append(svg("polyline", { points: pts.map(([px, v]) => `${px},${y(v)}`).join(" "), fill: "none", stroke: color, "stroke-width": width, "stroke-linejoin": "round", class: "series", "data-series": name }));
    for (const [px, v] of pts) chart.append(svg("circle", { cx: px, cy: y(v), r: 2.6, fill: color }, svg("title", {}, `${name}: ${fmt(v, 3)}`)));
  }
  snaps.forEach((s, i) => {
    if (!s.triggered || typeof s.weighted_pdi !== "number") return;
    const cx = x(i), cy = y(s.weighted_pdi);
    const mark = s.level === "strong"
      ? svg("path", { d: `M${cx} ${cy - 9} L${cx + 8} ${cy + 6} L${cx - 8} ${cy + 6} Z`, fill: "#dc2626", class: "trigger strong" })
      : svg("circle", { cx, cy, r: 7, fill: "none", stroke: "#f59e0b", "stroke-width": 2.5, class: "trigger soft" });
    mark.append(svg("title", {}, `${s.level} trigger at attempt ${(s.attempt ?? i) + 1}: d = ${fmt(s.weighted_pdi, 3)}`));
    chart.append(mark);
  });
  const legend = el("div", { class: "legend" }, series.map(([name, color]) => el("span", {}, el("i", { style: `background:${color}` }), name)),
    el("span", {}, el("i", { style: "background:#dc2626" }), "τ (dashed)"), el("span", {}, "○ soft trigger"), el("span", {}, "▲ strong trigger"),
    el("span", {}, "x: reflect step, labelled by attempt"));
  return el("div", {}, chart, legend);
}

function memoCard(memos) {
  const card = el("div", { class: "card", id: "memos" }, el("h2", {}, `Memo versions (${memos.length})`));
  if (!memos.length) { card.append(el("div", { class: "muted" }, "No memo yet.")); return card; }
  const tabs = el("div", { class: "tabs" }), view = el("div");
  let current = memos.length - 1, mode = "text";
  const draw = () => {
    clear(tabs);
    memos.forEach((m, i) => tabs.append(el("button", { class: i === current ? "on" : "", onclick: () => { current = i; draw(); } }, `v${m.version}`)));
    tabs.append(el("button", { class: mode === "diff" ? "on" : "", disabled: current === 0, onclick: () => { mode = mode === "diff" ? "text" : "diff"; draw(); } }, "diff vs previous"));
    clear(view);
    const m = memos[current];
    view.append(el("div", { class: "muted" }, `written after attempt ${(m.attempt ?? 0) + 1}`));
    if (mode === "diff" && current > 0) view.append(diffView(memos[current - 1].text, m.text));
    else view.append(el("pre", { class: "light" }, m.text));
  };
  draw();
  card.append(tabs, view);
  return card;
}
// Line diff by longest common subsequence (memos are short; very long ones fall back to whole blocks).
function diffView(a, b) {
  const x = a.split("\n"), y = b.split("\n");
  const box = el("div", { class: "diff" });
  if (x.length * y.length > 4e6) { box.append(el("div", { class: "del" }, a), el("div", { class: "add" }, b)); return box; }
  const n = x.length, m = y.length, t = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--) t[i][j] = x[i] === y[j] ? t[i + 1][j + 1] + 1 : Math.max(t[i + 1][j], t[i][j + 1]);
  let i = 0, j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && x[i] === y[j]) { box.append(el("div", {}, "  " + x[i])); i++; j++; }
    else if (j < m && (i >= n || t[i][j + 1] >= t[i + 1][j])) { box.append(el("div", { class: "add" }, "+ " + y[j])); j++; }
    else { box.append(el("div", { class: "del" }, "- " + x[i])); i++; }
  }
  return box;
}

function skillCard(skill) {
  const card = el("div", { class: "card", id: "skill" }, el("h2", {}, "SKILL.md"));
  const p = skill.pdi;
  card.append(el("div", { class: "tiles" },
    tile("φ exec", p ? fmt(p.phi_exec, 3) : "–"), tile("φ plan", p ? fmt(p.phi_plan, 3) : "–"), tile("φ oss", p ? fmt(p.phi_oss, 3) : "–"),
    tile("PDI", p ? fmt(p.pdi, 3) : "–"), tile("quadrant", p ? p.quadrant : "–"),
    tile("spec", skill.problems.length ? `${skill.problems.length} problem(s)` : "valid")));
  if (skill.problems.length) card.append(el("ul", { class: "tests" }, skill.problems.map((x) => el("li", { class: "bad" }, "✗ " + x))));
  card.append(markdown(skill.text));
  return card;
}
// A small Markdown subset (frontmatter, headings, fenced code, lists, paragraphs, `code`, **bold**), built as DOM nodes.
function markdown(text) {
  const box = el("div", { class: "md" });
  let lines = text.split("\n");
  if (lines[0] === "---") {
    const end = lines.indexOf("---", 1);
    if (end > 0) {
      const fields = lines.slice(1, end);
      box.append(el("details", { class: "fm" }, el("summary", {}, `frontmatter (${fields.length} lines)`), el("table", {}, fields.map((l) => {
        const i = l.indexOf(":");
        return el("tr", {}, el("td", { class: "muted key" }, i > 0 ? l.slice(0, i) : ""), el("td", {}, i > 0 ? l.slice(i + 1).trim() : l));
      }))));
      lines = lines.slice(end + 1);
    }
  }
  let para = [], list = null;
  const flush = () => { if (para.length) box.append(el("p", {}, inline(para.join(" ")))); para = []; list = null; };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line.startsWith("```")) {
      flush();
      const code = [];
      for (i++; i < lines.length && !lines[i].startsWith("```"); i++) code.push(lines[i]);
      box.append(el("pre", {}, code.join("\n")));
      continue;
    }
    const h = line.match(/^(#{1,6})\s+(.*)$/);
    if (h) { flush(); box.append(el(`h${Math.min(4, h[1].length + 1)}`, {}, inline(h[2]))); continue; }
    const li = line.match(/^\s*(?:[-*]|(\d+)\.)\s+(.*)$/);
    if (li) {
      if (para.length) flush();
      const tag = li[1] ? "ol" : "ul";
      if (!list || list.tagName.toLowerCase() !== tag) { list = el(tag); box.append(list); }
      list.append(el("li", {}, inline(li[2])));
      continue;
    }
    if (!line.trim()) { flush(); continue; }
    list = null;
    para.push(line);
  }
  flush();
  return box;
}
function inline(text) {
  return text.split(/(`[^`]+`|\*\*[^*]+\*\*)/).filter(Boolean).map((part) =>
    part.startsWith("`") ? el("code", {}, part.slice(1, -1)) : part.startsWith("**") ? el("strong", {}, part.slice(2, -2)) : part);
}

// ---- trial -------------------------------------------------------------------------------
async function trialView(runId, path) {
  const box = el("div");
  const base = `/api/runs/${enc(runId)}/trials/${path.split("/").map(enc).join("/")}`;
  const t = await api(base);
  const rewards = t.rewards ? Object.entries(t.rewards).map(([k, v]) => `${k} = ${v}`).join(", ") : "none";
  box.append(el("div", { class: "row" }, el("strong", {}, t.task_name || path), badge(rewards, t.rewards && Object.values(t.rewards)[0] >= 1 ? "s-PASS" : "s-FAIL")));
  if (t.exception) box.append(el("pre", { class: "light error" }, `${t.exception.exception_type || ""}: ${t.exception.exception_message || ""}`));
  if (t.refused && t.refused.length) box.append(el("div", { class: "error" }, "refused to read: " + t.refused.join("; ")));
  const steps = el("div");
  const more = el("button", {}, "Load more steps");
  let offset = 0;
  const addSteps = (page) => {
    for (const s of page.steps) steps.append(stepCard(s));
    offset = page.offset + page.steps.length;
    more.hidden = offset >= page.steps_total;
  };
  more.addEventListener("click", async () => addSteps(await api(`${base}?offset=${offset}`)));
  addSteps(t);
  box.append(el("h3", {}, `Agent trajectory (${t.steps_total} steps)`), steps, more,
    el("h3", {}, "Verifier output"), el("pre", {}, t.verifier_stdout || "(none)"));
  return box;
}
function stepCard(s) {
  const message = typeof s.message === "string" ? s.message : JSON.stringify(s.message ?? "");
  const calls = (s.tool_calls || []).map((c) => {
    const args = c.arguments || {};
    const cmd = args.command || args.cmd || args.keystrokes;
    if (!cmd) return el("pre", {}, `${c.function_name || "tool"}(${Object.keys(args).length ? JSON.stringify(args) : ""})`);
    return el("pre", {}, `$ ${Array.isArray(cmd) ? cmd.join(" ") : cmd}`);
  });
  const results = ((s.observation && s.observation.results) || []).map((r) => {
    const c = r.content;
    return el("pre", { class: "light" }, typeof c === "string" ? c : Array.isArray(c) ? c.map((p) => p.text || "").join("\n") : JSON.stringify(c));
  });
  return el("div", { class: "step" }, el("div", { class: "row" }, el("strong", {}, `step ${s.step_id ?? ""}`), badge(s.source || "?", "kind")),
    message ? el("div", { style: "white-space:pre-wrap" }, message.length > 4000 ? message.slice(0, 4000) + " …" : message) : null, calls, results);
}
async function trialPage(root, runId, path) {
  const run = await api(`/api/runs/${enc(runId)}`);
  root.append(crumbs(["Runs", "#/"], [run.name, `#/run/${enc(runId)}`], [path]), el("h1", {}, "Trial"),
    el("div", { class: "card" }, await trialView(runId, path)));
}

// ---- eval --------------------------------------------------------------------------------
const armName = (a, many) => (many ? `${a.model} · ${a.condition}` : a.condition);
async function evalPage(root, run) {
  const body = el("div");
  root.append(crumbs(["Runs", "#/"], [run.name]), body);
  const draw = async () => {
    const v = await api(`/api/runs/${enc(run.id)}/eval`);
    const r = await api(`/api/runs/${enc(run.id)}`);
    clear(body).append(el("div", { class: "row" }, el("h1", {}, run.name), badge("eval", "kind"), badge(r.status), runActions(r)),
      el("div", { class: "tiles" }, tile("trials", `${v.done}/${v.total ?? "?"}`), tile("tasks", v.grid.length), tile("arms", v.arms.length), tile("k", v.k), tile("cost", money(v.cost_usd))));
    const many = new Set(v.arms.map((a) => a.model)).size > 1;
    const s = v.summary;
    if (s) {
      body.append(el("div", { class: "card" }, el("h2", {}, "Pass rate per arm (Wilson 95% interval)"),
        el("table", {}, el("thead", {}, el("tr", {}, ["Arm", "Tasks", "Trials", "Pass rate", "Interval", "Cost / solve", "Infra errors"].map((h) => el("th", {}, h)))),
          el("tbody", {}, s.arms.map((a) => el("tr", {}, el("td", { class: "name" }, armName(a, many)), el("td", { class: "num" }, a.n_tasks), el("td", { class: "num" }, a.n_trials),
            el("td", { class: "num" }, pct(a.pass_rate)), el("td", {}, ciBar(a.wilson95, a.pass_rate, 0, 1)), el("td", { class: "num" }, money(a.cost_per_solve_usd)), el("td", { class: "num" }, a.infra_errors)))))));
      if (s.comparisons.length) body.append(el("div", { class: "card" }, el("h2", {}, "Paired Δ against the baseline (tasks as clusters)"),
        s.comparisons.map((c) => el("div", {}, el("div", { class: "row" }, el("strong", {}, `${c.condition} − ${c.baseline}`), el("span", {}, c.delta === null ? "–" : `Δ = ${(100 * c.delta).toFixed(1)} pp`),
          ciBar(c.ci95, c.delta, -1, 1), el("span", { class: "muted" }, c.p_value === null ? "" : `p = ${Number(c.p_value).toPrecision(3)}`)), el("p", { class: "muted" }, c.verdict || "")))));
    }
    const grid = el("div", { class: "card" }, el("h2", {}, "Arm × task (passes / scored trials; click a task for side-by-side transcripts)"));
    grid.append(el("table", {}, el("thead", {}, el("tr", {}, el("th", {}, "Task"), v.arms.map((a) => el("th", { class: "num" }, armName(a, many))))),
      el("tbody", {}, v.grid.map((g) => el("tr", {}, el("td", { class: "name" }, el("a", { href: `#/run/${enc(run.id)}/compare/${enc(g.task)}` }, g.task)),
        g.cells.map((c) => {
          const rate = c.trials ? c.passes / c.trials : null;
          const bg = rate === null ? "#f2f4f7" : `hsl(${Math.round(120 * rate)}, 70%, ${92 - 10 * rate}%)`;
          return el("td", { class: "cell num", style: `background:${bg}`, title: c.infra_errors ? `${c.infra_errors} infra error(s)` : "" }, c.trials || c.infra_errors ? `${c.passes}/${c.trials}` : "·");
        }))))));
    body.append(grid);
  };
  await draw();
  ctx.stop = subscribe(`run=${enc(run.id)}`, { result: debounce(draw, 400) }, null);
}
function ciBar(ci, point, lo, hi) {
  const W = 180, H = 16, x = (v) => 4 + ((v - lo) * (W - 8)) / (hi - lo);
  const box = svg("svg", { width: W, height: H, viewBox: `0 0 ${W} ${H}` }, svg("line", { x1: 4, x2: W - 4, y1: H / 2, y2: H / 2, stroke: "#eaecf0", "stroke-width": 6, "stroke-linecap": "round" }));
  if (lo < 0) box.append(svg("line", { x1: x(0), x2: x(0), y1: 1, y2: H - 1, stroke: "#98a2b3" }));
  if (ci && ci[0] !== null && ci[1] !== null) box.append(svg("line", { x1: x(ci[0]), x2: x(ci[1]), y1: H / 2, y2: H / 2, stroke: "#6366f1", "stroke-width": 6, "stroke-linecap": "round" }, svg("title", {}, `[${fmt(ci[0], 3)}, ${fmt(ci[1], 3)}]`)));
  if (point !== null && point !== undefined) box.append(svg("circle", { cx: x(point), cy: H / 2, r: 4.5, fill: "#111827" }));
  return box;
}
async function comparePage(root, runId, task) {
  const run = await api(`/api/runs/${enc(runId)}`);
  const v = await api(`/api/runs/${enc(runId)}/eval`);
  const row = v.grid.find((g) => g.task === task);
  root.append(crumbs(["Runs", "#/"], [run.name, `#/run/${enc(runId)}`], [task]), el("h1", {}, task));
  if (!row) { root.append(el("div", { class: "empty" }, "No trial of this task yet.")); return; }
  const many = new Set(v.arms.map((a) => a.model)).size > 1;
  const column = (index) => {
    const box = el("div", { class: "card" });
    const pick = el("select", {}, v.arms.map((a, i) => el("option", { value: i, selected: i === index }, armName(a, many))));
    const trials = el("div", { class: "tabs" }), view = el("div");
    const show = () => {
      const cell = row.cells[Number(pick.value)];
      clear(trials); clear(view);
      cell.runs.forEach((t) => trials.append(el("button", { onclick: async (e) => {
        for (const b of trials.children) b.classList.toggle("on", b === e.currentTarget);
        clear(view).append(t.trial_path ? await trialView(runId, t.trial_path) : el("div", { class: "muted" }, "trial folder outside the run"));
      } }, `trial ${t.trial + 1}: `, badge(t.status))));
      if (!cell.runs.length) view.append(el("div", { class: "muted" }, "No trial in this arm."));
      else trials.firstChild.click();
    };
    pick.addEventListener("change", show);
    box.append(pick, trials, view);
    show();
    return box;
  };
  root.append(el("div", { class: "cols" }, column(0), column(Math.min(1, v.arms.length - 1))));
}

// ---- skills ------------------------------------------------------------------------------
async function skillsPage(root) {
  const skills = await api("/api/skills");
  root.append(el("h1", {}, "Skills"), el("p", { class: "muted" }, `${skills.length} distilled skill(s) in the served runs. PDI is z-scored within each run; the target quadrant is low plan, high exec.`));
  root.append(el("div", { class: "card" }, el("table", {}, el("thead", {}, el("tr", {}, ["Skill", "Run", "Spec", "PDI", "Quadrant", "In evals", "Description"].map((h) => el("th", {}, h)))),
    el("tbody", {}, skills.length ? skills.map((s) => el("tr", {},
      el("td", { class: "name" }, el("a", { href: `#/run/${enc(s.run)}/task/${enc(s.task)}` }, s.name)),
      el("td", {}, el("a", { href: `#/run/${enc(s.run)}` }, s.run_name)),
      el("td", { title: s.problems.join("\n") }, s.problems.length ? badge(`${s.problems.length} problem(s)`, "s-FAIL") : badge("valid", "s-PASS")),
      el("td", { class: "num" }, s.pdi ? fmt(s.pdi.pdi, 2) : "–"),
      el("td", {}, s.pdi ? s.pdi.quadrant : "–"),
      el("td", {}, s.evals.length ? s.evals.map((u) => el("div", {}, `${u.condition}: ${u.passes}/${u.trials}`)) : el("span", { class: "muted" }, "–")),
      el("td", { class: "muted" }, s.description))) : el("tr", {}, el("td", { colspan: 7, class: "empty" }, "No SKILL.md yet."))))));
}
