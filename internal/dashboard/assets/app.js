// tenantpulse dashboard: plain JavaScript over the public /v1 API, charts
// by uPlot. Hash routes: #/ overview, #/tenant/{id}, #/risk, #/model,
// #/system. The open page refreshes every 2 seconds without a reload.
"use strict";

const REFRESH_MS = 2000;
const ROWS = 500; // rows of the tenants table a page shows, and each "Show more" adds
const DAY = 86400000;
const state = { range: Number(localStorage.getItem("tp.range")) || 30, sort: "jobs30d", order: "desc",
  industry: "", q: "", page: ROWS, rows: ROWS, // the table shows rows, adding page at a time
  writes: new Map() }; // Unix second -> records written then, all streams, for the last 10 minutes
const charts = new Map(); // element id -> uPlot
let page = null;          // {name, update}
let inFlight = false;
let again = false;       // a refresh was asked for while one was in flight
let generation = 0;       // bumped on navigation; a stale refresh does not draw

const $ = (sel, el = document) => el.querySelector(sel);
const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
const fmt = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });
const fmt2 = new Intl.NumberFormat("en-US", { maximumFractionDigits: 2 });
const num = (v) => (v == null ? "–" : fmt.format(v));
const pct = (v) => (v == null ? "–" : (v * 100).toFixed(1) + "%");
const day = (s) => (s ? s.slice(0, 10) : "–");
const when = (s) => (s ? s.replace("T", " ").replace(/\.\d+Z$/, "Z") : "–");

async function api(path) {
  const r = await fetch(path, { headers: { Accept: "application/json" } });
  let body = null;
  try { body = await r.json(); } catch { body = null; }
  if (!r.ok) {
    const err = new Error(`GET ${path}: ${r.status} ${body && body.message ? body.message : r.statusText}`);
    err.status = r.status;
    throw err;
  }
  return body;
}

// apiOr returns fallback when the resource is absent (404) or unavailable (503).
async function apiOr(path, fallback) {
  try { return await api(path); } catch (e) { if (e.status === 404 || e.status === 503) return fallback; throw e; }
}

// firstRows reads the first n tenants of a /v1/tenants listing (params:
// sort, order, filters), following the cursor in pages of at most
// apiPage, the API's limit.
let apiPage = 1000;
async function firstRows(params, n) {
  let out = [], cursor = "", total = 0;
  while (out.length < n) {
    const r = await api(`/v1/tenants?limit=${Math.min(apiPage, n - out.length)}&${params}${cursor ? "&cursor=" + encodeURIComponent(cursor) : ""}`);
    out = out.concat(r.tenants);
    total = r.total;
    if (!r.next) break;
    cursor = r.next;
  }
  return { tenants: out, total };
}

// The time range: the last state.range UTC days, today included.
function range() {
  const today = new Date(new Date().toISOString().slice(0, 10) + "T00:00:00Z").getTime();
  const from = new Date(today - (state.range - 1) * DAY).toISOString().slice(0, 10);
  return { from, to: new Date(today).toISOString().slice(0, 10), dates: Array.from({ length: state.range }, (_, i) => (today - (state.range - 1 - i) * DAY) / 1000) };
}

// series returns, for each date of the range, the field of the matching day.
function series(days, dates, field) {
  const by = new Map((days || []).map((d) => [Date.parse(d.date + "T00:00:00Z") / 1000, d]));
  return dates.map((t) => (by.get(t) ? by.get(t)[field] || 0 : 0));
}

const palette = ["#2f6fdb", "#d2423b", "#2e9e5b", "#d99a1e", "#7a4fd6", "#1c9aa6", "#b1497f", "#6b7a8f"];

// chart draws (or redraws) a uPlot chart in the element with id.
function chart(id, series, data, opts = {}) {
  const el = document.getElementById(id);
  if (!el || typeof uPlot === "undefined") return;
  const width = Math.max(200, el.clientWidth || 400);
  let u = charts.get(id);
  const key = JSON.stringify(series.map((s) => s.label)) + (opts.bars ? "b" : "") + (opts.xlabels || []).join("|");
  if (u && u._key === key && u.root.isConnected) {
    u.setData(data);
    return;
  }
  if (u) u.destroy();
  el.textContent = "";
  const bars = opts.bars ? uPlot.paths.bars({ size: [0.6, 60] }) : null;
  const xlabels = opts.xlabels;
  u = new uPlot({
    width, height: opts.height || 240,
    scales: {
      x: opts.bars ? { time: false, range: (u, lo, hi) => [lo - 0.5, hi + 0.5] } : { time: !xlabels && !opts.linear },
      y: opts.yRange ? { range: opts.yRange } : opts.bars ? { range: (u, lo, hi) => [Math.min(0, lo), Math.max(1, hi) * 1.1] } : {},
    },
    axes: [
      xlabels ? { values: (u, ticks) => ticks.map((t) => xlabels[t] ?? ""), rotate: -30, size: 70, gap: 4 } : (opts.linear ? { label: opts.xlabel } : {}),
      { size: 56, label: opts.ylabel },
    ],
    series: [{ label: opts.xlabel || "time" }, ...series.map((s, i) => ({
      stroke: s.color || palette[i % palette.length], fill: s.fill || (opts.bars ? (s.color || palette[i % palette.length]) + "cc" : undefined),
      width: opts.bars ? 0 : 2, paths: bars || undefined, points: { show: !!s.points }, dash: s.dash, label: s.label,
    }))],
    legend: { show: series.length > 1 || !!opts.legend },
  }, data, el);
  u._key = key;
  charts.set(id, u);
}

window.addEventListener("resize", () => {
  for (const [id, u] of charts) {
    const el = document.getElementById(id);
    if (el && u.root.isConnected) u.setSize({ width: Math.max(200, el.clientWidth), height: u.height });
  }
});

function band(risk) {
  if (!risk) return `<span class="band none" title="not scored yet">–</span>`;
  const drivers = (risk.drivers || []).map((d) => "• " + d.text).join("\n");
  return `<span class="band ${esc(risk.band)}" title="${esc(`score ${risk.score.toFixed(3)} (${risk.band})\n${drivers}`)}">${esc(risk.band)} ${risk.score.toFixed(2)}</span>`;
}

function card(label, value, id) {
  return `<div class="card"><div class="label">${esc(label)}</div><div class="value"${id ? ` id="${id}"` : ""}>${value}</div></div>`;
}

function showError(e) {
  const el = $("#error");
  if (!e) { el.hidden = true; el.textContent = ""; return; }
  el.hidden = false;
  el.textContent = e.message || String(e);
}

// ---- Overview ------------------------------------------------------------

const columns = [
  { key: "name", label: "Name" }, { key: "industry", label: "Industry" },
  { key: "users", label: "Users", num: true }, { key: "lastActivity", label: "Last activity" },
  { key: "jobs30d", label: "Jobs 30 d", num: true }, { key: "jobs90d", label: "Jobs 90 d", num: true },
  { key: "cancelRate", label: "Cancel rate", num: true }, { key: "risk", label: "Risk" },
];

function overviewPage() {
  $("#main").innerHTML = `
    <h1>Overview</h1>
    <div class="cards">${card("Tenants", "…", "n-tenants")}${card("Users", "…", "n-users")}${card("Active users (30 d)", "…", "n-active")}${card("Jobs (30 d)", "…", "n-jobs30")}${card("Churned", "…", "n-deleted")}</div>
    <div class="grid">
      <section class="panel"><h2>Jobs submitted per day, all tenants</h2><div class="chart" id="c-jobs"></div></section>
      <section class="panel"><h2>Jobs per day, top tenants (stacked)</h2><div class="chart" id="c-top"></div></section>
    </div>
    <div class="grid">
      <section class="panel"><h2>Tenants per industry</h2><div class="chart" id="c-ind"></div></section>
    </div>
    <section class="panel">
      <h2>Tenants</h2>
      <div class="tools">
        <label>Industry <select id="f-industry"><option value="">all</option></select></label>
        <label>Search <input id="f-q" type="search" placeholder="name or id" value="${esc(state.q)}"></label>
        <span class="muted" id="t-count"></span>
      </div>
      <div class="tablewrap"><table id="tenants">
        <thead><tr>${columns.map((c) => `<th class="${c.num ? "num" : ""}" aria-sort="none"><button type="button" data-sort="${c.key}">${c.label}</button></th>`).join("")}</tr></thead>
        <tbody></tbody></table></div>
      <p><button type="button" id="t-more" hidden>Show more</button></p>
    </section>`;
  $("#f-industry").addEventListener("change", (e) => { state.industry = e.target.value; state.rows = state.page; refresh(); });
  $("#f-q").addEventListener("input", (e) => { state.q = e.target.value; state.rows = state.page; refresh(); });
  $("#t-more").addEventListener("click", () => { state.rows += state.page; refresh(); });
  $("#tenants thead").addEventListener("click", (e) => {
    const b = e.target.closest("button[data-sort]");
    if (!b) return;
    const key = b.dataset.sort;
    if (state.sort === key) state.order = state.order === "asc" ? "desc" : "asc";
    else { state.sort = key; state.order = columns.find((c) => c.key === key).num || key === "risk" || key === "lastActivity" ? "desc" : "asc"; }
    refresh();
  });
  let last = null;
  return {
    name: "overview",
    async update() {
      const r = range();
      // The server sorts, filters and pages the table: the browser holds
      // the rows it shows, however many tenants there are.
      const q = state.q.trim();
      const sel = `sort=${state.sort}&order=${state.order}` + (state.industry ? `&industry=${encodeURIComponent(state.industry)}` : "") +
        (q ? `&q=${encodeURIComponent(q)}` : "");
      const [sum, list, best] = await Promise.all([api(`/v1/summary?from=${r.from}&to=${r.to}`),
        firstRows(sel, state.rows), api("/v1/tenants?sort=jobs30d&order=desc&limit=5")]);
      const top = best.tenants;
      const tops = await Promise.all(top.map((t) => api(`/v1/tenants/${encodeURIComponent(t.id)}?from=${r.from}&to=${r.to}`)));
      return { r, sum, list, all: best.total, top, tops };
    },
    draw({ r, sum, list, all, top, tops }) {
      $("#n-tenants").textContent = num(sum.tenants);
      $("#n-users").textContent = num(sum.users);
      $("#n-active").textContent = num(sum.activeUsers30d);
      $("#n-jobs30").textContent = num(sum.jobs30d);
      $("#n-deleted").textContent = num(sum.tenantsDeleted);
      chart("c-jobs", [{ label: "jobs submitted" }], [r.dates, series(sum.days, r.dates, "jobsSubmitted")]);
      // Stacked: each series is the sum of itself and the ones below it.
      const acc = r.dates.map(() => 0);
      const stacked = tops.map((t) => series(t.days, r.dates, "jobsSubmitted").map((v, i) => (acc[i] += v)));
      chart("c-top", top.map((t, i) => ({ label: t.name || t.id, fill: palette[i] + "55" })).reverse(), [r.dates, ...stacked.reverse()]);
      const inds = Object.keys(sum.industries || {});
      chart("c-ind", [{ label: "tenants" }], [inds.map((_, i) => i), inds.map((k) => sum.industries[k])], { bars: true, xlabels: inds, xlabel: "industry" });
      const sel = $("#f-industry");
      const known = [...sel.options].map((o) => o.value).slice(1).join("|");
      if (known !== inds.join("|")) {
        sel.innerHTML = `<option value="">all</option>` + inds.map((k) => `<option value="${esc(k)}">${esc(k)}</option>`).join("");
        sel.value = state.industry;
      }
      const rows = list.tenants;
      $("#t-count").textContent = (rows.length < list.total ? `the first ${num(rows.length)} of ` : "") + `${num(list.total)} of ${num(all)} tenants`;
      $("#t-more").hidden = rows.length >= list.total;
      for (const th of document.querySelectorAll("#tenants th")) {
        const k = th.querySelector("button").dataset.sort;
        th.setAttribute("aria-sort", k === state.sort ? (state.order === "asc" ? "ascending" : "descending") : "none");
      }
      const html = rows.map((t) => `<tr data-id="${esc(t.id)}">
        <td><a href="#/tenant/${encodeURIComponent(t.id)}">${esc(t.name || t.id)}</a>${t.deleted ? ' <span class="muted">(churned)</span>' : ""}</td>
        <td>${esc(t.industry)}</td><td class="num">${num(t.users)}</td><td>${day(t.lastActivity)}</td>
        <td class="num">${num(t.jobs30d)}</td><td class="num">${num(t.jobs90d)}</td><td class="num">${pct(t.cancelRate)}</td><td>${band(t.risk)}</td></tr>`).join("");
      if (html !== last) { $("#tenants tbody").innerHTML = html; last = html; }
    },
  };
}

// ---- Tenant --------------------------------------------------------------

function tenantPage(id) {
  $("#main").innerHTML = `
    <h1 id="t-name">${esc(id)}</h1>
    <div class="cards">${card("Users", "…", "t-users")}${card("Active users (30 d)", "…", "t-active")}${card("Logins", "…", "t-logins")}${card("Jobs (30 d)", "…", "t-jobs30")}${card("Jobs (90 d)", "…", "t-jobs90")}${card("Cancel rate", "…", "t-cancel")}${card("Last activity", "…", "t-last")}</div>
    <div class="grid">
      <section class="panel"><h2>Risk</h2><div id="t-risk" class="muted">not scored yet</div></section>
      <section class="panel"><h2>Profile</h2><dl class="profile" id="t-profile"></dl></section>
    </div>
    <div class="grid">
      <section class="panel"><h2>Jobs per day</h2><div class="chart" id="c-tdays"></div></section>
      <section class="panel"><h2>Jobs per hour (last 7 days at most)</h2><div class="chart" id="c-thours"></div></section>
      <section class="panel"><h2>Users added and deleted per day</h2><div class="chart" id="c-tusers"></div></section>
      <section class="panel"><h2>Logins and sessions per day</h2><div class="chart" id="c-tsessions"></div></section>
      <section class="panel"><h2>Risk score history</h2><div class="chart" id="c-trisk"></div></section>
    </div>`;
  return {
    name: "tenant",
    async update() {
      const r = range();
      const t = await api(`/v1/tenants/${encodeURIComponent(id)}?from=${r.from}&to=${r.to}`);
      // A tenant never scored has no history (404): ask only when it has a risk.
      const hist = t.risk ? await apiOr(`/v1/tenants/${encodeURIComponent(id)}/risk/history`, { history: [] }) : { history: [] };
      return { r, t, hist };
    },
    draw({ r, t, hist }) {
      $("#t-name").textContent = t.name ? `${t.name} (${t.id})` : t.id;
      $("#t-users").textContent = num(t.users);
      $("#t-active").textContent = num(t.activeUsers30d);
      $("#t-logins").textContent = num(t.logins);
      $("#t-jobs30").textContent = num(t.jobs30d);
      $("#t-jobs90").textContent = num(t.jobs90d);
      $("#t-cancel").textContent = pct(t.cancelRate);
      $("#t-last").textContent = when(t.lastActivity);
      const prof = [["Industry", t.industry], ["Plan", t.plan], ["Sentiment", t.sentiment], ["Revenue", num(t.revenue)],
        ["Employees", num(t.employees)], ["Monthly fee", fmt2.format(t.monthlyFee || 0)], ["Total fee", fmt2.format(t.totalFee || 0)],
        ["Created", when(t.created)], ["Deleted", when(t.deleted)], ["Open sessions", num(t.openSessions)], ["Running jobs", num(t.runningJobs)]];
      $("#t-profile").innerHTML = prof.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v ?? "–")}</dd>`).join("");
      if (t.risk) {
        $("#t-risk").innerHTML = `${band(t.risk)} <span class="muted">threshold ${t.risk.threshold.toFixed(2)}, ${esc(t.risk.model)}, ${when(t.risk.scoredAt)}</span>
          <ul class="drivers">${(t.risk.drivers || []).map((d) => `<li>${esc(d.text)} <span class="muted">(${d.contribution >= 0 ? "+" : ""}${d.contribution.toFixed(2)})</span></li>`).join("")}</ul>`;
      }
      const sub = series(t.days, r.dates, "jobsSubmitted");
      const failed = series(t.days, r.dates, "jobsFailed");
      const term = series(t.days, r.dates, "jobsSucceeded").map((v, i) => v + failed[i]);
      chart("c-tdays", [{ label: "submitted" }, { label: "terminated" }, { label: "cancelled" }],
        [r.dates, sub, term, series(t.days, r.dates, "jobsCancelled")]);
      const hours = t.hours || [];
      chart("c-thours", [{ label: "submitted" }, { label: "terminated" }, { label: "cancelled" }],
        [hours.map((h) => Date.parse(h.hour) / 1000), hours.map((h) => h.jobsSubmitted), hours.map((h) => h.jobsTerminated), hours.map((h) => h.jobsCancelled)]);
      chart("c-tusers", [{ label: "added" }, { label: "deleted" }], [r.dates, series(t.days, r.dates, "usersAdded"), series(t.days, r.dates, "usersDeleted")], { bars: false });
      chart("c-tsessions", [{ label: "logins" }, { label: "logoffs" }, { label: "timeouts" }],
        [r.dates, series(t.days, r.dates, "logins"), series(t.days, r.dates, "logoffs"), series(t.days, r.dates, "sessionTimeouts")]);
      const h = hist.history || [];
      chart("c-trisk", [{ label: "risk score", points: true }], [h.map((p) => Date.parse(p.scoredAt) / 1000), h.map((p) => p.score)], { yRange: [0, 1], legend: true });
    },
  };
}

// ---- At risk -------------------------------------------------------------

function riskPage() {
  $("#main").innerHTML = `
    <h1>At risk</h1>
    <div class="grid">
      <section class="panel"><h2>Highest churn risk</h2><div class="tablewrap"><table id="risky"><thead><tr><th>Tenant</th><th>Industry</th><th>Risk</th><th>Top driver</th></tr></thead><tbody></tbody></table></div></section>
      <section class="panel"><h2>Jobs in 30 days furthest below the 90-day pace</h2><div class="chart" id="c-pace"></div>
        <div class="tablewrap"><table id="pace"><thead><tr><th>Tenant</th><th class="num">Jobs 30 d</th><th class="num">Jobs 90 d</th><th class="num">30 d / 90-day pace</th></tr></thead><tbody></tbody></table></div></section>
    </div>`;
  return {
    name: "risk",
    async update() {
      const [risky, slow] = await Promise.all([api("/v1/tenants?status=live&sort=risk&order=desc&limit=30"),
        api("/v1/tenants?status=live&sort=jobsTrend&order=asc&limit=15")]);
      return { risky: risky.tenants.filter((t) => t.risk), slow: slow.tenants };
    },
    draw({ risky, slow }) {
      $("#risky tbody").innerHTML = risky.map((t) => `<tr><td><a href="#/tenant/${encodeURIComponent(t.id)}">${esc(t.name || t.id)}</a></td><td>${esc(t.industry)}</td><td>${band(t.risk)}</td><td>${esc(t.risk.drivers && t.risk.drivers[0] ? t.risk.drivers[0].text : "")}</td></tr>`).join("")
        || `<tr><td colspan="4" class="muted">no tenant is scored yet: deploy a model (PUT /v1/models/churn)</td></tr>`;
      const pace = slow.filter((t) => t.jobs90d > 0).map((t) => ({ t, ratio: t.jobsTrend }));
      $("#pace tbody").innerHTML = pace.map(({ t, ratio }) => `<tr><td><a href="#/tenant/${encodeURIComponent(t.id)}">${esc(t.name || t.id)}</a></td><td class="num">${num(t.jobs30d)}</td><td class="num">${num(t.jobs90d)}</td><td class="num">${ratio.toFixed(2)}</td></tr>`).join("");
      chart("c-pace", [{ label: "30 d / 90-day pace" }], [pace.map((_, i) => i), pace.map((p) => p.ratio)], { bars: true, xlabels: pace.map((p) => p.t.name || p.t.id), xlabel: "tenant" });
    },
  };
}

// ---- Model ---------------------------------------------------------------

function modelPage() {
  $("#main").innerHTML = `<h1>Model</h1><div id="m-none" class="panel muted" hidden>No model is deployed: train one (tenantpulse train) and deploy it (serve --model churn=FILE or PUT /v1/models/churn).</div>
    <div id="m-body" hidden>
      <div class="cards">${card("Endpoint", "…", "m-name")}${card("Type", "…", "m-type")}${card("ROC AUC", "…", "m-auc")}${card("Accuracy", "…", "m-acc")}${card("Precision", "…", "m-prec")}${card("Recall", "…", "m-rec")}${card("Threshold", "…", "m-thr")}</div>
      <section class="panel"><h2>Version</h2><dl class="profile" id="m-version"></dl></section><br>
      <div class="grid">
        <section class="panel"><h2>ROC curve (held-out rows)</h2><div class="chart" id="c-roc"></div><p class="muted" id="m-roc-note"></p></section>
        <section class="panel"><h2>What drives the scores</h2><div class="chart" id="c-imp"></div><p class="muted" id="m-imp-note"></p></section>
      </div>
      <section class="panel"><h2>Weights</h2><div class="chart" id="c-weights"></div></section>
    </div>`;
  return {
    name: "model",
    async update() {
      const list = await api("/v1/models");
      if (!list.models.length) return null;
      const name = list.models.some((m) => m.name === "churn") ? "churn" : list.models[0].name;
      return api(`/v1/models/${encodeURIComponent(name)}`);
    },
    draw(m) {
      $("#m-none").hidden = !!m;
      $("#m-body").hidden = !m;
      if (!m) return;
      $("#m-name").textContent = m.name;
      $("#m-type").textContent = m.type;
      $("#m-auc").textContent = m.metrics.auc.toFixed(4);
      $("#m-acc").textContent = m.metrics.accuracy.toFixed(4);
      $("#m-prec").textContent = m.metrics.precision.toFixed(4);
      $("#m-rec").textContent = m.metrics.recall.toFixed(4);
      $("#m-thr").textContent = m.threshold.toFixed(3);
      const tr = m.training || {};
      $("#m-version").innerHTML = [["Checksum", m.checksum], ["Trained", when(tr.trainedAt)], ["Input", tr.input], ["Rows", num(tr.rows)],
        ["Held-out rows", num(m.metrics.rows)], ["Criterion", m.criterion], ["Deployed", when(m.deployedAt)], ["Source", m.source], ["Columns", m.columns.join(", ")]]
        .map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v ?? "–")}</dd>`).join("");
      const roc = (m.metrics.roc || []).slice().sort((a, b) => a.fpr - b.fpr || a.tpr - b.tpr);
      $("#m-roc-note").textContent = roc.length ? "" : "this model file has no ROC curve (trained before it was recorded)";
      chart("c-roc", [{ label: "true positive rate" }, { label: "chance", dash: [4, 4], color: "#9aa3b2" }],
        [roc.map((p) => p.fpr), roc.map((p) => p.tpr), roc.map((p) => p.fpr)], { linear: true, xlabel: "false positive rate", yRange: [0, 1] });
      const imp = m.importance || [];
      $("#m-imp-note").textContent = imp.length ? "mean absolute contribution to the log-odds of churn on held-out rows; red raises the risk, green lowers it" : "this model file has no feature importance";
      chart("c-imp", [{ label: "raises the risk", color: "#d2423b" }, { label: "lowers the risk", color: "#2e9e5b" }],
        [imp.map((_, i) => i), imp.map((f) => (f.direction >= 0 ? f.importance : null)), imp.map((f) => (f.direction < 0 ? f.importance : null))],
        { bars: true, xlabels: imp.map((f) => f.feature), xlabel: "feature" });
      const w = m.weights || [];
      chart("c-weights", [{ label: "weight", color: "#7a4fd6" }], [w.map((_, i) => i), w.map((c) => c.weight)],
        { bars: true, xlabels: w.map((c) => (c.bin ? `${c.column} ${c.bin.text}` : c.column)), xlabel: "column" });
    },
  };
}

// ---- System --------------------------------------------------------------

function systemPage() {
  $("#main").innerHTML = `<h1>System</h1>
    <div class="grid">
      <section class="panel"><h2>Records written per second, all streams</h2><div class="chart" id="c-rate"></div></section>
      <section class="panel"><h2>Archive</h2><dl class="profile" id="s-archive"></dl></section>
    </div>
    <section class="panel"><h2>Streams and shards</h2><div class="tablewrap"><table id="streams"><thead><tr><th>Stream</th><th>Shard</th><th class="num">Retention (h)</th><th class="num">Records written</th><th class="num">Records/s</th><th class="num">Bytes/s</th><th>Last sequence number</th></tr></thead><tbody></tbody></table></div></section><br>
    <section class="panel"><h2>Processor</h2><div class="tablewrap"><table id="proc"><thead><tr><th>Stream</th><th>Shard</th><th class="num">Lag (ms)</th><th class="num">Records</th><th class="num">Events</th><th class="num">Duplicates</th><th class="num">Dead letters</th><th>Watermark</th><th>Checkpoint</th></tr></thead><tbody></tbody></table></div></section><br>
    <section class="panel"><h2>Dead letters <span class="muted" id="s-dl-total"></span></h2><div class="tablewrap"><table id="dead"><thead><tr><th>Arrival</th><th>Stream</th><th>Tenant</th><th>Reason</th></tr></thead><tbody></tbody></table></div></section>`;
  return {
    name: "system",
    async update() {
      const [streams, proc, dead, arch] = await Promise.all([apiOr("/v1/streams", { streams: [] }), api("/v1/processor"),
        api("/v1/dead-letters?limit=20"), apiOr("/v1/archive", null)]);
      return { streams, proc, dead, arch };
    },
    draw({ streams, proc, dead, arch }) {
      const rows = [];
      // Each answer has the last 60 seconds (the current one still
      // counting): they replace what an earlier answer said of them.
      const end = Date.parse(streams.recentEnd) / 1000, secs = new Map();
      for (const s of streams.streams || []) {
        (s.recentRecords || []).forEach((n, i, all) => { const t = end - (all.length - 1 - i); secs.set(t, (secs.get(t) || 0) + n); });
        for (const sh of s.shards || []) {
          rows.push(`<tr><td>${esc(s.name)}</td><td>${esc(sh.shardId)}</td><td class="num">${num(s.retentionHours)}</td><td class="num">${num(sh.recordsWritten)}</td><td class="num">${fmt2.format(sh.recordsPerSecond || 0)}</td><td class="num">${num(sh.bytesPerSecond)}</td><td class="muted">${esc(sh.lastSequenceNumber || "–")}</td></tr>`);
        }
      }
      $("#streams tbody").innerHTML = rows.join("") || `<tr><td colspan="7" class="muted">no streams</td></tr>`;
      for (const [t, n] of secs) state.writes.set(t, n);
      for (const t of state.writes.keys()) if (t <= end - 600) state.writes.delete(t);
      const ts = [...state.writes.keys()].sort((a, b) => a - b);
      chart("c-rate", [{ label: "records" }], [ts, ts.map((t) => state.writes.get(t))]);
      $("#proc tbody").innerHTML = proc.shards.map((s) => `<tr><td>${esc(s.stream)}</td><td>${esc(s.shard)}</td><td class="num">${num(s.millisBehindLatest)}</td><td class="num">${num(s.records)}</td><td class="num">${num(s.events)}</td><td class="num">${num(s.duplicates)}</td><td class="num">${num(s.deadLetters)}</td><td>${when(s.watermark)}</td><td>${when(s.lastCheckpoint)}</td></tr>`).join("");
      $("#s-dl-total").textContent = `(${num(dead.total)} in all)`;
      $("#dead tbody").innerHTML = dead.deadLetters.map((d) => `<tr><td>${when(d.arrival)}</td><td>${esc(d.stream)}</td><td>${esc(d.tenantid || "–")}</td><td>${esc(d.reason)}</td></tr>`).join("") || `<tr><td colspan="4" class="muted">none</td></tr>`;
      $("#s-archive").innerHTML = arch ? [["Records read", num(arch.records)], ["Events stored", num(arch.events)], ["Invalid records stored", num(arch.errors)],
        ["Files stored", num(arch.files)], ["Bytes stored", num(arch.fileBytes)], ["Still buffered", num(arch.records - arch.events - arch.errors - arch.skipped)]]
        .map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join("") : `<dt>Archive</dt><dd>off (archive_store: none)</dd>`;
    },
  };
}

// ---- Routing and refresh -------------------------------------------------

function route() {
  const h = location.hash.replace(/^#/, "") || "/";
  generation++;
  for (const u of charts.values()) u.destroy();
  charts.clear();
  let name;
  if (h.startsWith("/tenant/")) { page = tenantPage(decodeURIComponent(h.slice(8))); name = "overview"; }
  else if (h === "/risk") { page = riskPage(); name = "risk"; }
  else if (h === "/model") { page = modelPage(); name = "model"; }
  else if (h === "/system") { page = systemPage(); name = "system"; }
  else { page = overviewPage(); name = "overview"; }
  for (const a of document.querySelectorAll("nav a")) {
    const cur = a.dataset.page === name;
    a.classList.toggle("current", cur);
    if (cur) a.setAttribute("aria-current", "page"); else a.removeAttribute("aria-current");
  }
  $("#main").focus({ preventScroll: true });
  refresh();
}

async function refresh() {
  if (!page) return;
  if (inFlight) { again = true; return; }
  inFlight = true;
  again = false;
  const gen = generation, p = page;
  try {
    const data = await p.update();
    if (gen === generation) {
      p.draw(data);
      showError(null);
      $("#live").classList.remove("stale");
      document.body.dataset.updated = String(Date.now());
    }
  } catch (e) {
    if (gen === generation) { showError(e); $("#live").classList.add("stale"); }
  } finally {
    inFlight = false;
    if (again) refresh(); // the state changed meanwhile (a sort, a filter, a keystroke)
  }
}

function setRange(n) {
  state.range = n;
  localStorage.setItem("tp.range", String(n));
  for (const b of document.querySelectorAll(".range button")) b.setAttribute("aria-pressed", String(Number(b.dataset.range) === n));
}

document.querySelector(".range").addEventListener("click", (e) => {
  const b = e.target.closest("button[data-range]");
  if (!b) return;
  setRange(Number(b.dataset.range));
  refresh();
});
if (typeof uPlot === "undefined") showError(new Error("charts are unavailable: this binary was built without uPlot (run make build)"));
setRange([7, 30, 90].includes(state.range) ? state.range : 30);
window.addEventListener("hashchange", route);
route();
setInterval(refresh, REFRESH_MS);
